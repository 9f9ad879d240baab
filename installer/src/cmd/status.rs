//! `strato status`: the bootstrap server's latest job and each host's state in it.
use clap::Args;

use super::job::{self, JobArgs, Output};
use crate::ui::progress::{Mode, Progress};
use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub job: JobArgs,
}

pub fn run(args: StatusArgs) -> Result<Exit, CliError> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Other(e.into()))?;
    runtime.block_on(async {
        let loaded = job::load(&args.job.config)?;
        let Some(boot) = job::bootstrap(&loaded, &args.job, false).await? else {
            // Only a dry run stops before the server; it printed why.
            return Ok(Exit::Success);
        };
        let jobs = boot
            .client
            .jobs()
            .await
            .map_err(|e| CliError::Other(e.into()))?;
        let Some(latest) = jobs.first() else {
            match args.job.output {
                Output::Json => println!("null"),
                Output::Text => println!("no jobs yet: run `strato deploy`"),
            }
            return Ok(Exit::Success);
        };
        let progress = Progress::new(match args.job.output {
            Output::Text => Mode::Human,
            Output::Json => Mode::Json,
        });
        if args.job.output == Output::Text {
            println!("latest job {} ({:?})", latest.id, latest.state);
        }
        Ok(job::report_job(latest, args.job.output, &progress))
    })
}
