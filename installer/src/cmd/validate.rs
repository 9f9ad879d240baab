//! `strato validate`: check cluster.yaml and report every problem with file, line and key.
use std::path::PathBuf;

use clap::Args;
use strato_config::{check_file, LoadError, RealFiles};

use crate::{report, CliError, Exit};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The cluster description to check.
    #[arg(
        short = 'c',
        long = "config",
        env = "STRATO_CONFIG",
        default_value = "cluster.yaml"
    )]
    pub config: PathBuf,
}

/// Exit 0 when valid (warnings allowed), 1 when invalid, 2 when the file does not exist.
pub fn run(args: ValidateArgs) -> Result<Exit, CliError> {
    let checked = match check_file(&args.config, &RealFiles) {
        Ok(checked) => checked,
        Err(LoadError::Read { path, source }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::Usage(format!(
                "{} does not exist (pass -c PATH or set STRATO_CONFIG; `strato init` writes one)",
                path.display()
            )));
        }
        Err(LoadError::Read { path, source }) => return Err(CliError::Read { path, source }),
        Err(LoadError::Invalid(diagnostics)) => {
            report::print_diagnostics(&diagnostics);
            return Ok(Exit::Failure);
        }
    };
    report::print_diagnostics(&checked.diagnostics);
    match checked.cluster {
        Some(cluster) if !checked.diagnostics.has_errors() => {
            println!("{} is valid: {}", args.config.display(), cluster.summary());
            Ok(Exit::Success)
        }
        _ => Ok(Exit::Failure),
    }
}
