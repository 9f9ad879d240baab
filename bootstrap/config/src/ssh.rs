//! [`Ssh`]: how `strato` reaches hosts, and [`EffectiveSsh`], the settings for one host after its
//! own overrides are applied.
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Host;

/// The `ssh:` section. Every key has a default, so the section may be left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Ssh {
    /// Login user on every host (it needs passwordless sudo unless it is root).
    pub user: String,
    /// SSH port on every host (1-65535).
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// Private key file (`~` is your home; relative paths are relative to cluster.yaml). It must
    /// exist and, on Unix, be readable only by its owner. Unset: keys from the SSH agent only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_path: Option<PathBuf>,
    /// Also offer keys held by a running ssh-agent (`SSH_AUTH_SOCK`).
    pub use_agent: bool,
    /// What to do with host keys never seen before.
    pub known_hosts: KnownHosts,
    /// A jump host to reach the nodes through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bastion: Option<Bastion>,
    /// How many hosts are worked on at once (1-500).
    #[schemars(range(min = 1, max = 500))]
    pub parallelism: usize,
    /// Seconds to wait for a TCP connection and SSH handshake.
    #[schemars(range(min = 1, max = 604800))]
    pub connect_timeout_seconds: u64,
    /// Seconds one remote command may run.
    #[schemars(range(min = 1, max = 604800))]
    pub command_timeout_seconds: u64,
    /// Seconds a whole job (e.g. a deploy) may run.
    #[schemars(range(min = 1, max = 604800))]
    pub job_timeout_seconds: u64,
}

impl Ssh {
    pub const DEFAULT_USER: &'static str = "root";
    pub const DEFAULT_PORT: u16 = 22;
    /// k0sctl's default; DC/OS used 20.
    pub const DEFAULT_PARALLELISM: usize = 30;
    pub const MAX_PARALLELISM: usize = 500;
    pub const DEFAULT_CONNECT_TIMEOUT_SECONDS: u64 = 10;
    /// DC/OS's 120 s was too short for installs (dcos/dcos#1627); ten minutes is what its docs advise.
    pub const DEFAULT_COMMAND_TIMEOUT_SECONDS: u64 = 600;
    pub const DEFAULT_JOB_TIMEOUT_SECONDS: u64 = 3600;

    /// The settings to reach `host`: the host's own `port`, `user` and `key_path` win over these.
    pub fn for_host(&self, host: &Host) -> EffectiveSsh {
        EffectiveSsh {
            address: host.address.clone(),
            port: host.port.unwrap_or(self.port),
            user: host.user.clone().unwrap_or_else(|| self.user.clone()),
            key_path: host.key_path.clone().or_else(|| self.key_path.clone()),
            use_agent: self.use_agent,
            known_hosts: self.known_hosts,
            bastion: self.bastion.clone(),
            connect_timeout_seconds: self.connect_timeout_seconds,
            command_timeout_seconds: self.command_timeout_seconds,
        }
    }
}

impl Default for Ssh {
    fn default() -> Self {
        Ssh {
            user: Self::DEFAULT_USER.into(),
            port: Self::DEFAULT_PORT,
            key_path: None,
            use_agent: true,
            known_hosts: KnownHosts::default(),
            bastion: None,
            parallelism: Self::DEFAULT_PARALLELISM,
            connect_timeout_seconds: Self::DEFAULT_CONNECT_TIMEOUT_SECONDS,
            command_timeout_seconds: Self::DEFAULT_COMMAND_TIMEOUT_SECONDS,
            job_timeout_seconds: Self::DEFAULT_JOB_TIMEOUT_SECONDS,
        }
    }
}

/// Host-key policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KnownHosts {
    /// Trust on first use: record a new host's key, refuse the host if its key later changes.
    #[default]
    Tofu,
    /// Only hosts already in `~/.ssh/known_hosts` (or recorded before) are accepted.
    Strict,
    /// Accept any key (throw-away test machines only).
    Off,
}

impl KnownHosts {
    pub const NAMES: [&'static str; 3] = ["tofu", "strict", "off"];

    pub fn parse(text: &str) -> Option<KnownHosts> {
        match text {
            "tofu" => Some(KnownHosts::Tofu),
            "strict" => Some(KnownHosts::Strict),
            "off" => Some(KnownHosts::Off),
            _ => None,
        }
    }
}

/// A jump host (`ssh -J`); unset `user`, `port` and `key_path` come from `ssh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bastion {
    /// IP address or host name of the jump host.
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_path: Option<PathBuf>,
}

/// Everything needed to open an SSH session to one host, overrides applied. Paths are as written
/// (`~` not expanded); expand with [`crate::files::expand_home`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveSsh {
    pub address: String,
    pub port: u16,
    pub user: String,
    pub key_path: Option<PathBuf>,
    pub use_agent: bool,
    pub known_hosts: KnownHosts,
    pub bastion: Option<Bastion>,
    pub connect_timeout_seconds: u64,
    pub command_timeout_seconds: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_host_lets_the_host_override_the_defaults() {
        let ssh = Ssh {
            user: "centos".into(),
            key_path: Some("~/.ssh/a".into()),
            ..Ssh::default()
        };
        let plain = ssh.for_host(&Host::new("10.0.0.1"));
        assert_eq!((plain.port, plain.user.as_str()), (22, "centos"));
        assert_eq!(plain.key_path, Some(PathBuf::from("~/.ssh/a")));
        let own = Host {
            port: Some(2222),
            user: Some("rocky".into()),
            key_path: Some("/k".into()),
            ..Host::new("10.0.0.2")
        };
        let over = ssh.for_host(&own);
        assert_eq!((over.port, over.user.as_str()), (2222, "rocky"));
        assert_eq!(over.key_path, Some(PathBuf::from("/k")));
    }
}
