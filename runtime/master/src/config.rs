//! `master.toml`: every key optional, defaults as in docs/runtime-contract.md.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The master's configuration (`/opt/strato/etc/master.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MasterConfig {
    pub cluster_name: String,
    pub data_dir: PathBuf,
    pub advertise_ip: String,
    pub bind: String,
    /// Mesos-style endpoints, agent registration, dashboard and the Marathon API (again).
    pub mesos_port: u16,
    /// Marathon API v2.
    pub marathon_port: u16,
    /// 0 disables DNS.
    pub dns_port: u16,
    pub dns_domain: String,
    pub resolvers: Vec<String>,
    pub masters: Vec<String>,
    pub agent_timeout_seconds: u64,
    pub heartbeat_interval_seconds: u64,
    /// How often the reconcile loop runs without an event to wake it (not in the TOML docs;
    /// tests shorten it).
    pub reconcile_interval_ms: u64,
    /// How often the charts' history samples the cluster (`metrics/history.rs`; not in the TOML
    /// docs; tests shorten it).
    pub metrics_history_interval_ms: u64,
    /// The most instances one app may ask for (422 above it): a typo such as
    /// `"instances": 1000000` must not make the scheduler plan and the store hold that many.
    pub max_instances_per_app: u32,
    /// The cluster CA and this master's certificate and key (`strato deploy` writes all three).
    /// With them the Mesos and Marathon ports speak mutual TLS on `bind`, and plain HTTP stays
    /// on 127.0.0.1 for the node's own tools.
    pub tls_ca: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Every etcd member's client URL (3/5/7/9 masters); empty: one master on the embedded
    /// redb store. The master reaches etcd with its own certificate (the tls_* keys).
    pub etcd_endpoints: Vec<String>,
    /// The etcd CA and this master's certificate and key from it (3+ masters; `strato deploy`
    /// writes them). Unset: the `tls_*` files are used for etcd too.
    pub etcd_ca: Option<PathBuf>,
    pub etcd_cert: Option<PathBuf>,
    pub etcd_key: Option<PathBuf>,
    /// How long a leader that stopped answering keeps leadership, in seconds (etcd raises it to
    /// 1.5 × its election timeout if lower: 0.75 s as strato-etcd.service runs it).
    pub election_ttl_seconds: u64,
    /// The gateway (Admin Router): HTTPS on this port with a token on every route but health,
    /// metadata and login (`runtime/gateway`); unset (the default) runs none. Needs the `tls_*`
    /// files or `gateway_cert`/`gateway_key`.
    pub gateway_port: Option<u16>,
    /// Plain HTTP that redirects to the gateway; unset: none.
    pub gateway_http_port: Option<u16>,
    /// Users and service accounts (JSON, `strato deploy` writes it from cluster.yaml).
    pub gateway_accounts: Option<PathBuf>,
    /// The cluster's token secret, the same on every master (at least 32 bytes).
    pub gateway_token_secret: Option<PathBuf>,
    /// A certificate and key the operator supplies for the gateway; unset: the master's own.
    pub gateway_cert: Option<PathBuf>,
    pub gateway_key: Option<PathBuf>,
    /// How long a login's token lasts.
    pub gateway_token_ttl_seconds: u64,
    /// Apps may ask for `privileged` containers (cluster.yaml
    /// `runtime.allow_privileged_containers`); refused with a 422 otherwise.
    pub allow_privileged_containers: bool,
    /// The `docker.parameters` keys apps may use (cluster.yaml `runtime.container_parameters`,
    /// from `strato_proto::DOCKER_PARAMETERS`); none by default.
    pub container_parameters: Vec<String>,
}

