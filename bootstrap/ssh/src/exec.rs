//! Running one command on its own channel: optional stdin, output streamed to a callback while
//! it is also collected, an exit status, and a timeout bounded by the job deadline.

use std::fmt;
use std::time::{Duration, Instant};

use russh::ChannelMsg;
use tokio::io::AsyncWriteExt;

use crate::error::SshError;
use crate::pgid::{kill_command, with_pgid_report, PgidSniffer};
use crate::session::Session;
use crate::sudo::{remote_command, sudo_wants_password};
use crate::timeouts::{budget, Bound, KILL_TIMEOUT};

/// Which of the command's output streams a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// Receives output chunks as they arrive (not split on lines). To feed a channel, capture an
/// `mpsc::UnboundedSender` in the closure.
pub type OutputFn = Box<dyn FnMut(OutputStream, &[u8]) + Send>;

/// How to run one command. `Default` = no stdin, the session's command timeout, no deadline,
/// not privileged, no streaming.
#[derive(Default)]
pub struct ExecOptions {
    /// Bytes written to the command's stdin, then EOF. Binary-safe.
    pub stdin: Option<Vec<u8>>,
    /// This command's limit; `None` uses the session's `command_timeout`.
    pub timeout: Option<Duration>,
    /// The whole job's deadline; the command is cut off there even if its timeout is longer.
    pub deadline: Option<Instant>,
    /// Run as root: wrapped in `sudo -n` when the login user is not root.
    pub sudo: bool,
    /// Called with each output chunk as it arrives.
    pub on_output: Option<OutputFn>,
}

impl fmt::Debug for ExecOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecOptions")
            .field("stdin_len", &self.stdin.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("sudo", &self.sudo)
            .field("streaming", &self.on_output.is_some())
            .finish()
    }
}

impl ExecOptions {
    /// Privileged (sudo for non-root), otherwise defaults.
    pub fn sudo() -> Self {
        ExecOptions {
            sudo: true,
            ..Self::default()
        }
    }
}

/// What a finished command left behind. A non-zero exit is not an error here: the caller
/// decides what a failure means.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// The exit status; 255 when the command died of a signal or the server sent none
    /// (what the OpenSSH client reports too).
    pub exit_status: u32,
    /// The signal name (`KILL`, `TERM`, …) when the command was killed by one.
    pub exit_signal: Option<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    /// Exit status 0.
    pub fn success(&self) -> bool {
        self.exit_status == 0 && self.exit_signal.is_none()
    }

    /// Stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The exit status reported when none was received.
const NO_STATUS: u32 = 255;

impl Session {
    /// Run `command` (through the login shell, like `ssh host command`) on a new channel.
    /// With `opts.sudo` and a non-root user it runs under `sudo -n`; sudo asking for a
    /// password is [`SshError::SudoPasswordRequired`]. On timeout (or at the deadline) the
    /// command's whole process group is killed from a second channel and this channel closed,
    /// so nothing keeps running on the host (see `pgid.rs`); stderr never shows the marker line
    /// used for that.
    pub async fn exec(&self, command: &str, opts: ExecOptions) -> Result<ExecOutput, SshError> {
        let host = self.host();
        let timeout = opts.timeout.unwrap_or(self.inner.command_timeout);
        let Some((limit, bound)) = budget(timeout, opts.deadline) else {
            return Err(SshError::DeadlineExceeded { host, step: "exec" });
        };
        let wire = with_pgid_report(&remote_command(command, opts.sudo, &self.inner.target.user));
        tracing::debug!(host = %host, command = %wire, "exec");
        // Waiting for a free channel slot counts against this command's limit.
        let started = Instant::now();
        let slot = tokio::time::timeout(limit, self.inner.exec_slots.acquire()).await;
        let Ok(Ok(_slot)) = slot else {
            return Err(limit_error(bound, host, command));
        };
        let limit = limit.saturating_sub(started.elapsed());
        let mut channel = self
            .inner
            .handle
            .channel_open_session()
            .await
            .map_err(|source| protocol(&host, "open exec channel", source))?;
        let mut sniffer = PgidSniffer::default();
        let run = async {
            channel
                .exec(true, wire.as_bytes())
                .await
                .map_err(|source| protocol(&host, "exec request", source))?;
            let writer = opts.stdin.map(|data| {
                let mut w = channel.make_writer();
                tokio::spawn(async move {
                    // A command that exits without reading stdin closes the channel; that
                    // write error is expected and the exit status tells the story.
                    let _ = w.write_all(&data).await;
                    let _ = w.shutdown().await;
                })
            });
            let out = collect(&mut channel, opts.on_output, &mut sniffer).await;
            if let Some(w) = writer {
                w.abort();
            }
            Ok::<_, SshError>(out)
        };
        let out = match tokio::time::timeout(limit, run).await {
            Ok(out) => out?,
            Err(_) => {
                let _ = channel.signal(russh::Sig::KILL).await;
                let _ = channel.close().await;
                if let Some(pgid) = sniffer.pgid() {
                    self.kill_group(pgid, opts.sudo).await;
                }
                return Err(limit_error(bound, host, command));
            }
        };
        check_sudo(out, opts.sudo, &self.inner.target.user, host)
    }
}

