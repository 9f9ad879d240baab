//! `agent.toml`: every key optional, flags override file values (see docs/runtime-contract.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use strato_proto::PortRange;

use crate::error::ConfigError;

/// How tasks are started. `Auto` picks systemd transient units where systemd is PID 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LauncherChoice {
    #[default]
    Auto,
    Process,
    Systemd,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// `host:port` of the masters' Mesos port, tried in order until one answers.
    pub masters: Vec<String>,
    pub advertise_ip: String,
    pub bind: String,
    /// 0 picks a free port (tests); the chosen one is what the agent registers.
    pub port: u16,
    pub work_dir: PathBuf,
    /// Offers role `slave_public` instead of `*`.
    pub public: bool,
    pub attributes: BTreeMap<String, String>,
    /// `begin-end`, inclusive.
    pub port_range: String,
    /// Empty means the machine's hostname.
    pub hostname: String,
    /// True kills every task when the agent stops (`strato up --local`); false leaves them running
    /// to be re-attached by the next agent on the same work dir (the systemd service).
    pub stop_tasks_on_shutdown: bool,
    pub launcher: LauncherChoice,
    /// The cluster CA and this agent's certificate and key (`strato deploy` writes all three).
    /// With them the API speaks mutual TLS on `bind` and answers only masters; `/health` stays
    /// on 127.0.0.1 for the node's own checks.
    pub tls_ca: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Tasks whose app names no `user` run as this Unix user (cluster.yaml's
    /// `runtime.task_user`; install.sh makes it). `None`: as the agent itself.
    pub task_user: Option<String>,
    /// The container engine for apps with a Docker image: `auto` (the default: the Docker socket,
    /// else Podman's, whichever answers), `none`, or the path of an engine's API socket.
    pub container_engine: String,
    /// A task's `stdout` or `stderr` larger than this is copied to `stdout.1` (the one older
    /// file kept) and emptied, checked every 10 s (`executor/log_rotate.rs`); 0 never rotates.
    pub task_log_max_bytes: u64,
}

/// 10 MiB: a sandbox holds at most about twice that per output file.
pub const DEFAULT_TASK_LOG_MAX_BYTES: u64 = 10 * 1024 * 1024;

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            masters: vec!["127.0.0.1:5050".to_string()],
            advertise_ip: "127.0.0.1".to_string(),
            // Empty: the advertised address (never every interface by default).
            bind: String::new(),
            port: 5051,
            work_dir: PathBuf::from("/var/lib/strato/agent"),
            public: false,
            attributes: BTreeMap::new(),
            port_range: "31000-32000".to_string(),
            hostname: String::new(),
            stop_tasks_on_shutdown: false,
            launcher: LauncherChoice::Auto,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            task_user: None,
            container_engine: "auto".to_string(),
            task_log_max_bytes: DEFAULT_TASK_LOG_MAX_BYTES,
        }
    }
}

impl AgentConfig {
    /// Reads and checks a TOML file; missing keys take their defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses TOML text; `path` only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: AgentConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        config
            .check()
            .map_err(|(key, message)| ConfigError::Invalid {
                path: path.to_path_buf(),
                key,
                message,
            })?;
        Ok(config)
    }

    /// The checks `load` applies, as `(key, message)`; `run` applies them too for configs built
    /// in code.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        parse_port_range(&self.port_range).map_err(|m| ("port_range", m))?;
        if self.masters.is_empty() {
            return Err(("masters", "at least one master is needed".to_string()));
        }
        if self.work_dir.as_os_str().is_empty() {
            return Err(("work_dir", "must not be empty".to_string()));
        }
        let tls = self.tls_files().map_err(|m| ("tls_cert", m))?;
        let ip: std::net::IpAddr = self
            .bind_ip()
            .parse()
            .map_err(|_| ("bind", format!("{:?} is not an IP address", self.bind_ip())))?;
        if tls.is_none() && !ip.is_loopback() {
            return Err((
                "bind",
                format!(
                    "{ip} is not loopback and no TLS is configured: set tls_ca, tls_cert and \
                     tls_key (strato deploy does), or bind to 127.0.0.1"
                ),
            ));
        }
        Ok(())
    }

    /// The address the API listens on: `bind`, else `advertise_ip`.
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

    pub fn port_range(&self) -> Result<PortRange, String> {
        parse_port_range(&self.port_range)
    }
}

/// `"31000-32000"` → `PortRange { begin: 31000, end: 32000 }`.
pub fn parse_port_range(text: &str) -> Result<PortRange, String> {
    let bad = || format!("expected `begin-end` like `31000-32000`, got `{text}`");
    let (begin, end) = text.trim().split_once('-').ok_or_else(bad)?;
    let begin: u16 = begin.trim().parse().map_err(|_| bad())?;
    let end: u16 = end.trim().parse().map_err(|_| bad())?;
    if begin == 0 || begin > end {
        return Err(format!(
            "range `{text}` must start above 0 and not end before it begins"
        ));
    }
    Ok(PortRange { begin, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_the_documented_defaults() {
        let c = AgentConfig::parse("", Path::new("agent.toml")).expect("parse");
        assert_eq!(c, AgentConfig::default());
        assert_eq!(c.port, 5051);
        assert_eq!(c.masters, vec!["127.0.0.1:5050"]);
        assert!(!c.stop_tasks_on_shutdown);
    }

    #[test]
    fn keys_are_read() {
        let text = r#"
masters = ["10.0.0.1:5050", "10.0.0.2:5050"]
port = 5052
public = true
attributes = { rack = "r1" }
port_range = "20000-20010"
hostname = "node-1"
task_log_max_bytes = 1048576
"#;
        let c = AgentConfig::parse(text, Path::new("agent.toml")).expect("parse");
        assert_eq!(c.masters.len(), 2);
        assert_eq!(c.port, 5052);
        assert!(c.public);
        assert_eq!(c.attributes.get("rack").map(String::as_str), Some("r1"));
        assert_eq!(
            c.port_range(),
            Ok(PortRange {
                begin: 20000,
                end: 20010
            })
        );
        assert_eq!(c.hostname, "node-1");
        assert_eq!(c.task_log_max_bytes, 1 << 20);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = AgentConfig::parse("port = 1\nprot = 2\n", Path::new("/etc/agent.toml"))
            .expect_err("unknown key");
        let text = err.to_string();
        assert!(text.contains("/etc/agent.toml"), "{text}");
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("prot"), "{text}");
    }

    #[test]
    fn bad_port_range_names_the_key() {
        let err = AgentConfig::parse("port_range = \"32000-31000\"", Path::new("a.toml"))
            .expect_err("bad range");
        assert!(err.to_string().contains("port_range"), "{err}");
    }

    #[test]
    fn missing_file_names_it() {
        let err = AgentConfig::load(Path::new("/nonexistent/agent.toml")).expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/agent.toml"));
    }
}
