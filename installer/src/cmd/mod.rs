//! One file per subcommand: each builds a request, calls a library, renders the result.
pub mod bundle;
pub mod config;
pub mod genconf;
pub mod init;
pub mod up;
pub mod validate;

use crate::cli::{Cli, Command};
use crate::{CliError, Exit};

/// Route a parsed command line to its handler.
pub fn dispatch(cli: Cli) -> Result<Exit, CliError> {
    match cli.command {
        Command::Init(args) => init::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Config(command) => config::run(command),
        Command::Genconf(args) => genconf::run(args),
        Command::Up(args) => up::run(args),
        Command::Bundle(args) => bundle::run(args),
    }
}
