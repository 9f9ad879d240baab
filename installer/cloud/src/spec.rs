//! What the cloud layer reads from `cluster.yaml`: the cluster's name, login user and `cloud:`
//! section, resolved into a [`ClusterSpec`] with per-provider defaults filled in.
//!
//! `strato-config` owns the file format and its validation (the same checks as `strato validate`);
//! this module adds what only the cloud layer needs: the per-provider location, the key's text, the
//! stable cluster id, and the resolved per-role sizes.
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{CloudError, Result};

/// The three clouds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Aws,
    Azure,
    Gcp,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Aws => "aws",
            ProviderKind::Azure => "azure",
            ProviderKind::Gcp => "gcp",
        }
    }
}

/// Where the cluster lives, per provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Aws {
        region: String,
    },
    Azure {
        location: String,
        resource_group: String,
    },
    Gcp {
        project: String,
        zone: String,
    },
}

/// One value per machine role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerRole<T> {
    pub bootstrap: T,
    pub master: T,
    pub agent: T,
    pub public_agent: T,
}

/// How many machines of each role (the bootstrap machine is always one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub masters: u32,
    pub agents: u32,
    pub public_agents: u32,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            masters: 3,
            agents: 2,
            public_agents: 1,
        }
    }
}

/// Everything a provider needs to build the cluster's machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    pub cluster_name: String,
    /// Stable short id, tagged on every resource beside the name (see [`cluster_id`]).
    pub cluster_id: String,
    /// The login user cloud-init creates (`ssh.user` in cluster.yaml).
    pub ssh_user: String,
    pub provider: ProviderKind,
    pub location: Location,
    pub os: String,
    pub image: Option<String>,
    pub ssh_public_key_path: PathBuf,
    /// The key's one line, `ssh-ed25519 AAAA... comment`.
    pub ssh_public_key: String,
    pub admin_cidrs: Vec<String>,
    pub network_cidr: String,
    pub instance_types: PerRole<String>,
    pub counts: Counts,
    pub disk_gib: PerRole<u32>,
}

/// The user cloud-init creates when `ssh.user` is not set.
pub const DEFAULT_SSH_USER: &str = "strato";
const DEFAULT_NETWORK_CIDR: &str = "10.0.0.0/16";

/// Load and validate `cluster.yaml` with `strato-config` (every problem with file, line and key),
/// then resolve its `cloud:` section.
pub fn load(path: &Path) -> Result<ClusterSpec> {
    let cluster = strato_config::load(path).map_err(|e| match e {
        strato_config::LoadError::Read { path, source } => CloudError::Read { path, source },
        strato_config::LoadError::Invalid(diagnostics) => {
            CloudError::Invalid(diagnostics.to_string().trim_end().to_string())
        }
    })?;
    from_cluster(&cluster, path)
}

