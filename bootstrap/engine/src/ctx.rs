//! [`JobCtx`]: what every phase may read (the cluster, options, the serve tree, the connector,
//! the event bus, the deadline), and [`HostCtx`]: what the engine knows about one host so far.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use strato_api::{EventKind, HostState, HostStatus, JobKind, JobOptions, Role};
use strato_config::Cluster;
use strato_host::{CheckResult, Facts, Host, OsModule, Waivers};
use strato_tls::ClusterCa;

use crate::connector::Connector;
use crate::error::EngineError;
use crate::events::EventBus;

/// The genconf serve tree the nodes download from, and the URL they use.
#[derive(Debug, Clone)]
pub struct ServeTree {
    pub dir: PathBuf,
    /// Passed to `install.sh --url`.
    pub url: String,
}

impl ServeTree {
    /// Read a file of the tree (relative path).
    pub fn read(&self, rel: &str) -> Result<Vec<u8>, EngineError> {
        std::fs::read(self.dir.join(rel)).map_err(|e| EngineError::ServeTree {
            path: self.dir.clone(),
            message: format!("cannot read {rel}: {e} (run `strato genconf` first)"),
        })
    }

    /// `manifest.json`, parsed: the tree's files and the etcd its masters run.
    pub fn manifest(&self) -> Result<strato_render::Manifest, EngineError> {
        let bytes = self.read(strato_render::MANIFEST_PATH)?;
        serde_json::from_slice(&bytes).map_err(|e| EngineError::ServeTree {
            path: self.dir.clone(),
            message: format!("manifest.json does not parse: {e}"),
        })
    }

    /// The sha256 of `manifest.json`: one value that changes whenever any served file does.
    /// A node whose recorded digest matches is up to date.
    pub fn digest(&self) -> Result<String, EngineError> {
        Ok(strato_render::sha256_hex(
            &self.read(strato_render::MANIFEST_PATH)?,
        ))
    }
}

/// Shared, read-only state of one running job.
pub struct JobCtx {
    pub id: String,
    pub kind: JobKind,
    pub cluster: Cluster,
    /// Relative paths in cluster.yaml resolve against this.
    pub base_dir: PathBuf,
    pub options: JobOptions,
    pub waivers: Waivers,
    pub serve: ServeTree,
    /// The cluster CA, for a deploy: each node gets a certificate for its role.
    pub ca: Option<Arc<ClusterCa>>,
    /// The etcd CA, for a deploy of 3+ masters: each master gets an etcd certificate from it.
    pub etcd_ca: Option<Arc<ClusterCa>>,
    /// The serve tree's public signing key (PEM), for a deploy: nodes verify the tree with it.
    pub signing_pub: Option<String>,
    /// The cluster's gateway token key (from the PKI's token secret), for postflight's check of
    /// the gateway with a short-lived token of its own.
    pub gateway_key: Option<strato_gateway::TokenKey>,
    pub connector: Arc<dyn Connector>,
    pub events: Arc<EventBus>,
    /// The whole job's deadline (`ssh.job_timeout_seconds`).
    pub deadline: Instant,
    /// Hosts worked on at once.
    pub parallelism: usize,
}

impl std::fmt::Debug for JobCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobCtx")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl JobCtx {
    pub fn dry_run(&self) -> bool {
        self.options.dry_run
    }

    /// The masters keep their state in etcd (3 or more of them), each running a member.
    pub fn uses_etcd(&self) -> bool {
        self.cluster.masters.len() >= strato_render::ETCD_MIN_MASTERS
    }

    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// A progress line from `host` in `phase`.
    pub fn progress(&self, host: &str, phase: &str, message: impl Into<String>) {
        self.events.emit(
            Some(host),
            Some(phase),
            EventKind::Progress {
                message: message.into(),
            },
        );
    }
}

/// One host as the job goes: its node entry, its connection, and what phases learnt.
#[derive(Debug)]
pub struct HostCtx {
    pub node: strato_config::Host,
    pub role: Role,
    /// Set by the connect phase; the only way to touch the machine.
    pub host: Option<Host>,
    pub os: Option<&'static dyn OsModule>,
    pub facts: Option<Facts>,
    pub preflight: Vec<CheckResult>,
    pub status: HostStatus,
    /// Set by the manager before each phase: the phase runs on one host at a time this job
    /// ([`crate::Phase::one_at_a_time`]).
    pub one_at_a_time: bool,
    /// This master's `/strato/v1/ha` view, once a leadership check read it.
    pub ha: Option<strato_api::HaStatus>,
    /// The versions the node has installed side by side (`/opt/strato/current` and
    /// `/opt/strato/previous`), once an upgrade's plan read them.
    pub versions: Option<crate::phases::NodeVersions>,
    /// Planned changes already reported as events.
    pub(crate) planned_seen: usize,
}

impl HostCtx {
    pub fn new(node: strato_config::Host, role: Role) -> Self {
        let status = HostStatus {
            host: node.address.clone(),
            role,
            phase: None,
            state: HostState::Pending,
            message: String::new(),
            changed: false,
            version: None,
        };
        HostCtx {
            node,
            role,
            host: None,
            os: None,
            facts: None,
            preflight: Vec::new(),
            status,
            one_at_a_time: false,
            ha: None,
            versions: None,
            planned_seen: 0,
        }
    }

    /// The address from cluster.yaml.
    pub fn name(&self) -> &str {
        &self.node.address
    }

    /// The connection, or an error naming the missing connect phase.
    pub fn host(&self) -> Result<&Host, crate::PhaseError> {
        self.host.as_ref().ok_or(crate::PhaseError::Missing {
            host: self.node.address.clone(),
            what: "the connection",
        })
    }

    /// Out of the job: failed or skipped.
    pub fn is_out(&self) -> bool {
        matches!(self.status.state, HostState::Failed | HostState::Skipped)
    }
}

/// Every node of the cluster as a fresh [`HostCtx`], masters first.
pub fn hosts_of(cluster: &Cluster) -> Vec<HostCtx> {
    cluster
        .nodes()
        .map(|(role, node)| HostCtx::new(node.clone(), role))
        .collect()
}
