//! `strato deploy`: preflight, then install masters (all healthy) before agents; hosts already up to date are left alone, so a second deploy changes nothing.
use clap::Args;
use strato_api::JobKind;

use super::job::{self, ClusterArgs, JobArgs, ServerArgs};
use crate::{CliError, Exit};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato bundle && strato deploy         # build the runtime bundle, then install
  strato deploy --dry-run                # what would change on each host
  strato deploy -o json | jq .           # events, then the job, as JSON lines")]
pub struct DeployArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// List what would change on each host and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Let a failing preflight check (by name, e.g. `memory`) only warn. Repeatable.
    #[arg(long = "waive", value_name = "CHECK")]
    pub waive: Vec<String>,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub fn run(args: DeployArgs) -> Result<Exit, CliError> {
    let job = JobArgs {
        dry_run: args.dry_run,
        waive: args.waive,
        ..JobArgs::new(args.cluster, args.server)
    };
    job::run(JobKind::Deploy, &job, false)
}
