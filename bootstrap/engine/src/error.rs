//! Engine errors: a job that cannot start, and a phase that failed on one host.

use std::path::PathBuf;

use strato_host::HostError;

/// A job could not be created, resumed or recorded.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// cluster.yaml has errors; each line names file, line and key.
    #[error("cluster.yaml is invalid:\n{0}")]
    InvalidCluster(String),
    #[error("unknown preflight check in waivers: {0}")]
    InvalidWaiver(String),
    /// The serve tree (genconf output) is missing or incomplete.
    #[error("serve tree {path}: {message}")]
    ServeTree { path: PathBuf, message: String },
    #[error("cannot write or read the job journal at {path}")]
    Journal {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("job journal {path} is corrupt")]
    JournalCorrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The cluster CA could not be loaded or made (the path is named, key material never).
    #[error("cluster CA: {0}")]
    Pki(#[source] strato_tls::TlsError),
    #[error("no job {0}")]
    UnknownJob(String),
    /// One job that changes nodes at a time: a deploy and an uninstall must not interleave.
    #[error("job {job} is changing this cluster's nodes; wait for it to end (`strato status` follows it)")]
    Busy { job: String },
}

/// Why a phase failed on a host. Messages name the host and the step.
#[derive(Debug, thiserror::Error)]
pub enum PhaseError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("{host}: cannot connect")]
    Connect {
        host: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A check or step failed with a message for the operator.
    #[error("{host}: {message}")]
    Failed { host: String, message: String },
    /// An earlier phase did not leave what this one needs (a bug in the action's order).
    #[error("{host}: {what} is not known yet (phase order)")]
    Missing { host: String, what: &'static str },
}

impl PhaseError {
    pub fn failed(host: &str, message: impl Into<String>) -> Self {
        PhaseError::Failed {
            host: host.to_string(),
            message: message.into(),
        }
    }
}

/// The full chain of an error on one line, for events and status (`a: b: c`).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}
