//! The one error type of this crate. Every variant names the host (`user@addr:port`) and, where it
//! matters, the step that failed, so a line in a fan-out report is enough to act on.

use std::path::PathBuf;
use std::time::Duration;

use crate::known_hosts::Fingerprint;

/// What went wrong talking to one host.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// TCP connect failed (refused, unreachable, DNS); retried before this is returned.
    #[error("{host}: cannot connect after {attempts} attempt(s)")]
    Connect {
        host: String,
        attempts: u32,
        #[source]
        source: std::io::Error,
    },

    /// TCP or SSH handshake did not finish within the connect timeout.
    #[error("{host}: connect timed out after {timeout:?} ({attempts} attempt(s))")]
    ConnectTimeout {
        host: String,
        timeout: Duration,
        attempts: u32,
    },

    /// The SSH protocol failed (handshake, channel, disconnect).
    #[error("{host}: ssh protocol error during {step}")]
    Protocol {
        host: String,
        step: &'static str,
        #[source]
        source: russh::Error,
    },

    /// The server presented a key other than the pinned one: possible man-in-the-middle, or the
    /// host was reinstalled. Never retried.
    #[error(
        "{host}: host key changed: pinned {expected}, server presented {actual}; \
         if the host was reinstalled, remove its pinned fingerprint from the cluster state"
    )]
    HostKeyChanged {
        host: String,
        expected: String,
        actual: Fingerprint,
    },

    /// The policy demands a pinned key and none was given.
    #[error("{host}: unknown host key {actual} and trust-on-first-use is off")]
    HostKeyUnknown { host: String, actual: Fingerprint },

    /// Every configured method was tried and the server accepted none.
    #[error("{host}: authentication failed for user {user} (tried: {tried})")]
    AuthFailed {
        host: String,
        user: String,
        tried: String,
    },

    /// No authentication method was configured at all.
    #[error(
        "{host}: no authentication method configured (give a private key or enable the ssh agent)"
    )]
    NoAuthMethod { host: String },

    /// The private key file cannot be read.
    #[error("cannot read private key {path}")]
    ReadKey {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The private key cannot be parsed (wrong format, unsupported algorithm).
    #[error("cannot parse private key {path}")]
    ParseKey {
        path: PathBuf,
        #[source]
        source: russh::keys::Error,
    },

    /// The key is encrypted and no passphrase was available.
    #[error(
        "private key {path} is encrypted and no passphrase was given \
         (set STRATO_SSH_PASSPHRASE or use ssh-agent)"
    )]
    PassphraseRequired { path: PathBuf },

    /// The passphrase did not decrypt the key.
    #[error("wrong passphrase for private key {path}")]
    WrongPassphrase { path: PathBuf },

    /// The ssh agent could not be reached or failed to sign.
    #[error("{host}: ssh agent: {reason}")]
    Agent { host: String, reason: String },

    /// `sudo -n` refused because the user needs a password.
    #[error(
        "{host}: sudo needs a password for user {user}; \
         allow passwordless sudo (NOPASSWD) for this user or connect as root"
    )]
    SudoPasswordRequired { host: String, user: String },

    /// A single command ran longer than its timeout; the channel was closed.
    #[error("{host}: command timed out after {timeout:?}: {command}")]
    CommandTimeout {
        host: String,
        command: String,
        timeout: Duration,
    },

    /// The whole job's deadline passed before (or while) this step ran.
    #[error("{host}: job deadline passed during {step}")]
    DeadlineExceeded { host: String, step: &'static str },

    /// An upload's remote shell pipeline failed.
    #[error("{host}: upload to {path} failed (exit {exit_status}): {stderr}")]
    Upload {
        host: String,
        path: String,
        exit_status: u32,
        stderr: String,
    },

    /// A download (`cat`) failed on the remote side.
    #[error("{host}: download of {path} failed (exit {exit_status}): {stderr}")]
    Download {
        host: String,
        path: String,
        exit_status: u32,
        stderr: String,
    },

    /// The remote path holds characters we refuse to pass to a shell.
    #[error("invalid remote path {path:?}: {reason}")]
    InvalidPath { path: String, reason: &'static str },

    /// Binding the local end of a port forward failed.
    #[error("cannot bind local port forward to {target}")]
    ForwardBind {
        target: String,
        #[source]
        source: std::io::Error,
    },

    /// The bastion connection failed; the inner error says how.
    #[error("bastion {bastion} for {host}")]
    Bastion {
        host: String,
        bastion: String,
        #[source]
        source: Box<SshError>,
    },
}

impl SshError {
    /// Whether a new connection attempt may succeed (refused, reset, timed out). Host key and
    /// authentication problems are permanent: retrying them only hides the cause.
    pub fn is_transient(&self) -> bool {
        match self {
            SshError::Connect { .. } | SshError::ConnectTimeout { .. } => true,
            // Through a bastion, a target that is down (rebooting) refuses the channel.
            SshError::Protocol {
                step: "open channel through bastion",
                ..
            } => true,
            SshError::Protocol { source, .. } => matches!(
                source,
                russh::Error::Disconnect
                    | russh::Error::HUP
                    | russh::Error::ConnectionTimeout
                    | russh::Error::IO(_)
            ),
            SshError::Bastion { source, .. } => source.is_transient(),
            _ => false,
        }
    }
}
