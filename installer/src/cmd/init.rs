//! `strato init`.
use clap::Args;

use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct InitArgs {}

pub fn run(_args: InitArgs) -> Result<Exit, CliError> {
    Err(CliError::NotYet("init"))
}
