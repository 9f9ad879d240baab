//! `strato validate`.
use clap::Args;

use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct ValidateArgs {}

pub fn run(_args: ValidateArgs) -> Result<Exit, CliError> {
    Err(CliError::NotYet("validate"))
}
