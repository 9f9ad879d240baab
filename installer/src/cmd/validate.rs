//! `strato validate`: check cluster.yaml and report every problem with file, line and key.
//! `-o json` prints one object for CI and editors (as `terraform validate -json` does).
use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use strato_config::{check_file, Diagnostics, LoadError, RealFiles, Severity};

use crate::output::{Output, OutputArg};
use crate::{report, CliError, Exit};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato validate                        # ./cluster.yaml, or $STRATO_CONFIG
  strato validate -c prod.yaml -o json   # one JSON object for CI")]
pub struct ValidateArgs {
    /// The cluster description to check.
    #[arg(
        short = 'c',
        long = "config",
        env = "STRATO_CONFIG",
        default_value = "cluster.yaml"
    )]
    pub config: PathBuf,
    #[command(flatten)]
    pub output: OutputArg,
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
            print(args.output.output, &diagnostics, None);
            return Ok(Exit::Failure);
        }
    };
    let summary = checked
        .cluster
        .as_ref()
        .filter(|_| !checked.diagnostics.has_errors())
        .map(|cluster| cluster.summary());
    print(args.output.output, &checked.diagnostics, summary.as_deref());
    match summary {
        Some(summary) if args.output.output == Output::Table => {
            println!("{} is valid: {summary}", args.config.display());
            Ok(Exit::Success)
        }
        Some(_) => Ok(Exit::Success),
        None => Ok(Exit::Failure),
    }
}

/// Table: diagnostics on stderr (the summary line is printed by the caller). JSON: one object on
/// stdout with `valid`, the counts, every diagnostic and (when valid) the summary.
fn print(output: Output, diagnostics: &Diagnostics, summary: Option<&str>) {
    match output {
        Output::Table => report::print_diagnostics(diagnostics),
        Output::Json => println!("{}", to_json(diagnostics, summary)),
    }
}

fn to_json(diagnostics: &Diagnostics, summary: Option<&str>) -> serde_json::Value {
    let list: Vec<_> = diagnostics
        .0
        .iter()
        .map(|d| {
            json!({
                "severity": match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                "file": d.file,
                "line": d.mark.map(|m| m.line),
                "column": d.mark.map(|m| m.column),
                "key": d.key,
                "message": d.message,
            })
        })
        .collect();
    json!({
        "valid": summary.is_some(),
        "error_count": diagnostics.error_count(),
        "warning_count": diagnostics.0.len() - diagnostics.error_count(),
        "diagnostics": list,
        "summary": summary,
    })
}
