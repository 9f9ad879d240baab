//! `strato preflight`: check every node against its role (CPU, memory incl. cgroup limits, disk, OS, kernel, systemd, binaries, ports, time sync, IP detection, uniqueness, SELinux, /tmp) and print PASS/WARN/FAIL per check. Changes nothing.
use clap::Args;
use strato_api::JobKind;

use super::job::{self, JobArgs};
use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct PreflightArgs {
    #[command(flatten)]
    pub job: JobArgs,
}

pub fn run(args: PreflightArgs) -> Result<Exit, CliError> {
    job::run(JobKind::Preflight, &args.job, false)
}
