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

/// Print file diagnostics to stderr, one `FILE:LINE:COL: key: message` line each, then a count
/// of the errors (when there are any).
pub fn print_diagnostics(diagnostics: &strato_config::Diagnostics) {
    for d in &diagnostics.0 {
        eprintln!("{d}");
    }
    let errors = diagnostics.error_count();
    if errors > 0 {
        let file = diagnostics
            .0
            .first()
            .map_or("the file", |d| d.file.as_str());
        let noun = if errors == 1 { "error" } else { "errors" };
        eprintln!("{errors} {noun} in {file}");
    }
}
