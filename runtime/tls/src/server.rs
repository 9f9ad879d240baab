//! Serving an axum router over TCP, with or without TLS, with the limits every Strato listener
//! keeps: a deadline for the TLS handshake and the request head, and a cap on open connections.
//! Each request carries the [`Peer`] it came from, so routes can ask for a role or for loopback.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::CertificateDer;
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::error::TlsError;
use crate::files::{MemberTls, ServerIdentity};
use crate::role::{peer_ips, peer_roles, MemberRole};
use crate::verify::RoleClientVerifier;

/// Which client certificates a TLS listener asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// The handshake fails without a certificate of one of these roles.
    Required(Vec<MemberRole>),
    /// Clients without a certificate get through the handshake; [`Peer`] tells routes which.
    Optional,
}

/// Per-listener limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// TLS handshake, and then each request head, must arrive within this (slowloris).
    pub header_read_timeout: Duration,
    /// Connections beyond this wait in the kernel's backlog until one closes.
    pub max_connections: usize,
    /// After shutdown, open connections get this long to finish (event streams never do).
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            drain: Duration::from_secs(5),
        }
    }
}

/// Who sent a request: its address and, over mutual TLS, what its certificate grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub addr: SocketAddr,
    /// True when the connection is TLS (with or without a client certificate).
    pub tls: bool,
    pub roles: Vec<MemberRole>,
    /// The addresses the client certificate names.
    pub ips: Vec<IpAddr>,
}

impl Peer {
    pub fn plain(addr: SocketAddr) -> Self {
        Self {
            addr,
            tls: false,
            roles: Vec::new(),
            ips: Vec::new(),
        }
    }

    fn from_certificates(addr: SocketAddr, certs: Option<&[CertificateDer<'_>]>) -> Self {
        let end_entity = certs.and_then(<[_]>::first);
        Self {
            addr,
            tls: true,
            roles: end_entity.map(|c| peer_roles(c)).unwrap_or_default(),
            ips: end_entity.map(|c| peer_ips(c)).unwrap_or_default(),
        }
    }

    pub fn has_role(&self, role: MemberRole) -> bool {
        self.roles.contains(&role)
    }

    /// A verified cluster member (any role).
    pub fn is_member(&self) -> bool {
        !self.roles.is_empty()
    }

    pub fn is_loopback(&self) -> bool {
        self.addr.ip().is_loopback()
    }
}

/// The rustls server configuration for a member's listener.
pub fn server_config(tls: &MemberTls, auth: ClientAuth) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (allowed, mandatory) = match auth {
        ClientAuth::Required(roles) => (roles, true),
        ClientAuth::Optional => (
            vec![MemberRole::Master, MemberRole::Agent, MemberRole::Operator],
            false,
        ),
    };
    let verifier = RoleClientVerifier::new(
        Arc::clone(&tls.roots),
        Arc::clone(&provider),
        allowed,
        mandatory,
    )
    .map_err(|message| TlsError::Config {
        path: "<cluster CA>".into(),
        message,
    })?;
    let config = builder(provider)?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(tls.chain.clone(), tls.key.clone_key());
    finish(config, "<member certificate>")
}

/// The rustls server configuration of a public listener (the gateway on 443): server
/// authentication only, so browsers and DC/OS tools connect without a client certificate.
pub fn public_server_config(identity: &ServerIdentity) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = builder(provider)?
        .with_no_client_auth()
        .with_single_cert(identity.chain.clone(), identity.key.clone_key());
    finish(config, "<gateway certificate>")
}

/// rustls's safe default protocol versions on `provider`, up to the choice of client auth.
fn builder(
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<rustls::ConfigBuilder<ServerConfig, rustls::WantsVerifier>, TlsError> {
    ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config {
            path: "<tls>".into(),
            message: e.to_string(),
        })
}

/// HTTP/2 and HTTP/1.1 offered by ALPN; `what` names the certificate in an error.
fn finish(
    config: Result<ServerConfig, rustls::Error>,
    what: &str,
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = config.map_err(|e| TlsError::Config {
        path: what.into(),
        message: e.to_string(),
    })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `router` on `listener` until `shutdown` resolves, over TLS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<Arc<ServerConfig>>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tls.map(TlsAcceptor::from);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let acceptor = acceptor.clone();
        let builder = Arc::clone(&builder);
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let Some(acceptor) = acceptor else {
                let service = with_peer(router, Peer::plain(addr));
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let _ = watcher.watch(conn.into_owned()).await;
                return;
            };
            let handshake =
                tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await;
            let stream = match handshake {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::debug!(%addr, %error, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%addr, "TLS handshake timed out");
                    return;
                }
            };
            let peer = Peer::from_certificates(addr, stream.get_ref().1.peer_certificates());
            let service = with_peer(router, peer);
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let _ = watcher.watch(conn.into_owned()).await;
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("connections still open after the drain period were dropped");
    }
    Ok(())
}

/// The router as a hyper service whose requests carry `peer` as an extension.
fn with_peer(router: axum::Router, peer: Peer) -> TowerToHyperService<axum::Router> {
    TowerToHyperService::new(router.layer(axum::Extension(peer)))
}
