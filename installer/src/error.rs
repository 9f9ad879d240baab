//! `CliError`: everything a handler can fail with, and the exit code each failure maps to.
use std::path::PathBuf;

use crate::exit::Exit;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The subcommand exists in the plan but is not built yet.
    #[error("`strato {0}` is not available in this build yet")]
    NotYet(&'static str),
    /// A usage problem clap cannot see (e.g. conflicting files).
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `strato cloud` runs a separate program (installer/src/cmd/external.rs) that is not installed.
    #[error("strato cloud needs the strato-cloud program; install it next to strato or on PATH (cargo install --path installer/cloud)")]
    NoCloudProgram,
    #[error("cannot run {path}")]
    Run {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another job runs on the bootstrap server (one job that changes nodes at a time).
    #[error(
        "the bootstrap server is running job {job} ({kind}); one job at a time changes a \
         cluster's nodes. Run this again once it has ended (`strato status` shows its progress)"
    )]
    Busy { job: String, kind: String },
    /// Anything else, already worded for the user by the library that produced it.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl CliError {
    /// The exit code for this error (see `exit.rs`).
    pub fn exit_code(&self) -> Exit {
        match self {
            CliError::Usage(_) => Exit::Usage,
            CliError::Busy { .. } => Exit::Busy,
            CliError::NotYet(_)
            | CliError::NoCloudProgram
            | CliError::Run { .. }
            | CliError::Read { .. }
            | CliError::Write { .. }
            | CliError::Other(_) => Exit::Failure,
        }
    }
}