/// Resolve the `cloud:` section of a validated cluster (`path` is for messages and relative paths).
pub fn from_cluster(cluster: &strato_config::Cluster, path: &Path) -> Result<ClusterSpec> {
    use strato_config::cloud::Provider;
    let file = path.display().to_string();
    let bad = |key: &str, message: String| CloudError::Config {
        file: file.clone(),
        key: key.to_string(),
        message,
    };
    let cloud = cluster.cloud.as_ref().ok_or_else(|| {
        bad(
            "cloud",
            "missing: `strato cloud` needs a cloud: section".into(),
        )
    })?;
    let cluster_name = cluster.cluster_name.clone();
    check_name(&cluster_name).map_err(|m| bad("cluster_name", m))?;
    let need = |value: &Option<String>, key: &str| {
        value
            .clone()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                bad(
                    &format!("cloud.{key}"),
                    format!("required for provider {}", cloud.provider),
                )
            })
    };
    let (provider, location) = match cloud.provider {
        Provider::Aws => (
            ProviderKind::Aws,
            Location::Aws {
                region: need(&cloud.region, "region")?,
            },
        ),
        Provider::Azure => (
            ProviderKind::Azure,
            Location::Azure {
                location: need(&cloud.location, "location")?,
                resource_group: cloud
                    .resource_group
                    .clone()
                    .unwrap_or_else(|| format!("{cluster_name}-rg")),
            },
        ),
        Provider::Gcp => (
            ProviderKind::Gcp,
            Location::Gcp {
                project: need(&cloud.project, "project")?,
                zone: need(&cloud.zone, "zone")?,
            },
        ),
    };
    for (i, cidr) in cloud.admin_cidrs.iter().enumerate() {
        parse_cidr(cidr).map_err(|m| bad(&format!("cloud.admin_cidrs[{i}]"), m))?;
    }
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let counts = Counts {
        masters: count(cloud.counts.masters),
        agents: count(cloud.counts.agents),
        public_agents: count(cloud.counts.public_agents),
    };
    let it = &cloud.instance_types;
    let instance_types = PerRole {
        bootstrap: it.bootstrap.clone(),
        master: it.master.clone(),
        agent: it.agent.clone(),
        public_agent: it.public_agent.clone(),
    };
    let d = cloud.disk_gib;
    // The bootstrap machine serves packages and the public agents run the same work as agents.
    let disk_gib = PerRole {
        bootstrap: d.agent,
        master: d.master,
        agent: d.agent,
        public_agent: d.agent,
    };
    let key_path = expand_home(&cloud.ssh_public_key, path);
    let ssh_public_key = read_public_key(&key_path).map_err(|m| bad("cloud.ssh_public_key", m))?;
    let cluster_id = cluster_id(&cluster_name, provider, &location);
    if cluster.ssh.user == "root" {
        return Err(bad(
            "ssh.user",
            "cloud images refuse SSH logins as root: set ssh.user to the user cloud-init should create (e.g. strato)".into(),
        ));
    }
    let ssh_user = if cluster.ssh.user.trim().is_empty() {
        DEFAULT_SSH_USER.to_string()
    } else {
        cluster.ssh.user.clone()
    };
    Ok(ClusterSpec {
        cluster_name,
        cluster_id,
        ssh_user,
        provider,
        location,
        os: cloud.os.clone(),
        image: cloud.image.clone(),
        ssh_public_key_path: key_path,
        ssh_public_key,
        admin_cidrs: cloud.admin_cidrs.clone(),
        network_cidr: DEFAULT_NETWORK_CIDR.to_string(),
        instance_types,
        counts,
        disk_gib,
    })
}

/// A short id that is the same on every run for the same cluster and place, so re-runs find their
/// resources by tag, and two clusters with one name in different places never share any.
pub fn cluster_id(name: &str, provider: ProviderKind, location: &Location) -> String {
    let place = match location {
        Location::Aws { region } => region.clone(),
        Location::Azure {
            location,
            resource_group,
            ..
        } => format!("{location}/{resource_group}"),
        Location::Gcp { project, zone } => format!("{project}/{zone}"),
    };
    let digest = Sha256::digest(format!("{name}|{}|{place}", provider.as_str()).as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// Cluster names become resource names and labels on all three clouds: keep to what all accept.
fn check_name(name: &str) -> std::result::Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?}: for cloud machines use 1-40 lower-case letters, digits and '-', starting with a letter"))
    }
}

/// Parse `a.b.c.d/n`.
pub fn parse_cidr(cidr: &str) -> std::result::Result<(Ipv4Addr, u8), String> {
    let (addr, prefix) = cidr
        .split_once('/')
        .ok_or_else(|| format!("{cidr:?} is not a CIDR (expected a.b.c.d/n)"))?;
    let addr: Ipv4Addr = addr
        .parse()
        .map_err(|_| format!("{cidr:?}: {addr:?} is not an IPv4 address"))?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= 32)
        .ok_or_else(|| format!("{cidr:?}: prefix must be 0-32"))?;
    Ok((addr, prefix))
}

fn expand_home(path: &Path, cluster_yaml: &Path) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~") {
        let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"));
        if let Some(home) = home {
            return PathBuf::from(home).join(rest);
        }
    }
    if path.is_relative() {
        if let Some(dir) = cluster_yaml.parent().filter(|d| !d.as_os_str().is_empty()) {
            return dir.join(path);
        }
    }
    path.to_path_buf()
}

/// Read an OpenSSH public key file and check it looks like one (clouds reject anything else late
/// and obscurely).
fn read_public_key(path: &Path) -> std::result::Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let mut parts = line.split_whitespace();
    let kind = parts.next().unwrap_or("");
    let body = parts.next().unwrap_or("");
    let known = [
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
    ];
    if !known.contains(&kind) || body.len() < 16 || !body.starts_with("AAAA") {
        return Err(format!("{} is not an OpenSSH public key (expected a line like `ssh-ed25519 AAAA... you@host`; did you give the private key?)", path.display()));
    }
    Ok(line.to_string())
}
