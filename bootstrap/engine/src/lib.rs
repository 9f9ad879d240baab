//! The deploy engine: ordered phases over hosts with bounded concurrency (k0sctl's model),
//! one choke point for changes, and an on-disk journal so a killed job resumes.
//!
//! - [`Phase`] is one step (connect, detect OS, gather facts, preflight, install, wait, check,
//!   uninstall; one file each under `phases/`); [`Action`] is a job kind's ordered list.
//! - [`Manager`] runs an action: each phase over its hosts with at most `ssh.parallelism` at
//!   once; a failed host is marked and skipped by later phases while the others go on; agents
//!   start only once every master is healthy.
//! - Every change to a host goes through `strato_host::Host::apply`; in dry-run it records
//!   "would …" lines, which become `Planned` events and the job's plan.
//! - [`Journal`] keeps `job.json`, per-host phase records and `events.jsonl` in the job's
//!   directory, written atomically; a re-run skips journaled phases already done.
//! - [`Runner`] is the job lifecycle the bootstrap server (and the CLI in-process) uses.
//! - [`set_up_bootstrap_host`] installs and starts the bootstrap server on a separate bootstrap
//!   host, through the same choke point (so `--dry-run` is honest there too).
//!
//! It does not talk HTTP (that is `strato-bootstrap`) and does not render templates (that is
//! `strato-render`; the engine reads the rendered serve tree).

mod action;
mod bootstrap_host;
mod connector;
mod ctx;
mod error;
mod events;
mod journal;
mod manager;
mod phase;
pub mod phases;
mod runner;
pub mod testing;
pub mod timeouts;

pub use action::Action;
pub use bootstrap_host::{
    set_up_bootstrap_host, BootstrapFile, BootstrapSetup, BOOTSTRAP_BIN, BOOTSTRAP_DATA_DIR,
    BOOTSTRAP_UNIT,
};
pub use connector::{ConnectSpec, Connector, PinStore, SshConnector, StaticConnector};
pub use ctx::{hosts_of, HostCtx, JobCtx, ServeTree};
pub use error::{chain, EngineError, PhaseError};
pub use events::{now_ms, EventBus};
pub use journal::{HostRecord, JobRecord, Journal, PhaseRecord, PhaseState};
pub use manager::Manager;
pub use phase::{HostFailure, Outcome, Phase, AGENT_ROLES, ALL_ROLES, MASTER_ROLES};
pub use runner::{parse_cluster, Follow, Runner, RunnerEnv};
