//! The bootstrap server's own certificate: issued at every start from the cluster CA in its PKI
//! directory (uploaded there by `strato deploy`), for the names nodes reach it by, so nodes
//! download the tree over HTTPS trusting only the cluster CA (`templates/scripts/fetch.sh.tera`).
//! It is held in memory only: a restart after a CA change serves a certificate of the new CA.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use strato_tls::rustls::ServerConfig;
use strato_tls::{ClientAuth, ClusterCa, MemberRequest, MemberRole, MemberTls, TlsError};

/// The names a serving certificate covers: loopback (the CLI's SSH tunnel and local probes),
/// the listening address unless it is a wildcard, and the host of `serve_url`.
pub fn serving_names(listen: SocketAddr, serve_url: Option<&str>) -> (Vec<IpAddr>, Vec<String>) {
    let mut ips = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    let mut dns = vec!["localhost".to_string()];
    if !listen.ip().is_unspecified() {
        ips.push(listen.ip());
    }
    match serve_url
        .and_then(|u| url::Url::parse(u).ok())
        .as_ref()
        .and_then(url::Url::host)
    {
        Some(url::Host::Ipv4(ip)) => ips.push(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => ips.push(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => dns.push(name.to_string()),
        None => {}
    }
    ips.sort();
    ips.dedup();
    dns.sort();
    dns.dedup();
    (ips, dns)
}

/// A TLS configuration with a fresh certificate of the bootstrap role. Clients need no
/// certificate: nodes fetch the tree anonymously, and the job API keeps its bearer token.
pub fn serving_config(
    pki_dir: &Path,
    listen: SocketAddr,
    serve_url: Option<&str>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let ca = ClusterCa::load(pki_dir)?;
    let (ips, dns) = serving_names(listen, serve_url);
    let issued = ca.issue(&MemberRequest {
        role: MemberRole::Bootstrap,
        name: "strato-bootstrap".into(),
        ips,
        dns,
    })?;
    let tls = MemberTls::from_pem(ca.trust_pem(), &issued.cert_pem, &issued.key_pem)?;
    strato_tls::server_config(&tls, ClientAuth::Optional)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_loopback_the_listen_address_and_the_serve_url_host() {
        let (ips, dns) = serving_names(
            "10.0.0.5:8090".parse().expect("addr"),
            Some("https://boot.example:8090"),
        );
        assert!(ips.contains(&"10.0.0.5".parse().expect("ip")));
        assert!(ips.contains(&"127.0.0.1".parse().expect("ip")));
        assert_eq!(dns, ["boot.example", "localhost"]);
        let (ips, _) = serving_names(
            "0.0.0.0:8090".parse().expect("addr"),
            Some("https://[fd00::5]:8090/"),
        );
        assert!(!ips.contains(&"0.0.0.0".parse().expect("ip")));
        assert!(ips.contains(&"fd00::5".parse().expect("ip")));
    }
}
