//! A node's member certificate: issued from the cluster CA at install time for the node's role
//! and the addresses gather-facts found, and written under [`TLS_DIR`] through `Host::apply`
//! (the key 0600). The master's and agent's configs point at these files
//! (`templates/config/master.toml.tera`, `templates/config/agent.toml.tera`).

use std::net::IpAddr;

use strato_api::Role;
use strato_host::Change;
use strato_tls::{ClusterCa, MemberRequest, MemberRole};

use crate::ctx::HostCtx;
use crate::error::PhaseError;

/// Where a node keeps the cluster CA certificate and its own certificate and key.
pub const TLS_DIR: &str = "/opt/strato/etc/tls";

/// The certificate role a node's Strato role runs with; the bootstrap host has none.
pub fn member_role(role: Role) -> Option<MemberRole> {
    match role {
        Role::Master => Some(MemberRole::Master),
        Role::Agent | Role::PublicAgent => Some(MemberRole::Agent),
        Role::Bootstrap => None,
    }
}

/// The addresses a node's certificate names: its cluster.yaml address and every routable
/// address on its interfaces (the agent registers with the one ip-detect picks, and the master
/// checks it against the certificate).
pub fn request_for(host: &HostCtx, role: MemberRole) -> MemberRequest {
    let mut ips: Vec<IpAddr> = Vec::new();
    let mut dns = Vec::new();
    match host.node.address.parse::<IpAddr>() {
        Ok(ip) => ips.push(ip),
        Err(_) => dns.push(host.node.address.clone()),
    }
    if let Some(facts) = &host.facts {
        for ip in &facts.addresses {
            let link_local = match ip {
                IpAddr::V4(v4) => v4.is_link_local(),
                IpAddr::V6(v6) => v6.is_unicast_link_local(),
            };
            if !ip.is_loopback() && !ip.is_unspecified() && !link_local && !ips.contains(ip) {
                ips.push(*ip);
            }
        }
        if let Some(name) = facts.hostname.as_ref().filter(|n| !n.is_empty()) {
            if !dns.contains(name) {
                dns.push(name.clone());
            }
        }
    }
    MemberRequest {
        role,
        name: host.node.address.clone(),
        ips,
        dns,
    }
}

/// The uploads that give `host` the CA certificates it trusts (two during a CA rotation) and a
/// fresh member certificate.
pub fn tls_changes(ca: &ClusterCa, host: &HostCtx) -> Result<Vec<Change>, PhaseError> {
    let Some(role) = member_role(host.role) else {
        return Ok(Vec::new());
    };
    let issued = ca
        .issue(&request_for(host, role))
        .map_err(|e| PhaseError::failed(host.name(), e.to_string()))?;
    Ok(vec![
        Change::upload_sudo(
            ca.trust_pem().as_bytes().to_vec(),
            format!("{TLS_DIR}/ca.crt"),
            0o644,
        ),
        Change::upload_sudo(
            issued.cert_pem.into_bytes(),
            format!("{TLS_DIR}/node.crt"),
            0o644,
        ),
        Change::upload_sudo(
            issued.key_pem.into_bytes(),
            format!("{TLS_DIR}/node.key"),
            0o600,
        ),
    ])
}

/// The uploads that give a master of a 3+ master cluster its etcd identity: the etcd CA (the
/// only CA etcd trusts, for clients and peers alike) and a certificate from it for the node's
/// addresses. Agents never get one, so an agent's key cannot reach the masters' state.
pub fn etcd_tls_changes(etcd_ca: &ClusterCa, host: &HostCtx) -> Result<Vec<Change>, PhaseError> {
    if host.role != Role::Master {
        return Ok(Vec::new());
    }
    let issued = etcd_ca
        .issue(&request_for(host, MemberRole::Master))
        .map_err(|e| PhaseError::failed(host.name(), e.to_string()))?;
    Ok(vec![
        Change::upload_sudo(
            etcd_ca.trust_pem().as_bytes().to_vec(),
            format!("{TLS_DIR}/etcd-ca.crt"),
            0o644,
        ),
        Change::upload_sudo(
            issued.cert_pem.into_bytes(),
            format!("{TLS_DIR}/etcd.crt"),
            0o644,
        ),
        Change::upload_sudo(
            issued.key_pem.into_bytes(),
            format!("{TLS_DIR}/etcd.key"),
            0o600,
        ),
    ])
}

/// A short fingerprint of the issuing CA and the trusted ones, recorded in the deployed marker
/// so a node holding certificates of another CA, or another trust, is reinstalled rather than
/// called up to date (each step of a CA rotation changes one of the two).
pub fn ca_fingerprint(ca: &ClusterCa) -> String {
    let both = format!("{}\n{}", ca.cert_pem(), ca.trust_pem());
    strato_render::sha256_hex(both.as_bytes())[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use strato_host::Facts;

    #[test]
    fn a_node_certificate_names_its_address_and_routable_interface_addresses() {
        let mut host = HostCtx::new(strato_config::Host::new("10.0.0.5"), Role::Agent);
        let mut facts = Facts::from_script_output("");
        facts.addresses = [
            "127.0.0.1",
            "10.0.0.5",
            "172.17.0.3",
            "169.254.1.1",
            "fe80::1",
        ]
        .iter()
        .map(|s| s.parse().expect("ip"))
        .collect();
        facts.hostname = Some("agent-1".into());
        host.facts = Some(facts);
        let req = request_for(&host, MemberRole::Agent);
        let ips: Vec<String> = req.ips.iter().map(ToString::to_string).collect();
        assert_eq!(ips, ["10.0.0.5", "172.17.0.3"]);
        assert_eq!(req.dns, ["agent-1"]);
        assert_eq!(req.name, "10.0.0.5");
    }

    #[test]
    fn only_masters_get_an_etcd_certificate_and_it_comes_from_the_etcd_ca() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cluster_ca = ClusterCa::load_or_create(dir.path(), "c").expect("ca");
        let etcd_ca = ClusterCa::load_or_create(&dir.path().join("etcd"), "c etcd").expect("ca");
        let agent = HostCtx::new(strato_config::Host::new("10.0.0.6"), Role::Agent);
        assert!(etcd_tls_changes(&etcd_ca, &agent)
            .expect("agent")
            .is_empty());
        let master = HostCtx::new(strato_config::Host::new("10.0.0.5"), Role::Master);
        let changes = etcd_tls_changes(&etcd_ca, &master).expect("master");
        let described: Vec<String> = changes.iter().map(Change::describe).collect();
        for file in ["etcd-ca.crt", "etcd.crt", "etcd.key"] {
            assert!(
                described
                    .iter()
                    .any(|d| d.contains(&format!("{TLS_DIR}/{file}"))),
                "{file} in {described:?}"
            );
        }
        let Change::Upload { data: trusted, .. } = &changes[0] else {
            panic!("the etcd CA is an upload");
        };
        assert_eq!(trusted, etcd_ca.trust_pem().as_bytes());
        assert_ne!(etcd_ca.cert_pem(), cluster_ca.cert_pem());
    }

    #[test]
    fn the_bootstrap_host_gets_no_certificate() {
        assert_eq!(member_role(Role::Bootstrap), None);
        assert_eq!(member_role(Role::PublicAgent), Some(MemberRole::Agent));
    }
}
