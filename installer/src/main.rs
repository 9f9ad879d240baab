//! `strato`: parse the command line, run it, render the outcome once, exit with the documented code.
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = strato::cli::Cli::parse();
    strato::logging::init(cli.global.verbose);
    match strato::run(cli) {
        Ok(code) => code.into(),
        Err(err) => {
            strato::report::print_error(&err);
            err.exit_code().into()
        }
    }
}
