//! `strato genconf`.
use clap::Args;

use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct GenconfArgs {}

pub fn run(_args: GenconfArgs) -> Result<Exit, CliError> {
    Err(CliError::NotYet("genconf"))
}
