//! The host abstraction: everything Strato knows about one machine, and the only way it talks
//! to one.
//!
//! - [`Transport`] is the single seam for side effects on a machine (exec, upload, download),
//!   with [`SshTransport`] (over `strato-ssh`), [`LocalTransport`] (this machine, Unix only)
//!   and [`FakeTransport`] (scripted, records every call) for tests.
//! - [`Host`] wraps a transport and is the **one choke point for changes**: reads always run,
//!   and every change goes through [`Host::apply`], which in dry-run mode records
//!   "would run: …" instead of executing.
//! - [`os`] reads `/etc/os-release` ([`OsRelease`]) into a registry of per-distribution
//!   modules (`os/<id>.rs`); anything else is refused by name.
//! - [`facts`] gathers CPU, memory (meminfo and cgroup), disk, kernel, systemd, binaries,
//!   listening ports, clock sync, addresses, identity, SELinux and `/tmp` in one exec, and
//!   parses the output with pure functions.
//! - [`preflight`] turns facts plus a role's [`Requirements`] into PASS/WARN/FAIL results,
//!   per host and across the cluster, with waivers and a table renderer.
//!
//! - [`for_each_host`] runs a step on many hosts with bounded parallelism (default 30).
//!
//! It does not sequence phases or store state: that is the deploy engine.
//! It compiles on Linux, macOS and Windows (the CLI links it); only `LocalTransport` is Unix.

pub mod facts;
mod fake;
mod host;
pub mod hosts;
#[cfg(unix)]
mod local;
pub mod os;
mod os_release;
pub mod preflight;
mod ssh;
mod transport;

pub use facts::{Facts, GatherSpec};
pub use fake::{CommandMatcher, FakeCall, FakeReply, FakeTransport};
pub use host::{Applied, Change, Host, HostError, PlannedChange};
pub use hosts::{for_each_host, HostOutcome, DEFAULT_HOST_CONCURRENCY};
#[cfg(unix)]
pub use local::LocalTransport;
pub use os::{DetectedOs, OsError, OsModule, PackageManager};
pub use os_release::{OsRelease, OsReleaseError};
pub use preflight::{
    check_cluster, check_host, render_table, CheckResult, EngineNeed, GlibcNeed, PreflightSpec,
    Requirements, Role, Status, Waivers,
};
pub use ssh::SshTransport;
pub use transport::{
    ExecOptions, ExecOutput, OutputFn, OutputStream, Transport, TransportError, UploadOptions,
};
