//! One file per subcommand: each builds a request, calls a library, renders the result.
pub mod backup;
pub mod bundle;
pub mod ca;
pub mod completion;
pub mod config;
pub mod deploy;
pub mod external;
pub mod genconf;
pub mod init;
pub mod job;
pub mod login;
pub mod man;
pub mod master_link;
pub mod passwd;
pub mod postflight;
pub mod preflight;
pub mod remote;
pub mod status;
pub mod task;
pub mod token;
pub mod uninstall;
pub mod up;
pub mod upgrade;
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
        Command::Preflight(args) => preflight::run(args),
        Command::Deploy(args) => deploy::run(args),
        Command::Postflight(args) => postflight::run(args),
        Command::Uninstall(args) => uninstall::run(args),
        Command::Upgrade(args) => upgrade::run(args),
        Command::Status(args) => status::run(args),
        Command::Backup(args) => backup::backup(args),
        Command::Restore(args) => backup::restore(args),
        Command::Ca(command) => ca::run(command),
        Command::Passwd(args) => passwd::run(args),
        Command::Login(args) => login::run(args),
        Command::Token(command) => token::run(command),
        Command::Task(command) => task::run(command),
        Command::Cloud(args) => external::run_cloud(&[], args),
        Command::Completion(args) => completion::run(args),
        Command::GenerateMan(args) => man::run(args),
    }
}
