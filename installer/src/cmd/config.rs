//! `strato config schema|import-dcos`.
use clap::Subcommand;

use crate::{CliError, Exit};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the JSON Schema of cluster.yaml.
    Schema,
}

pub fn run(_command: ConfigCommand) -> Result<Exit, CliError> {
    Err(CliError::NotYet("config"))
}
