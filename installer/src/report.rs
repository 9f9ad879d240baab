//! The one place errors reach the user: `error: <message>` then each cause on its own line.
use std::error::Error;

use crate::CliError;

/// Print an error and its chain of causes to stderr.
pub fn print_error(err: &CliError) {
    eprintln!("error: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
}
