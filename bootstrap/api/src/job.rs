//! Jobs: what the client asks for ([`JobRequest`]) and what the server reports ([`Job`],
//! [`HostStatus`]).

use std::fmt;

use serde::{Deserialize, Serialize};
pub use strato_config::Role;

/// A job's id: `<kind>-<unix millis>-<random>`, safe as a directory name.
pub type JobId = String;

/// What a job does to the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    Preflight,
    Deploy,
    Postflight,
    Uninstall,
    /// A new runtime bundle or configuration on a live cluster, node by node, each gated and
    /// rolled back when its gate fails.
    Upgrade,
}

impl JobKind {
    pub const ALL: [JobKind; 5] = [
        JobKind::Preflight,
        JobKind::Deploy,
        JobKind::Postflight,
        JobKind::Uninstall,
        JobKind::Upgrade,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Preflight => "preflight",
            JobKind::Deploy => "deploy",
            JobKind::Postflight => "postflight",
            JobKind::Uninstall => "uninstall",
            JobKind::Upgrade => "upgrade",
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Operator choices that are not part of cluster.yaml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobOptions {
    /// List what would change on each host and change nothing.
    pub dry_run: bool,
    /// Preflight checks (by name) whose FAIL only warns.
    pub waivers: Vec<String>,
    /// Uninstall also removes the data directory.
    pub purge: bool,
    /// The URL nodes download the serve tree from; default: derived from `bootstrap:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_url: Option<String>,
    /// Upgrade: accept a target version older than the nodes'.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_downgrade: bool,
    /// Upgrade: accept a target that skips a minor version.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_skip: bool,
    /// Upgrade: agents upgraded at once; 0 means a tenth of them, at least one.
    #[serde(skip_serializing_if = "is_zero")]
    pub batch: usize,
    /// Upgrade: return every node to the version it ran before (its `previous`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rollback: bool,
    /// Upgrade: how long a node on its new version may take to pass its gate before it is
    /// rolled back; 0 means the default (45 s).
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub gate_timeout_seconds: u64,
    /// Upgrade: the version a dry run plans for. A dry run leaves the bootstrap host's serve
    /// tree as it is, so the new bundle is not there to read the version from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// `POST /v1/jobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRequest {
    pub kind: JobKind,
    /// The cluster.yaml text. Files it names (SSH keys, ip-detect) are resolved on the server.
    pub cluster: String,
    #[serde(default)]
    pub options: JobOptions,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Accepted, not started.
    Pending,
    /// Running (or interrupted by a server stop and resumed on its next start).
    Running,
    /// Every host finished.
    Succeeded,
    /// At least one host failed or was skipped; re-run to finish the rest.
    Failed,
}

impl JobState {
    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed)
    }
}

/// Where one host is within a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostState {
    Pending,
    Running,
    /// Every phase finished.
    Succeeded,
    /// A phase failed; later phases skip the host.
    Failed,
    /// Not worked on, e.g. agents when a master failed.
    Skipped,
}

/// One host's progress: the last phase it entered and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStatus {
    /// The address from cluster.yaml.
    pub host: String,
    pub role: Role,
    /// The phase it is in, or failed in, or last finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    pub state: HostState,
    /// The failure, or what the last phase did ("up to date", "installed").
    #[serde(default)]
    pub message: String,
    /// Whether this job changed the host (false for a no-op re-deploy).
    #[serde(default)]
    pub changed: bool,
    /// The Strato version the node runs, as the job last read it from the node
    /// (`/opt/strato/current/VERSION`); upgrades read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A job as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub state: JobState,
    pub dry_run: bool,
    pub cluster_name: String,
    /// Unix milliseconds.
    pub created_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_ms: Option<u64>,
    pub hosts: Vec<HostStatus>,
    /// Dry-run: every change that would have been made, `host: would …`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<String>,
    /// A job-level failure (bad cluster.yaml, missing serve tree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Job {
    /// Hosts that ended in `state`.
    pub fn count(&self, state: HostState) -> usize {
        self.hosts.iter().filter(|h| h.state == state).count()
    }
}
