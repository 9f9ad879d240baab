//! What the cloud layer reads from `cluster.yaml`: the cluster's name, login user and `cloud:`
//! section, resolved into a [`ClusterSpec`] with per-provider defaults filled in.
//!
//! This is an adapter: `strato-config` owns the file format and its full validation. Until its
//! `cloud` model is the single source, this module parses just the keys it needs, so the cloud
//! commands work on any file `strato validate` accepts.
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{CloudError, Result};

/// The three clouds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
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
        subscription_id: Option<String>,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    #[serde(default = "three")]
    pub masters: u32,
    #[serde(default = "two")]
    pub agents: u32,
    #[serde(default = "one")]
    pub public_agents: u32,
}

fn one() -> u32 {
    1
}
fn two() -> u32 {
    2
}
fn three() -> u32 {
    3
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

#[derive(Debug, Deserialize)]
struct RawFile {
    cluster_name: Option<String>,
    #[serde(default)]
    ssh: Option<RawSsh>,
    cloud: Option<RawCloud>,
}

#[derive(Debug, Deserialize)]
struct RawSsh {
    user: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCloud {
    provider: ProviderKind,
    region: Option<String>,
    location: Option<String>,
    resource_group: Option<String>,
    subscription_id: Option<String>,
    project: Option<String>,
    zone: Option<String>,
    #[serde(default = "default_os")]
    os: String,
    image: Option<String>,
    ssh_public_key: PathBuf,
    #[serde(default)]
    admin_cidrs: Vec<String>,
    network_cidr: Option<String>,
    cluster_id: Option<String>,
    #[serde(default)]
    instance_types: BTreeMap<String, String>,
    #[serde(default)]
    counts: Counts,
    #[serde(default)]
    disk_gib: BTreeMap<String, u32>,
}

fn default_os() -> String {
    "rocky-9".to_string()
}

/// The user cloud-init creates when `ssh.user` is not set.
pub const DEFAULT_SSH_USER: &str = "strato";
const DEFAULT_NETWORK_CIDR: &str = "10.0.0.0/16";

/// Read `cluster.yaml` at `path` and resolve its `cloud:` section.
pub fn load(path: &Path) -> Result<ClusterSpec> {
    let text = std::fs::read_to_string(path).map_err(|source| CloudError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Resolve `cluster.yaml` text (`path` is used for messages and to find a relative key file).
pub fn parse(text: &str, path: &Path) -> Result<ClusterSpec> {
    let file = path.display().to_string();
    let bad = |key: &str, message: String| CloudError::Config {
        file: file.clone(),
        key: key.to_string(),
        message,
    };
    let raw: RawFile = serde_yaml::from_str(text).map_err(|e| bad("cloud", e.to_string()))?;
    let cluster_name = raw
        .cluster_name
        .ok_or_else(|| bad("cluster_name", "missing".into()))?;
    check_name(&cluster_name).map_err(|m| bad("cluster_name", m))?;
    let cloud = raw.cloud.ok_or_else(|| {
        bad(
            "cloud",
            "missing: `strato cloud` needs a cloud: section".into(),
        )
    })?;
    let need = |value: Option<String>, key: &str| {
        value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            bad(
                &format!("cloud.{key}"),
                format!("required for provider {}", cloud.provider.as_str()),
            )
        })
    };
    let location = match cloud.provider {
        ProviderKind::Aws => Location::Aws {
            region: need(cloud.region.clone(), "region")?,
        },
        ProviderKind::Azure => Location::Azure {
            location: need(cloud.location.clone().or(cloud.region.clone()), "location")?,
            resource_group: cloud
                .resource_group
                .clone()
                .unwrap_or_else(|| format!("{cluster_name}-rg")),
            subscription_id: cloud.subscription_id.clone(),
        },
        ProviderKind::Gcp => Location::Gcp {
            project: need(cloud.project.clone(), "project")?,
            zone: need(cloud.zone.clone(), "zone")?,
        },
    };
    if cloud.admin_cidrs.is_empty() {
        return Err(bad(
            "cloud.admin_cidrs",
            "list at least one CIDR that may reach SSH and the UI (e.g. your address/32)".into(),
        ));
    }
    for (i, cidr) in cloud.admin_cidrs.iter().enumerate() {
        parse_cidr(cidr).map_err(|m| bad(&format!("cloud.admin_cidrs[{i}]"), m))?;
    }
    let network_cidr = cloud
        .network_cidr
        .clone()
        .unwrap_or_else(|| DEFAULT_NETWORK_CIDR.into());
    let (_, prefix) = parse_cidr(&network_cidr).map_err(|m| bad("cloud.network_cidr", m))?;
    if prefix > 24 {
        return Err(bad(
            "cloud.network_cidr",
            format!("{network_cidr} is too small: use a /24 or larger"),
        ));
    }
    let counts = cloud.counts;
    if ![1, 3, 5, 7, 9].contains(&counts.masters) {
        return Err(bad(
            "cloud.counts.masters",
            format!("{} masters: use 1, 3, 5, 7 or 9", counts.masters),
        ));
    }
    for (key, _) in cloud
        .instance_types
        .iter()
        .filter(|(k, _)| !ROLE_KEYS.contains(&k.as_str()))
    {
        return Err(bad(
            &format!("cloud.instance_types.{key}"),
            format!("unknown role; expected one of {}", ROLE_KEYS.join(", ")),
        ));
    }
    for (key, _) in cloud
        .disk_gib
        .iter()
        .filter(|(k, _)| !ROLE_KEYS.contains(&k.as_str()))
    {
        return Err(bad(
            &format!("cloud.disk_gib.{key}"),
            format!("unknown role; expected one of {}", ROLE_KEYS.join(", ")),
        ));
    }
    let defaults = crate::sizes::default_instance_types(cloud.provider);
    let pick = |key: &str, default: &str| {
        cloud
            .instance_types
            .get(key)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let instance_types = PerRole {
        bootstrap: pick("bootstrap", defaults.bootstrap),
        master: pick("master", defaults.master),
        agent: pick("agent", defaults.agent),
        public_agent: pick(
            "public_agent",
            cloud
                .instance_types
                .get("agent")
                .map_or(defaults.public_agent, String::as_str),
        ),
    };
    let disk = |key: &str, default: u32| cloud.disk_gib.get(key).copied().unwrap_or(default);
    let agent_disk = disk("agent", 60);
    let disk_gib = PerRole {
        bootstrap: disk("bootstrap", 60),
        master: disk("master", 120),
        agent: agent_disk,
        public_agent: disk("public_agent", agent_disk),
    };
    let key_path = expand_home(&cloud.ssh_public_key, path);
    let ssh_public_key = read_public_key(&key_path).map_err(|m| bad("cloud.ssh_public_key", m))?;
    let cluster_id = match cloud.cluster_id.clone() {
        Some(id) => id,
        None => cluster_id(&cluster_name, cloud.provider, &location),
    };
    Ok(ClusterSpec {
        cluster_name,
        cluster_id,
        ssh_user: raw
            .ssh
            .and_then(|s| s.user)
            .unwrap_or_else(|| DEFAULT_SSH_USER.into()),
        provider: cloud.provider,
        location,
        os: cloud.os,
        image: cloud.image,
        ssh_public_key_path: key_path,
        ssh_public_key,
        admin_cidrs: cloud.admin_cidrs,
        network_cidr,
        instance_types,
        counts,
        disk_gib,
    })
}

const ROLE_KEYS: [&str; 4] = ["bootstrap", "master", "agent", "public_agent"];

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
