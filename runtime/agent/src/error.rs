//! Error types of the agent library.

use std::path::PathBuf;

/// A config file that cannot be used, naming the file (and line and key where known).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read agent config {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `message` comes from the TOML parser and names the line, column and key.
    #[error("invalid agent config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid agent config {path}: key `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: &'static str,
        message: String,
    },
}

/// Why the agent could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("invalid agent config: key `{key}`: {message}")]
    Config { key: &'static str, message: String },
    #[error("cannot use work dir {path}")]
    WorkDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on {address}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the http client")]
    HttpClient {
        #[source]
        source: reqwest::Error,
    },
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
}
