//! A local port forward (`ssh -L 127.0.0.1:0:host:port`): the installer reaches the bootstrap
//! server's API on a node through it. Each accepted TCP connection gets its own `direct-tcpip`
//! channel on the session's one connection.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::error::SshError;
use crate::session::Session;

/// A running forward. Connections to [`LocalForward::local_addr`] reach the remote end;
/// dropping the value stops accepting (connections already open finish on their own).
#[derive(Debug)]
pub struct LocalForward {
    local_addr: SocketAddr,
    remote: String,
    accept_loop: JoinHandle<()>,
}

impl LocalForward {
    /// The loopback address to connect to, with the port the OS picked.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `host:port` as seen from the SSH server.
    pub fn remote(&self) -> &str {
        &self.remote
    }
}

impl Drop for LocalForward {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl Session {
    /// Listen on `127.0.0.1:0` and forward each connection to `remote_host:remote_port` as seen
    /// from the server (e.g. `127.0.0.1:9443` for a service bound to the node's loopback).
    pub async fn forward_local(
        &self,
        remote_host: &str,
        remote_port: u16,
    ) -> Result<LocalForward, SshError> {
        let remote = format!("{remote_host}:{remote_port}");
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|source| SshError::ForwardBind {
                target: remote.clone(),
                source,
            })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| SshError::ForwardBind {
                target: remote.clone(),
                source,
            })?;
        let session = self.clone();
        let remote_host = remote_host.to_string();
        let accept_loop = tokio::spawn(async move {
            loop {
                let (socket, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // E.g. out of file descriptors: back off instead of spinning.
                        tracing::warn!(error = %e, "port forward accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let session = session.clone();
                let remote_host = remote_host.clone();
                tokio::spawn(async move {
                    if let Err(e) = pipe(&session, socket, peer, &remote_host, remote_port).await {
                        tracing::warn!(host = %session.host(), error = %e, "port forward connection failed");
                    }
                });
            }
        });
        Ok(LocalForward {
            local_addr,
            remote,
            accept_loop,
        })
    }
}

async fn pipe(
    session: &Session,
    mut socket: tokio::net::TcpStream,
    peer: SocketAddr,
    remote_host: &str,
    remote_port: u16,
) -> Result<(), SshError> {
    let channel = session
        .inner
        .handle
        .channel_open_direct_tcpip(
            remote_host,
            u32::from(remote_port),
            peer.ip().to_string(),
            u32::from(peer.port()),
        )
        .await
        .map_err(|source| SshError::Protocol {
            host: session.host(),
            step: "open forward channel",
            source,
        })?;
    let mut stream = channel.into_stream();
    // Either side closing ends the copy; errors here are the peer hanging up.
    let _ = tokio::io::copy_bidirectional(&mut socket, &mut stream).await;
    Ok(())
}
