//! The one seam between Strato and a machine: run a command, write a file, read a file.
//! Implementations: [`SshTransport`](crate::SshTransport) (a node over SSH),
//! [`LocalTransport`](crate::LocalTransport) (this machine; Unix only) and
//! [`FakeTransport`](crate::FakeTransport) (scripted, for tests).
//!
//! Nothing here knows about dry-run: code that changes a host goes through
//! [`Host::apply`](crate::Host::apply), which is the only caller of the mutating methods.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use strato_ssh::SshError;

pub use strato_ssh::{ExecOptions, ExecOutput, OutputFn, OutputStream, UploadOptions};

/// A way to run commands on one machine. Object-safe, so hosts hold `Arc<dyn Transport>`.
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// How the host is named in errors and logs (`root@10.0.0.5:22`, `local`).
    fn address(&self) -> String;

    /// Run `command` through a POSIX shell. A non-zero exit is an `Ok` output; errors mean the
    /// command could not be run or finish (connection lost, timeout, sudo wants a password).
    async fn exec(&self, command: &str, opts: ExecOptions) -> Result<ExecOutput, TransportError>;

    /// Write `data` to the absolute `path` with `mode`, atomically (temporary file, then rename).
    async fn upload(
        &self,
        data: &[u8],
        path: &str,
        mode: u32,
        opts: UploadOptions,
    ) -> Result<(), TransportError>;

    /// Read the whole file at the absolute `path`.
    async fn download(&self, path: &str, opts: UploadOptions) -> Result<Vec<u8>, TransportError>;
}

/// Why a transport could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Anything from the SSH engine; it names the host and step itself. Boxed: it is large.
    #[error(transparent)]
    Ssh(Box<SshError>),

    /// A local process could not be started or waited for.
    #[error("{host}: cannot run `{command}`")]
    Spawn {
        host: String,
        command: String,
        #[source]
        source: std::io::Error,
    },

    /// A local command exceeded its timeout and was killed.
    #[error("{host}: command timed out after {timeout:?}: {command}")]
    CommandTimeout {
        host: String,
        command: String,
        timeout: Duration,
    },

    /// The job deadline passed.
    #[error("{host}: job deadline passed during {step}")]
    DeadlineExceeded { host: String, step: &'static str },

    /// `sudo -n` wants a password (local runs as a non-root user).
    #[error("{host}: sudo needs a password; allow passwordless sudo or run as root")]
    SudoPasswordRequired { host: String },

    /// A file transfer's shell pipeline failed.
    #[error("{host}: {op} {path} failed (exit {exit_status}): {stderr}")]
    File {
        host: String,
        op: &'static str,
        path: String,
        exit_status: u32,
        stderr: String,
    },

    /// A fake transport was asked something its script does not cover.
    #[error("{host}: fake transport has no scripted answer for `{command}`")]
    Unscripted { host: String, command: String },
}

impl From<SshError> for TransportError {
    fn from(e: SshError) -> Self {
        TransportError::Ssh(Box::new(e))
    }
}
