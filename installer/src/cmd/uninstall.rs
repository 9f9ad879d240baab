//! `strato uninstall`: stop and remove Strato's units and files on every node (agents first),
//! keeping `/var/lib/strato` unless `--purge`.
use clap::Args;
use strato_api::JobKind;

use super::job::{self, JobArgs};
use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct UninstallArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Also remove the nodes' data (/var/lib/strato): apps and state are lost.
    #[arg(long)]
    pub purge: bool,
}

pub fn run(args: UninstallArgs) -> Result<Exit, CliError> {
    job::run(JobKind::Uninstall, &args.job, args.purge)
}
