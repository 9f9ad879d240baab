//! `strato deploy`: preflight, then install masters (all healthy) before agents; hosts already up to date are left alone, so a second deploy changes nothing.
use clap::Args;
use strato_api::JobKind;

use super::job::{self, JobArgs};
use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub job: JobArgs,
}

pub fn run(args: DeployArgs) -> Result<Exit, CliError> {
    job::run(JobKind::Deploy, &args.job, false)
}
