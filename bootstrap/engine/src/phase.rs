//! The [`Phase`] contract (k0sctl's, with optional capabilities as default methods) and
//! [`Outcome`], what a phase reports for one host.

use async_trait::async_trait;
use strato_api::Role;

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;

/// Every node role, for phases that run everywhere.
pub const ALL_ROLES: &[Role] = &[Role::Master, Role::Agent, Role::PublicAgent];
/// Agents of both kinds.
pub const AGENT_ROLES: &[Role] = &[Role::Agent, Role::PublicAgent];
/// Masters only.
pub const MASTER_ROLES: &[Role] = &[Role::Master];

/// What a phase did on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// For the operator: "installed", "up to date", "4 checks passed".
    pub message: String,
    /// Whether the host was changed (or, in dry-run, would be).
    pub changed: bool,
}

impl Outcome {
    /// The host was changed.
    pub fn changed(message: impl Into<String>) -> Self {
        Outcome {
            message: message.into(),
            changed: true,
        }
    }

    /// Nothing was changed.
    pub fn unchanged(message: impl Into<String>) -> Self {
        Outcome {
            message: message.into(),
            changed: false,
        }
    }
}

/// A failure found by a phase's cluster-wide step, for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFailure {
    pub host: String,
    pub message: String,
}

/// One step of an action, run over the hosts of some roles with bounded concurrency.
///
/// Every change to a host must go through [`strato_host::Host::apply`], so a phase's `run` is
/// also an honest dry-run: override [`Phase::dry_run`] only for phases that would otherwise
/// wait on changes that were not made (health waits).
#[async_trait]
pub trait Phase: Send + Sync {
    /// A unique, sentence-case title ("Install masters"); also the journal key.
    fn title(&self) -> &str;

    /// The roles this phase runs on.
    fn roles(&self) -> &[Role] {
        ALL_ROLES
    }

    /// Recorded in the journal when done, so a resumed job skips it on that host. True for
    /// phases that change hosts; reads (connect, facts, checks) re-run to rebuild memory.
    fn journaled(&self) -> bool {
        false
    }

    /// Runs only when every master is healthy (k0sctl's worker phases; DC/OS deployed all at
    /// once and agents raced masters).
    fn needs_healthy_masters(&self) -> bool {
        false
    }

    /// Whether the hosts of this phase go one at a time this job (whatever `ssh.parallelism`
    /// says), given every selected host as the earlier phases left it. The manager tells each
    /// host through [`HostCtx::one_at_a_time`].
    fn one_at_a_time(&self, _ctx: &JobCtx, _hosts: &[&HostCtx]) -> bool {
        false
    }

    /// Hosts in batches of this size, each batch finished before the next starts, and none
    /// started after a batch in which a host failed (an upgrade's agents). `None`: hosts run
    /// `ssh.parallelism` at a time and one's failure stops no other.
    fn batch(&self, _ctx: &JobCtx, _hosts: &[&HostCtx]) -> Option<usize> {
        None
    }

    /// Hosts run in ascending order of this key (stable): an upgrade's leading master last.
    fn order(&self, _host: &HostCtx) -> u8 {
        0
    }

    /// A failure on any host ends the job: every host not yet failed is skipped (an upgrade's
    /// pre-checks and plan: nothing changes on a cluster that is not ready for it).
    fn stops_job(&self) -> bool {
        false
    }

    /// Whether to run on this host at all (e.g. cluster checks on the first master only).
    fn should_run(&self, _ctx: &JobCtx, _host: &HostCtx) -> bool {
        true
    }

    /// Do the phase on one host.
    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError>;

    /// The dry-run version; by default `run`, whose changes the host wrapper only records.
    async fn dry_run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        self.run(ctx, host).await
    }

    /// After every selected host ran: checks across hosts (unique IPs, clock skew). Returns
    /// the hosts that fail them.
    async fn finish(&self, _ctx: &JobCtx, _hosts: &[&HostCtx]) -> Vec<HostFailure> {
        Vec::new()
    }
}
