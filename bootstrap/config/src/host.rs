//! [`Host`]: one machine, written as a bare address or as a mapping with per-host SSH overrides.
use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A machine in the cluster. In YAML either `10.0.0.10` or
/// `{address: 10.0.0.10, port: 2222, user: rocky, key_path: ~/.ssh/other, labels: {rack: r1}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "HostEntry", into = "HostEntry")]
pub struct Host {
    /// IPv4/IPv6 address or host name the installer connects to.
    pub address: String,
    /// SSH port for this host; `ssh.port` when unset.
    pub port: Option<u16>,
    /// SSH user for this host; `ssh.user` when unset.
    pub user: Option<String>,
    /// SSH private key for this host; `ssh.key_path` when unset.
    pub key_path: Option<PathBuf>,
    /// Free-form labels, given to the node's agent as attributes.
    pub labels: BTreeMap<String, String>,
    /// The agent's Mesos hostname (its tasks' `host`) when not its detected IP (agents only).
    pub hostname: Option<String>,
}

impl Host {
    /// A host with only an address (every setting from `ssh`).
    pub fn new(address: impl Into<String>) -> Self {
        Host {
            address: address.into(),
            ..Host::default()
        }
    }

    fn is_bare(&self) -> bool {
        self.port.is_none()
            && self.user.is_none()
            && self.key_path.is_none()
            && self.labels.is_empty()
            && self.hostname.is_none()
    }
}

/// The two ways to write a host; what serde and the JSON Schema see.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
enum HostEntry {
    /// A bare IP address or host name.
    Address(String),
    /// An address with per-host settings.
    Detailed(HostSpec),
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct HostSpec {
    /// IP address or host name.
    address: String,
    /// SSH port (1-65535); overrides `ssh.port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    port: Option<u16>,
    /// SSH user; overrides `ssh.user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    /// SSH private key; overrides `ssh.key_path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_path: Option<PathBuf>,
    /// Free-form labels (string values), given to the node's agent as attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
    /// Agents only: the name the agent reports to the master, so its tasks' `host` (what clients
    /// such as marathon-lb connect to). Default: the agent's detected IP (`network.ip_detect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
}

impl From<HostEntry> for Host {
    fn from(entry: HostEntry) -> Self {
        match entry {
            HostEntry::Address(address) => Host::new(address),
            HostEntry::Detailed(s) => Host {
                address: s.address,
                port: s.port,
                user: s.user,
                key_path: s.key_path,
                labels: s.labels,
                hostname: s.hostname,
            },
        }
    }
}

impl From<Host> for HostEntry {
    fn from(host: Host) -> Self {
        if host.is_bare() {
            return HostEntry::Address(host.address);
        }
        HostEntry::Detailed(HostSpec {
            address: host.address,
            port: host.port,
            user: host.user,
            key_path: host.key_path,
            labels: host.labels,
            hostname: host.hostname,
        })
    }
}

impl JsonSchema for Host {
    fn schema_name() -> String {
        "Host".into()
    }

    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        HostEntry::json_schema(gen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_serializes_bare_when_it_has_no_overrides() {
        let bare = yaml_serde::to_string(&vec![Host::new("10.0.0.1")]).expect("serialize");
        assert_eq!(bare, "- 10.0.0.1\n");
        let detailed = Host {
            port: Some(2222),
            ..Host::new("10.0.0.2")
        };
        let text = yaml_serde::to_string(&detailed).expect("serialize");
        assert_eq!(text, "address: 10.0.0.2\nport: 2222\n");
        let back: Host = yaml_serde::from_str(&text).expect("round trip");
        assert_eq!(back, detailed);
    }
}
