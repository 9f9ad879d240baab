//! `strato status`: the bootstrap server's latest job and each host's state in it.
use clap::Args;

use super::job::{self, ClusterArgs, JobArgs, ServerArgs};
use crate::output::Output;
use crate::ui::progress::{Mode, Progress};
use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub fn run(args: StatusArgs) -> Result<Exit, CliError> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Other(e.into()))?;
    // Reaching the server takes the same defaults a job command has without flags.
    let request = JobArgs::new(args.cluster, ServerArgs::default());
    runtime.block_on(async {
        let loaded = job::load(&request.config)?;
        let Some(boot) = job::bootstrap(&loaded, &request, false).await? else {
            // Only a dry run stops before the server, and status never runs dry.
            return Ok(Exit::Success);
        };
        let jobs = boot.client.jobs().await;
        boot.forget_secrets().await;
        let jobs = jobs.map_err(|e| CliError::Other(e.into()))?;
        let Some(latest) = jobs.first() else {
            match request.output {
                Output::Json => println!("null"),
                Output::Table => println!("no jobs yet: run `strato deploy`"),
            }
            return Ok(Exit::Success);
        };
        let progress = Progress::new(match request.output {
            Output::Table => Mode::Human,
            Output::Json => Mode::Json,
        });
        if request.output == Output::Table {
            println!("latest job {} ({:?})", latest.id, latest.state);
        }
        Ok(job::report_job(latest, request.output, &progress))
    })
}
