//! The role a member certificate grants, written into it as a URI subject-alternative name
//! (`urn:strato:role:<role>`), and how a verifier reads roles and addresses back.

use std::fmt;
use std::net::IpAddr;

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

const PREFIX: &str = "urn:strato:role:";

/// Who a certificate speaks for. Public agents are agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberRole {
    /// Runs the master: commands agents, serves the APIs.
    Master,
    /// Runs the agent: registers with masters, runs tasks.
    Agent,
    /// The operator's CLI and tools: may use the Marathon and Mesos APIs, never the agent protocol.
    Operator,
    /// The bootstrap server: serves the signed tree to nodes over HTTPS. Grants no API.
    Bootstrap,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Master => "master",
            MemberRole::Agent => "agent",
            MemberRole::Operator => "operator",
            MemberRole::Bootstrap => "bootstrap",
        }
    }

    /// The URI subject-alternative name that carries this role.
    pub fn uri(self) -> String {
        format!("{PREFIX}{}", self.as_str())
    }

    fn from_uri(uri: &str) -> Option<Self> {
        match uri.strip_prefix(PREFIX)? {
            "master" => Some(MemberRole::Master),
            "agent" => Some(MemberRole::Agent),
            "operator" => Some(MemberRole::Operator),
            "bootstrap" => Some(MemberRole::Bootstrap),
            _ => None,
        }
    }
}

impl fmt::Display for MemberRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn alt_names(der: &[u8]) -> Vec<GeneralName<'_>> {
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return Vec::new();
    };
    match cert.subject_alternative_name() {
        Ok(Some(san)) => san.value.general_names.clone(),
        _ => Vec::new(),
    }
}

/// The roles a (verified) certificate grants; empty for a certificate without any.
pub fn peer_roles(der: &[u8]) -> Vec<MemberRole> {
    alt_names(der)
        .iter()
        .filter_map(|name| match name {
            GeneralName::URI(uri) => MemberRole::from_uri(uri),
            _ => None,
        })
        .collect()
}

/// The IP addresses a certificate names.
pub fn peer_ips(der: &[u8]) -> Vec<IpAddr> {
    alt_names(der)
        .iter()
        .filter_map(|name| match name {
            GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                _ => None,
            },
            _ => None,
        })
        .collect()
}
