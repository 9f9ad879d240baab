//! Listening on UDP and TCP and running until shutdown.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::Name;
use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

use crate::error::DnsError;
use crate::forward::Forwarder;
use crate::handler::Handler;
use crate::view::DnsView;

/// How long a TCP client may stay idle before the server drops the connection.
const TCP_IDLE: Duration = Duration::from_secs(10);
/// Responses queued per TCP connection before the server stops reading from it.
const TCP_RESPONSE_BUFFER: usize = 32;

/// Where the server listens and what it is authoritative for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsConfig {
    /// UDP and TCP on the same address. Port 0 picks a free port (the same one for both).
    pub bind: SocketAddr,
    /// e.g. `strato`: names are `<app>.marathon.strato`, `leader.strato`, `master.strato`.
    pub domain: String,
    /// Upstreams for names outside `domain`; empty ⇒ such queries are REFUSED.
    pub resolvers: Vec<SocketAddr>,
}

impl DnsConfig {
    /// Builds a config from the master's TOML values: `bind` is an IP, `resolvers` are IPs with an
    /// optional port (`8.8.8.8`, `10.0.0.2:5353`, `[2001:db8::1]:53`); port 53 when none is given.
    pub fn from_strings(
        bind: &str,
        port: u16,
        domain: &str,
        resolvers: &[String],
    ) -> Result<Self, DnsError> {
        let ip: IpAddr = bind.parse().map_err(|_| DnsError::Address {
            key: "bind",
            value: bind.to_string(),
        })?;
        let resolvers = resolvers
            .iter()
            .map(|r| {
                parse_resolver(r).ok_or_else(|| DnsError::Address {
                    key: "resolvers",
                    value: r.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            bind: SocketAddr::new(ip, port),
            domain: domain.to_string(),
            resolvers,
        })
    }
}

fn parse_resolver(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    text.parse::<SocketAddr>().ok().or_else(|| {
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

/// Sockets bound and ready; [`DnsServer::run`] answers on them.
pub struct DnsServer {
    config: DnsConfig,
    udp: UdpSocket,
    tcp: TcpListener,
}

impl DnsServer {
    /// Binds UDP and TCP. With port 0 the TCP listener takes the port UDP was given; the
    /// kernel picks UDP ports without looking at TCP, so a port already taken over TCP is
    /// handed back and another one asked for.
    pub async fn bind(config: DnsConfig) -> Result<Self, DnsError> {
        Name::from_ascii(&config.domain).map_err(|source| DnsError::Domain {
            domain: config.domain.clone(),
            source,
        })?;
        let attempts = if config.bind.port() == 0 { 16 } else { 1 };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let udp = UdpSocket::bind(config.bind)
                .await
                .map_err(|source| DnsError::BindUdp {
                    addr: config.bind,
                    source,
                })?;
            let addr = udp.local_addr().map_err(|source| DnsError::BindUdp {
                addr: config.bind,
                source,
            })?;
            match TcpListener::bind(addr).await {
                Ok(tcp) => return Ok(Self { config, udp, tcp }),
                Err(source)
                    if source.kind() == std::io::ErrorKind::AddrInUse && attempt < attempts =>
                {
                    continue;
                }
                Err(source) => return Err(DnsError::BindTcp { addr, source }),
            }
        }
    }

    /// The address both listeners are on (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.udp.local_addr().unwrap_or(self.config.bind)
    }

    /// Answers queries until `shutdown` resolves.
    pub async fn run(
        self,
        view: Arc<dyn DnsView>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), DnsError> {
        let addr = self.local_addr();
        let handler = Handler {
            domain: self
                .config
                .domain
                .trim_end_matches('.')
                .to_ascii_lowercase(),
            view,
            forwarder: Forwarder::new(&self.config.resolvers)?,
        };
        let mut server = Server::new(handler);
        server.register_socket(self.udp);
        server.register_listener(self.tcp, TCP_IDLE, TCP_RESPONSE_BUFFER);
        tracing::info!(%addr, domain = %self.config.domain, "dns listening");
        shutdown.await;
        server
            .shutdown_gracefully()
            .await
            .map_err(|source| DnsError::Serve { addr, source })
    }
}

/// Binds and answers until `shutdown` resolves (the contract's one-call entry point).
pub async fn serve(
    config: DnsConfig,
    view: Arc<dyn DnsView>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DnsError> {
    DnsServer::bind(config).await?.run(view, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_from_the_masters_strings_defaults_resolver_ports_to_53() {
        let resolvers = vec![
            "8.8.8.8".to_string(),
            "10.0.0.2:5353".to_string(),
            "[::1]:53".to_string(),
        ];
        let config =
            DnsConfig::from_strings("127.0.0.1", 8053, "strato", &resolvers).expect("config");
        assert_eq!(config.bind, "127.0.0.1:8053".parse().expect("addr"));
        let expected: Vec<SocketAddr> = ["8.8.8.8:53", "10.0.0.2:5353", "[::1]:53"]
            .iter()
            .map(|a| a.parse().expect("addr"))
            .collect();
        assert_eq!(config.resolvers, expected);
    }

    #[test]
    fn bad_addresses_name_their_key() {
        let err = DnsConfig::from_strings("nope", 53, "strato", &[]).expect_err("bad bind");
        assert_eq!(err.to_string(), "bind = \"nope\" is not an IP address");
        let err = DnsConfig::from_strings("0.0.0.0", 53, "strato", &["dns.example".into()])
            .expect_err("bad resolver");
        assert_eq!(
            err.to_string(),
            "resolvers = \"dns.example\" is not an IP address (with an optional port)"
        );
    }
}
