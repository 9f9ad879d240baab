//! Reaching the etcd members: mutual TLS with the master's own certificate (the members accept
//! only certificates from the cluster CA), plain HTTP only on loopback (tests, one machine).

use std::time::Duration;

use etcd_client::{Certificate, Client, ConnectOptions, Identity, TlsOptions};
use strato_store::StoreError;

/// How to reach etcd.
#[derive(Clone)]
pub struct EtcdOptions {
    /// Every member's client URL (`https://10.0.0.5:2379`).
    pub endpoints: Vec<String>,
    /// PEM of the cluster CA, this master's certificate and key; `None` for plain loopback.
    pub tls: Option<(Vec<u8>, Vec<u8>, Vec<u8>)>,
    /// The most one request may take before the store counts as unavailable (quorum lost).
    pub request_timeout: Duration,
}

impl std::fmt::Debug for EtcdOptions {
    // The key stays out of logs and errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdOptions")
            .field("endpoints", &self.endpoints)
            .field("tls", &self.tls.is_some())
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

fn refused(message: String) -> StoreError {
    StoreError::Open {
        path: "etcd".into(),
        message,
    }
}

/// The endpoints a master on `own_ip` should use: only its own node's member when the list has
/// exactly one there (as kubeadm's stacked etcd does), so that a dead node's member is never
/// tried; every endpoint otherwise.
pub fn prefer_local(endpoints: &[String], own_ip: &str) -> Vec<String> {
    let host_of = |endpoint: &str| {
        let rest = endpoint.split("://").nth(1).unwrap_or(endpoint);
        let authority = rest.split('/').next().unwrap_or(rest);
        authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host)
            .trim_matches(|c| c == '[' || c == ']')
            .to_string()
    };
    let local: Vec<String> = endpoints
        .iter()
        .filter(|e| host_of(e) == own_ip)
        .cloned()
        .collect();
    if local.len() == 1 {
        local
    } else {
        endpoints.to_vec()
    }
}

/// Connects lazily: the client is returned even while no member answers (the first requests
/// then fail as quorum lost), so a master starts while its peers are still coming up.
/// `request_timeout: None` is for calls that block by design (campaigning).
pub async fn connect(
    options: &EtcdOptions,
    request_timeout: Option<Duration>,
) -> Result<Client, StoreError> {
    if options.endpoints.is_empty() {
        return Err(refused("no etcd endpoints configured".into()));
    }
    for endpoint in &options.endpoints {
        let plain = endpoint.starts_with("http://");
        let loopback = endpoint.trim_start_matches("http://").starts_with("127.")
            || endpoint.trim_start_matches("http://").starts_with("[::1]")
            || endpoint
                .trim_start_matches("http://")
                .starts_with("localhost");
        if plain && !loopback {
            return Err(refused(format!(
                "{endpoint}: plain HTTP to etcd is only allowed on loopback; use https:// with \
                 the master's certificate (tls_ca, tls_cert, tls_key)"
            )));
        }
        if !plain && options.tls.is_none() {
            return Err(refused(format!(
                "{endpoint}: TLS to etcd needs tls_ca, tls_cert and tls_key in master.toml"
            )));
        }
    }
    let mut connect = ConnectOptions::new()
        .with_connect_timeout(Duration::from_secs(2))
        .with_keep_alive(Duration::from_secs(1), Duration::from_secs(2))
        .with_keep_alive_while_idle(true);
    if let Some(timeout) = request_timeout {
        connect = connect.with_timeout(timeout);
    }
    if let Some((ca, cert, key)) = &options.tls {
        connect = connect.with_tls(
            TlsOptions::new()
                .ca_certificate(Certificate::from_pem(ca))
                .identity(Identity::from_pem(cert, key)),
        );
    }
    Client::connect(&options.endpoints, Some(connect))
        .await
        .map_err(|e| refused(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::prefer_local;

    #[test]
    fn a_master_uses_its_own_member_when_the_list_names_it_once() {
        let all = vec![
            "https://10.0.0.1:2379".to_string(),
            "https://10.0.0.2:2379".to_string(),
            "https://10.0.0.3:2379".to_string(),
        ];
        assert_eq!(prefer_local(&all, "10.0.0.2"), ["https://10.0.0.2:2379"]);
        assert_eq!(prefer_local(&all, "10.0.0.9"), all);
        let loopback = vec![
            "http://127.0.0.1:2379".to_string(),
            "http://127.0.0.1:2479".to_string(),
        ];
        assert_eq!(prefer_local(&loopback, "127.0.0.1"), loopback);
    }
}
