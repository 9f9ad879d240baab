//! The `strato` CLI as a library: argument types (`cli`), one handler per subcommand (`cmd`), the
//! exit-code table (`exit`) and the one place errors are rendered (`report`).
//!
//! Behaviour lives in library crates (`strato-config`, `strato-render`, …); handlers here build a
//! request, call them, and render the result.

pub mod cli;
pub mod cmd;
pub mod error;
pub mod exit;
pub mod logging;
pub mod output;
pub mod pki;
pub mod report;
pub mod ui;
pub mod wizard;

pub use error::CliError;
pub use exit::Exit;

/// Run one parsed command line; the caller renders errors and turns the result into an exit code.
pub fn run(cli: cli::Cli) -> Result<Exit, CliError> {
    cmd::dispatch(cli)
}
