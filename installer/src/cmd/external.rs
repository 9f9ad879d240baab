//! `strato cloud …` and `strato config import-terraform …` run the separate `strato-cloud` program,
//! the way git and kubectl run their plugins: `strato` itself never compiles the AWS, Azure and
//! Google SDKs, so `cargo run -p strato -- up --local` on a fresh clone starts quickly
//! (docs/benchmarks.md, "First command"). Arguments, stdio and the exit code pass through.
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use clap::Args;

use crate::{CliError, Exit};

/// The program `strato cloud` runs, looked up next to `strato` and then on PATH.
pub const CLOUD_PROGRAM: &str = "strato-cloud";

/// Everything after the subcommand, handed to the other program untouched (`--help` included).
#[derive(Debug, Args)]
pub struct ExternalArgs {
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<OsString>,
}

/// Run `strato-cloud <prefix…> <args…>`. Returns only when the program cannot be started; otherwise
/// this process ends with the program's exit code.
pub fn run_cloud(prefix: &[&str], args: ExternalArgs) -> Result<Exit, CliError> {
    let program = find_program(CLOUD_PROGRAM).ok_or(CliError::NoCloudProgram)?;
    let mut command = Command::new(&program);
    command.args(prefix).args(&args.args);
    run(command, program)
}

/// Next to the running executable first (a release archive, `target/debug`), then PATH.
fn find_program(name: &str) -> Option<PathBuf> {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&file)));
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(&file));
    beside.into_iter().chain(on_path).find(|p| p.is_file())
}

/// Unix: replace this process, so signals, stdio and the exit status are the program's own.
#[cfg(unix)]
fn run(mut command: Command, program: PathBuf) -> Result<Exit, CliError> {
    use std::os::unix::process::CommandExt;
    let source = command.exec();
    Err(CliError::Run {
        path: program,
        source,
    })
}

/// Elsewhere (Windows): run it with our stdio and exit with its code.
#[cfg(not(unix))]
fn run(mut command: Command, program: PathBuf) -> Result<Exit, CliError> {
    let status = command.status().map_err(|source| CliError::Run {
        path: program,
        source,
    })?;
    std::process::exit(status.code().unwrap_or(1))
}