impl Session {
    /// Best effort: kill a timed-out command's process group from a fresh channel.
    async fn kill_group(&self, pgid: u32, sudo: bool) {
        let wire = remote_command(&kill_command(pgid), sudo, &self.inner.target.user);
        let kill = async {
            let channel = self.inner.handle.channel_open_session().await.ok()?;
            channel.exec(true, wire.as_bytes()).await.ok()?;
            let mut channel = channel;
            while let Some(msg) = channel.wait().await {
                if matches!(msg, ChannelMsg::Close) {
                    break;
                }
            }
            Some(())
        };
        if tokio::time::timeout(KILL_TIMEOUT, kill).await.is_err() {
            tracing::warn!(host = %self.host(), pgid, "could not kill timed-out command");
        }
    }
}

/// A privileged command that failed because sudo wanted a password becomes
/// [`SshError::SudoPasswordRequired`]; anything else is returned as it is.
fn check_sudo(
    out: ExecOutput,
    sudo: bool,
    user: &str,
    host: String,
) -> Result<ExecOutput, SshError> {
    if sudo && user != "root" && out.exit_status != 0 && sudo_wants_password(&out.stderr) {
        return Err(SshError::SudoPasswordRequired {
            host,
            user: user.to_string(),
        });
    }
    Ok(out)
}

fn limit_error(bound: Bound, host: String, command: &str) -> SshError {
    match bound {
        Bound::Deadline => SshError::DeadlineExceeded { host, step: "exec" },
        Bound::Timeout(timeout) => SshError::CommandTimeout {
            host,
            command: command.to_string(),
            timeout,
        },
    }
}

async fn collect(
    channel: &mut russh::Channel<russh::client::Msg>,
    mut on_output: Option<OutputFn>,
    sniffer: &mut PgidSniffer,
) -> ExecOutput {
    let mut out = ExecOutput {
        exit_status: NO_STATUS,
        ..ExecOutput::default()
    };
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::Data { data } => {
                if let Some(f) = on_output.as_mut() {
                    f(OutputStream::Stdout, &data);
                }
                out.stdout.extend_from_slice(&data);
            }
            // Extended data type 1 is stderr (RFC 4254 §5.2).
            ChannelMsg::ExtendedData { data, ext: 1 } => {
                let data = sniffer.feed(&data);
                if data.is_empty() {
                    continue;
                }
                if let Some(f) = on_output.as_mut() {
                    f(OutputStream::Stderr, &data);
                }
                out.stderr.extend_from_slice(&data);
            }
            ChannelMsg::ExitStatus { exit_status } => out.exit_status = exit_status,
            ChannelMsg::ExitSignal { signal_name, .. } => {
                out.exit_signal = Some(format!("{signal_name:?}"));
                out.exit_status = NO_STATUS;
            }
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    let rest = sniffer.finish();
    if !rest.is_empty() {
        if let Some(f) = on_output.as_mut() {
            f(OutputStream::Stderr, &rest);
        }
        out.stderr.extend_from_slice(&rest);
    }
    out
}

pub(crate) fn protocol(host: &str, step: &'static str, source: russh::Error) -> SshError {
    SshError::Protocol {
        host: host.to_string(),
        step,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(stderr: &str) -> ExecOutput {
        ExecOutput {
            exit_status: 1,
            stderr: stderr.as_bytes().to_vec(),
            ..ExecOutput::default()
        }
    }

    #[test]
    fn sudo_password_prompt_becomes_a_clear_error_for_non_root() {
        let err = check_sudo(
            failed("sudo: a password is required\n"),
            true,
            "centos",
            "h".into(),
        )
        .expect_err("sudo wants a password");
        assert_eq!(
            err.to_string(),
            "h: sudo needs a password for user centos; allow passwordless sudo (NOPASSWD) \
             for this user or connect as root"
        );
    }

    #[test]
    fn other_failures_and_unprivileged_commands_pass_through() {
        let out = check_sudo(failed("cat: x: No such file\n"), true, "centos", "h".into());
        assert_eq!(out.expect("plain failure").exit_status, 1);
        let prompt = "sudo: a password is required\n";
        let out = check_sudo(failed(prompt), false, "centos", "h".into());
        assert!(out.is_ok(), "not wrapped in sudo, so not sudo's message");
        let out = check_sudo(failed(prompt), true, "root", "h".into());
        assert!(out.is_ok(), "root is never wrapped");
    }
}