impl Default for MasterConfig {
    fn default() -> Self {
        MasterConfig {
            cluster_name: "strato".into(),
            data_dir: PathBuf::from("/var/lib/strato/master"),
            advertise_ip: "127.0.0.1".into(),
            // Empty: the advertised address (never every interface by default).
            bind: String::new(),
            mesos_port: 5050,
            marathon_port: 8080,
            dns_port: 53,
            dns_domain: "strato".into(),
            resolvers: vec!["8.8.8.8".into()],
            masters: vec!["127.0.0.1".into()],
            agent_timeout_seconds: 30,
            heartbeat_interval_seconds: 5,
            reconcile_interval_ms: 1000,
            metrics_history_interval_ms: 10_000,
            max_instances_per_app: 100_000,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            etcd_endpoints: Vec::new(),
            etcd_ca: None,
            etcd_cert: None,
            etcd_key: None,
            election_ttl_seconds: 1,
            gateway_port: None,
            gateway_http_port: None,
            gateway_accounts: None,
            gateway_token_secret: None,
            gateway_cert: None,
            gateway_key: None,
            gateway_token_ttl_seconds: 5 * 24 * 3600,
            allow_privileged_containers: false,
            container_parameters: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read master config {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid master config {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl MasterConfig {
    /// Reads a TOML file; unknown keys are errors that name the key, line and column.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses TOML text (the error message carries line and key).
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Self =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        if let Some(unknown) = config
            .container_parameters
            .iter()
            .find(|p| !strato_proto::DOCKER_PARAMETERS.contains(&p.as_str()))
        {
            return Err(format!(
                "container_parameters: '{unknown}' is not a Docker parameter Strato passes (it \
                 can: {})",
                strato_proto::DOCKER_PARAMETERS.join(", ")
            ));
        }
        Ok(config)
    }

    /// The address the ports listen on: `bind`, else `advertise_ip`.
    pub fn bind_ip(&self) -> &str {
        if self.bind.trim().is_empty() {
            &self.advertise_ip
        } else {
            &self.bind
        }
    }

    /// The TLS files when all three are set; `Err` names the missing ones when only some are.
    pub fn tls_files(&self) -> Result<Option<strato_tls::TlsFiles>, String> {
        strato_tls::TlsFiles::from_keys(
            self.tls_ca.as_deref(),
            self.tls_cert.as_deref(),
            self.tls_key.as_deref(),
        )
    }

    /// The files etcd is reached with: the `etcd_*` trio when set, else the `tls_*` one.
    pub fn etcd_tls_files(&self) -> Result<Option<strato_tls::TlsFiles>, String> {
        match strato_tls::TlsFiles::from_keys(
            self.etcd_ca.as_deref(),
            self.etcd_cert.as_deref(),
            self.etcd_key.as_deref(),
        )? {
            Some(files) => Ok(Some(files)),
            None => self.tls_files(),
        }
    }

    pub fn agent_timeout(&self) -> Duration {
        Duration::from_secs(self.agent_timeout_seconds)
    }

    pub fn heartbeat_interval(&self) -> Duration {
        Duration::from_secs(self.heartbeat_interval_seconds)
    }

    pub fn reconcile_interval(&self) -> Duration {
        Duration::from_millis(self.reconcile_interval_ms.max(10))
    }

    pub fn metrics_history_interval(&self) -> Duration {
        Duration::from_millis(self.metrics_history_interval_ms.max(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_the_documented_defaults() {
        let config = MasterConfig::parse("").expect("parse");
        assert_eq!(config, MasterConfig::default());
        assert_eq!(config.mesos_port, 5050);
        assert_eq!(config.marathon_port, 8080);
        assert_eq!(config.agent_timeout_seconds, 30);
    }

    #[test]
    fn unknown_key_is_named_in_the_error() {
        let err = MasterConfig::parse("mesos_prt = 1\n").expect_err("unknown key");
        assert!(err.contains("mesos_prt"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn values_override_defaults() {
        let config =
            MasterConfig::parse("mesos_port = 15050\nagent_timeout_seconds = 2\n").expect("parse");
        assert_eq!(config.mesos_port, 15050);
        assert_eq!(config.agent_timeout(), Duration::from_secs(2));
    }
}
