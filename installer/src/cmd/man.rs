//! `strato generate-man --out-dir DIR` (hidden): one roff man page per command, named as `man`
//! finds them (`strato.1`, `strato-cloud-create.1`). docs/man holds the pages for the current
//! source; a test (installer/tests/cli.rs) regenerates them and fails when they differ.
use std::path::PathBuf;

use clap::{Args, CommandFactory};

use crate::cli::Cli;
use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct GenerateManArgs {
    /// Directory to write the pages into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

pub fn run(args: GenerateManArgs) -> Result<Exit, CliError> {
    let write = |source| CliError::Write {
        path: args.out_dir.clone(),
        source,
    };
    std::fs::create_dir_all(&args.out_dir).map_err(write)?;
    // The package version only, so the pages change with the source, not with every commit.
    let command = Cli::command()
        .version(env!("CARGO_PKG_VERSION"))
        .long_version(env!("CARGO_PKG_VERSION"));
    clap_mangen::generate_to(command, &args.out_dir).map_err(write)?;
    println!("wrote the man pages into {}", args.out_dir.display());
    Ok(Exit::Success)
}
