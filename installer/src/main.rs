//! `strato`: parse the command line, run it, render the outcome once, exit with the documented code.
use clap::Parser;
use std::process::ExitCode;

use strato::logging::{self, Verbosity};
use strato::Exit;

fn main() -> ExitCode {
    let cli = strato::cli::Cli::parse();
    let log_file = match (&cli.global.log_file, cli.command.writes_log()) {
        (Some(path), _) => Some(path.clone()),
        (None, true) => logging::default_log_file(),
        (None, false) => None,
    };
    let verbosity = Verbosity {
        verbose: cli.global.verbose,
        quiet: cli.global.quiet,
    };
    strato::ui::set_quiet(verbosity.quiet);
    let log_file = logging::init(verbosity, log_file.as_deref());
    strato::ui::passphrase::install_prompt();
    let verdict = cli.command.exit_1_is_a_verdict();
    let (exit, failed) = match strato::run(cli) {
        Ok(exit) => (
            exit,
            exit != Exit::Success && !(verdict && exit == Exit::Failure),
        ),
        Err(err) => {
            tracing::debug!("error: {err:?}");
            strato::report::print_error(&err);
            (err.exit_code(), true)
        }
    };
    if failed {
        if let Some(path) = log_file {
            eprintln!("the full log of this run is in {}", path.display());
        }
    }
    exit.into()
}
