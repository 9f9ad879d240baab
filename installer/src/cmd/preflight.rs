//! `strato preflight`: check every node against its role (CPU, memory incl. cgroup limits, disk, OS, kernel, systemd, binaries, ports, time sync, IP detection, uniqueness, SELinux, /tmp) and print PASS/WARN/FAIL per check. Changes nothing.
use clap::Args;
use strato_api::JobKind;

use super::job::{self, ClusterArgs, JobArgs, ServerArgs};
use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct PreflightArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Let a failing check (by name, e.g. `memory`) only warn. Repeatable.
    #[arg(long = "waive", value_name = "CHECK")]
    pub waive: Vec<String>,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub fn run(args: PreflightArgs) -> Result<Exit, CliError> {
    let job = JobArgs {
        waive: args.waive,
        ..JobArgs::new(args.cluster, args.server)
    };
    job::run(JobKind::Preflight, &job, false)
}
