//! `strato postflight`: check each node's service and the cluster (leader elected, every agent registered, Marathon API answering) within one overall deadline.
use clap::Args;
use strato_api::JobKind;

use super::job::{self, ClusterArgs, JobArgs, ServerArgs};
use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct PostflightArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub fn run(args: PostflightArgs) -> Result<Exit, CliError> {
    job::run(
        JobKind::Postflight,
        &JobArgs::new(args.cluster, args.server),
        false,
    )
}
