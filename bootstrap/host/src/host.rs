//! [`Host`]: a named machine behind a [`Transport`], and the single choke point for changes.
//!
//! Reads ([`Host::read`], [`Host::download`], fact gathering) always run. Every change —
//! a command that alters the host, or a file written to it — goes through [`Host::apply`]. In
//! dry-run mode `apply` records "would run: …" / "would upload: …" and touches nothing, so
//! `--dry-run` is honest by construction (k0sctl's `Manager.Wet`). Code that changes a host
//! must never call the transport directly; the transport is private to this type for that
//! reason.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::transport::{ExecOptions, ExecOutput, Transport, TransportError, UploadOptions};

/// A change to a host. Build one and pass it to [`Host::apply`]. `Debug` shows an upload's
/// size, never its bytes (keys and certificates travel this way).
pub enum Change {
    /// Run a command that alters the host (install, enable a unit, write config with a tool).
    Exec { command: String, opts: ExecOptions },
    /// Write a file atomically with a mode.
    Upload {
        data: Vec<u8>,
        path: String,
        mode: u32,
        opts: UploadOptions,
    },
}

impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Exec { command, opts } => f
                .debug_struct("Exec")
                .field("command", command)
                .field("opts", opts)
                .finish(),
            Change::Upload {
                data,
                path,
                mode,
                opts,
            } => f
                .debug_struct("Upload")
                .field("data", &format_args!("<{} bytes>", data.len()))
                .field("path", path)
                .field("mode", &format_args!("{mode:o}"))
                .field("opts", opts)
                .finish(),
        }
    }
}

impl Change {
    /// A privileged command (sudo for non-root logins), with default limits.
    pub fn exec_sudo(command: impl Into<String>) -> Self {
        Change::Exec {
            command: command.into(),
            opts: ExecOptions::sudo(),
        }
    }

    /// A privileged upload.
    pub fn upload_sudo(data: Vec<u8>, path: impl Into<String>, mode: u32) -> Self {
        Change::Upload {
            data,
            path: path.into(),
            mode,
            opts: UploadOptions {
                sudo: true,
                ..UploadOptions::default()
            },
        }
    }

    /// The line shown in a dry-run plan.
    pub fn describe(&self) -> String {
        match self {
            Change::Exec { command, .. } => format!("would run: {command}"),
            Change::Upload {
                data, path, mode, ..
            } => format!(
                "would upload: {path} ({} bytes, mode {mode:04o})",
                data.len()
            ),
        }
    }
}

/// What [`Host::apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The command ran; its exit status is for the caller to judge.
    Ran(ExecOutput),
    /// The file was written.
    Uploaded,
    /// Dry-run: recorded in the plan, nothing executed.
    Planned,
}

/// One line of a dry-run plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedChange {
    pub host: String,
    pub description: String,
}

/// Failures of host operations, with the host named.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Transport(#[from] TransportError),

    /// A read that must succeed exited non-zero.
    #[error("{host}: `{command}` exited with status {exit_status}: {stderr}")]
    CommandFailed {
        host: String,
        command: String,
        exit_status: u32,
        stderr: String,
    },

    /// /etc/os-release is malformed.
    #[error("{host}: cannot parse /etc/os-release")]
    OsRelease {
        host: String,
        #[source]
        source: crate::os_release::OsReleaseError,
    },

    /// The operating system is not one we support. The OS error is part of the message (not a
    /// source): it is the whole point, "unsupported OS: Arch Linux (ID=arch)".
    #[error("{host}: {os}")]
    UnsupportedOs {
        host: String,
        os: crate::os::OsError,
    },
}

/// A machine to read from and change, with an optional dry-run mode.
pub struct Host {
    name: String,
    transport: Arc<dyn Transport>,
    dry_run: bool,
    planned: Mutex<Vec<PlannedChange>>,
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .field("dry_run", &self.dry_run)
            .finish_non_exhaustive()
    }
}

impl Host {
    /// A host named `name` (as in cluster.yaml: its address) reached through `transport`.
    pub fn new(name: impl Into<String>, transport: Arc<dyn Transport>) -> Self {
        Host {
            name: name.into(),
            transport,
            dry_run: false,
            planned: Mutex::new(Vec::new()),
        }
    }

    /// In dry-run mode [`Host::apply`] only records what it would do.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// The transport's own address (`root@10.0.0.5:22`), for messages.
    pub fn address(&self) -> String {
        self.transport.address()
    }

    /// Run a command that does not change the host. Runs in dry-run mode too: only use it for
    /// queries (`cat`, `uname`, `systemctl is-active`, …).
    pub async fn read(&self, command: &str, opts: ExecOptions) -> Result<ExecOutput, HostError> {
        Ok(self.transport.exec(command, opts).await?)
    }

    /// [`Host::read`] that must exit 0; returns stdout as text.
    pub async fn read_ok(&self, command: &str) -> Result<String, HostError> {
        let out = self.read(command, ExecOptions::default()).await?;
        if !out.success() {
            return Err(HostError::CommandFailed {
                host: self.name.clone(),
                command: command.to_string(),
                exit_status: out.exit_status,
                stderr: out.stderr_text().trim().to_string(),
            });
        }
        Ok(out.stdout_text())
    }

