//! What rendering needs from a cluster description, checked once so templates can trust it.
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::RenderError;

/// Ports the runtime listens on (docs/runtime-contract.md §Ports); cluster.yaml does not change them.
pub const MESOS_PORT: u16 = 5050;
pub const MARATHON_PORT: u16 = 8080;
pub const DNS_PORT: u16 = 53;
/// etcd's client and peer ports on masters of a 3+ master cluster (etcd's own defaults).
pub const ETCD_CLIENT_PORT: u16 = 2379;
pub const ETCD_PEER_PORT: u16 = 2380;
/// The fewest masters that run etcd; one master keeps the embedded store.
pub const ETCD_MIN_MASTERS: usize = 3;

/// The part of a cluster description the serve tree depends on. Hosts' SSH details do not matter
/// here: every node of a role gets the same files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderInput {
    pub cluster_name: String,
    /// Master addresses (IPs or host names), in cluster.yaml order.
    pub masters: Vec<String>,
    /// Upstream resolvers, `ip` or `ip:port`.
    pub resolvers: Vec<String>,
    pub dns_domain: String,
    pub ip_detect: IpDetect,
    /// Where nodes download the serve tree, baked into the scripts as their default source.
    /// `None` (e.g. `bootstrap: local`): nodes must be given `--url`/`--from`.
    pub bootstrap_url: Option<String>,
    /// Agents and public agents with `labels`: each gets its own agent.toml with them as
    /// attributes, at `config/hosts/<address>/agent.toml` (install.sh `--host`).
    pub labelled_agents: Vec<LabelledAgent>,
    /// The Unix user tasks run as unless their app names one (`runtime.task_user`).
    pub task_user: String,
    /// master.toml's `agent_timeout_seconds` (`runtime.agent_timeout_seconds`).
    pub agent_timeout_seconds: u64,
    /// master.toml's `allow_privileged_containers` and `container_parameters` (cluster.yaml's
    /// `runtime`).
    pub allow_privileged_containers: bool,
    pub container_parameters: Vec<String>,
    /// The gateway on every master (`gateway:` in cluster.yaml).
    pub gateway: GatewayInput,
    /// agent.toml's `container_engine` (a socket path or `none`); `None`: left to the agent.
    pub container_engine: Option<String>,
}

/// master.toml's gateway keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GatewayInput {
    pub https_port: u16,
    /// 0: no plain-HTTP redirect.
    pub http_port: u16,
    pub token_ttl_seconds: u64,
    /// The operator named a certificate (`gateway.tls_cert`): the install writes it.
    pub own_cert: bool,
}

impl Default for GatewayInput {
    fn default() -> Self {
        Self {
            https_port: 443,
            http_port: 80,
            token_ttl_seconds: 120 * 3600,
            own_cert: false,
        }
    }
}

/// An agent whose cluster.yaml entry has labels or a hostname.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledAgent {
    pub address: String,
    pub public: bool,
    /// Sorted by key.
    pub labels: Vec<(String, String)>,
    /// The agent's Mesos hostname when cluster.yaml gives one.
    pub hostname: Option<String>,
}

/// How a node finds the address it advertises (`network.ip_detect`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpDetect {
    /// The source address of the route towards the first master.
    Route,
    /// The first IPv4 address of this interface.
    Interface(String),
    /// The operator's own script, copied as it is.
    Script {
        path: String,
        content: Option<String>,
    },
}

impl IpDetect {
    /// Reads `network.ip_detect`: `route`, a path (contains `/` or starts with `.` or `~`), or an
    /// interface name.
    pub fn parse(value: &str) -> IpDetect {
        if value == "route" {
            IpDetect::Route
        } else if value.contains('/') || value.starts_with('.') || value.starts_with('~') {
            IpDetect::Script {
                path: value.to_owned(),
                content: None,
            }
        } else {
            IpDetect::Interface(value.to_owned())
        }
    }
}

/// The runtime bundle (a `.tar.gz` holding `strato-master` and `strato-agent`) served beside the
/// scripts at `bundle/<file_name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRef {
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
    /// The file to copy into the tree on `write_tree`; `None` when something else puts it there.
    pub source: Option<PathBuf>,
    /// The etcd the bundle carries, from its manifest; `None` when it has none (or the file is
    /// not a strato bundle).
    pub etcd: Option<strato_bundle::EtcdInfo>,
    /// The bundle's version, from its manifest: install.sh puts the binaries under
    /// `/opt/strato/versions/<version>`. `None` when the file is not a strato bundle, which
    /// rendering then refuses.
    pub version: Option<String>,
}

