//! `CloudError`: everything the cloud layer can fail with, worded for the operator.
use std::path::PathBuf;

/// Failures of planning, talking to a provider, or editing `cluster.yaml`.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// The `cloud:` section (or the file around it) is unusable; `key` is the YAML path.
    #[error("{file}: {key}: {message}")]
    Config {
        file: String,
        key: String,
        message: String,
    },
    /// `cluster.yaml` failed validation: strato-config's diagnostics, one per line.
    #[error("{0}")]
    Invalid(String),
    /// No usable credentials: the message names every place that was looked at.
    #[error("{0}")]
    Credentials(String),
    /// The provider refused a call; `step` says what we were doing.
    #[error("{provider}: {step}: {message}")]
    Api {
        provider: &'static str,
        step: String,
        message: String,
    },
    /// A long-running operation or wait did not finish in time.
    #[error("{provider}: {step}: gave up after {seconds} s")]
    Timeout {
        provider: &'static str,
        step: String,
        seconds: u64,
    },
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
    /// `destroy` needs a yes from a person, and there is nobody to ask.
    #[error("refusing to destroy without confirmation: stdin is not a terminal; pass --yes")]
    NeedsConfirmation,
    /// Writing to the operator's terminal failed.
    #[error("cannot write output")]
    Output(#[from] std::io::Error),
}

impl CloudError {
    pub(crate) fn api(
        provider: &'static str,
        step: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        CloudError::Api {
            provider,
            step: step.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = CloudError> = std::result::Result<T, E>;