    /// Read a file (runs in dry-run mode too).
    pub async fn download(&self, path: &str, opts: UploadOptions) -> Result<Vec<u8>, HostError> {
        Ok(self.transport.download(path, opts).await?)
    }

    /// The one way to change a host. Wet: executes the change. Dry-run: records
    /// [`Change::describe`] in the plan and returns [`Applied::Planned`] without touching it.
    pub async fn apply(&self, change: Change) -> Result<Applied, HostError> {
        if self.dry_run {
            let description = change.describe();
            tracing::info!(host = %self.name, "{description}");
            self.planned
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(PlannedChange {
                    host: self.name.clone(),
                    description,
                });
            return Ok(Applied::Planned);
        }
        match change {
            Change::Exec { command, opts } => {
                tracing::debug!(host = %self.name, %command, "change");
                Ok(Applied::Ran(self.transport.exec(&command, opts).await?))
            }
            Change::Upload {
                data,
                path,
                mode,
                opts,
            } => {
                tracing::debug!(host = %self.name, %path, bytes = data.len(), "upload");
                self.transport.upload(&data, &path, mode, opts).await?;
                Ok(Applied::Uploaded)
            }
        }
    }

    /// [`Host::apply`] of a command that must exit 0 when it runs.
    pub async fn apply_ok(&self, change: Change) -> Result<Applied, HostError> {
        let command = match &change {
            Change::Exec { command, .. } => command.clone(),
            Change::Upload { path, .. } => path.clone(),
        };
        let applied = self.apply(change).await?;
        if let Applied::Ran(out) = &applied {
            if !out.success() {
                return Err(HostError::CommandFailed {
                    host: self.name.clone(),
                    command,
                    exit_status: out.exit_status,
                    stderr: out.stderr_text().trim().to_string(),
                });
            }
        }
        Ok(applied)
    }

    /// The dry-run plan so far (empty in wet mode).
    pub fn planned(&self) -> Vec<PlannedChange> {
        self.planned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{FakeCall, FakeReply, FakeTransport};

    fn host(dry_run: bool) -> (Host, FakeTransport) {
        let fake = FakeTransport::new("node-1");
        fake.default_reply(FakeReply::ok("x\n"));
        let host = Host::new("10.0.0.5", Arc::new(fake.clone())).with_dry_run(dry_run);
        (host, fake)
    }

    #[test]
    fn debug_of_an_upload_shows_its_size_not_its_bytes() {
        let change = Change::upload_sudo(
            b"PRIVATE KEY 42".to_vec(),
            "/opt/strato/etc/tls/node.key",
            0o600,
        );
        let text = format!("{change:?}");
        assert!(
            text.contains("<14 bytes>") && text.contains("600"),
            "{text}"
        );
        assert!(
            !text.contains("PRIVATE") && !text.contains("80, 82"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn dry_run_records_changes_and_runs_none_but_reads_still_run() {
        let (host, fake) = host(true);
        assert_eq!(
            host.read_ok("cat /etc/os-release").await.expect("read"),
            "x\n"
        );
        let a = host
            .apply(Change::exec_sudo("systemctl enable --now strato-master"))
            .await
            .expect("apply");
        let b = host
            .apply(Change::upload_sudo(
                vec![1, 2, 3],
                "/opt/strato/bin/x",
                0o755,
            ))
            .await
            .expect("apply");
        assert_eq!((a, b), (Applied::Planned, Applied::Planned));
        assert_eq!(fake.commands(), vec!["cat /etc/os-release"]);
        assert_eq!(fake.file("/opt/strato/bin/x"), None);
        let plan: Vec<String> = host.planned().into_iter().map(|p| p.description).collect();
        assert_eq!(
            plan,
            vec![
                "would run: systemctl enable --now strato-master",
                "would upload: /opt/strato/bin/x (3 bytes, mode 0755)",
            ]
        );
    }

    #[tokio::test]
    async fn wet_mode_executes_changes_and_plans_nothing() {
        let (host, fake) = host(false);
        host.apply(Change::exec_sudo("touch /etc/strato"))
            .await
            .expect("apply");
        host.apply(Change::upload_sudo(vec![9], "/opt/f", 0o600))
            .await
            .expect("apply");
        assert_eq!(fake.commands(), vec!["touch /etc/strato"]);
        assert_eq!(fake.file("/opt/f"), Some((vec![9], 0o600)));
        assert!(matches!(
            &fake.calls()[0],
            FakeCall::Exec { sudo: true, .. }
        ));
        assert!(host.planned().is_empty());
    }

    #[tokio::test]
    async fn apply_ok_reports_a_failing_change_with_host_and_status() {
        let (host, fake) = host(false);
        fake.on_exact("false", FakeReply::fail(1, "nope\n"));
        let err = host
            .apply_ok(Change::exec_sudo("false"))
            .await
            .expect_err("fails");
        assert_eq!(
            err.to_string(),
            "10.0.0.5: `false` exited with status 1: nope"
        );
    }
}