impl BundleRef {
    /// Hashes the bundle at `path` (streaming, so a large bundle is not held in memory).
    pub fn from_file(path: &Path) -> Result<BundleRef, RenderError> {
        let read_err = |source| RenderError::Read {
            path: path.to_owned(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(read_err)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut size = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(read_err)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "strato-runtime.tar.gz".into());
        // Only the first entry is read; a file that is no bundle simply has no etcd and no
        // version.
        let manifest = strato_bundle::read_manifest(path).ok();
        let version = manifest.as_ref().map(|m| m.version.clone());
        Ok(BundleRef {
            file_name,
            sha256: hex::encode(hasher.finalize()),
            size,
            source: Some(path.to_owned()),
            etcd: manifest.and_then(|m| m.etcd),
            version,
        })
    }

    /// Its path inside the serve tree.
    pub fn tree_path(&self) -> String {
        format!("bundle/{}", self.file_name)
    }
}

/// Choices that are not part of cluster.yaml.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Overrides the bootstrap URL derived from cluster.yaml.
    pub bootstrap_url: Option<String>,
    pub bundle: Option<BundleRef>,
    /// The content of the `network.ip_detect` script, when it names one.
    pub ip_detect_script: Option<String>,
}

/// Characters allowed in values that end up unquoted in comments, unit files and scripts.
fn is_plain(value: &str) -> bool {
    !value.is_empty()
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '@' | '[' | ']')
        })
}

impl RenderInput {
    /// Whether the masters run etcd (3 or more of them).
    pub fn uses_etcd(&self) -> bool {
        self.masters.len() >= ETCD_MIN_MASTERS
    }

    /// Refuses values that would break the generated files. strato-config validates them first;
    /// this is the renderer's own guard, since it writes shell scripts that run as root.
    pub fn check(&self) -> Result<(), RenderError> {
        let invalid = |key, message: String| Err(RenderError::InvalidValue { key, message });
        if !is_plain(&self.cluster_name) {
            return invalid(
                "cluster_name",
                format!(
                    "{:?} has characters other than letters, digits, . - _",
                    self.cluster_name
                ),
            );
        }
        if self.masters.is_empty() {
            return invalid(
                "masters",
                "at least one master is needed to render the node files".into(),
            );
        }
        for m in self.masters.iter().chain(&self.resolvers) {
            if !is_plain(m) {
                return invalid("masters", format!("{m:?} is not an address"));
            }
        }
        if self.uses_etcd() {
            // etcd names each member by the address ip-detect finds on it (STRATO_IP), and its
            // initial cluster lists cluster.yaml's addresses: the two must be the same IPv4.
            if let Some(m) = self
                .masters
                .iter()
                .find(|m| m.parse::<std::net::Ipv4Addr>().is_err())
            {
                return invalid(
                    "masters",
                    format!(
                        "{m:?} is not an IPv4 address: with {} masters each must be the IPv4 \
                         address its node advertises (etcd names members by it)",
                        self.masters.len()
                    ),
                );
            }
        }
        if let Some(agent) = self.labelled_agents.iter().find(|a| !is_plain(&a.address)) {
            return invalid("agents", format!("{:?} is not an address", agent.address));
        }
        if strato_config::field::user_name(&self.task_user).is_err() {
            return invalid(
                "runtime.task_user",
                format!("{:?} is not a user name", self.task_user),
            );
        }
        if !is_plain(&self.dns_domain) {
            return invalid(
                "network.domain",
                format!("{:?} is not a domain name", self.dns_domain),
            );
        }
        if let IpDetect::Interface(name) = &self.ip_detect {
            if !is_plain(name) || name.len() > 15 {
                return invalid(
                    "network.ip_detect",
                    format!("{name:?} is not an interface name, `route` or a script path"),
                );
            }
        }
        if let Some(url) = &self.bootstrap_url {
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || url.contains(char::is_whitespace)
            {
                return invalid("bootstrap", format!("{url:?} is not an http(s) URL"));
            }
        }
        Ok(())
    }
}
