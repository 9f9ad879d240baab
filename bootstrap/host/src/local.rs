//! [`Transport`] for this machine (`bootstrap: local`, `strato up --local`, tests). Unix only.
//! Commands run under `sh -c` in their own process group, so a timeout kills the whole tree.
//! Uploads and downloads use the same shell pipelines as the SSH transport, so both behave alike.

use std::process::Stdio;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use strato_ssh::timeouts::DEFAULT_COMMAND_TIMEOUT;
use strato_ssh::{check_remote_path, remote_command, sudo_wants_password, upload_script};
use strato_text::shell_quote;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::transport::{
    ExecOptions, ExecOutput, OutputFn, OutputStream, Transport, TransportError, UploadOptions,
};

const ADDRESS: &str = "local";

/// Runs commands on the machine this process runs on.
#[derive(Debug, Clone)]
pub struct LocalTransport {
    is_root: bool,
    command_timeout: Duration,
}

impl Default for LocalTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalTransport {
    /// Privileged commands use `sudo -n` unless this process already runs as root.
    pub fn new() -> Self {
        LocalTransport {
            is_root: nix::unistd::geteuid().is_root(),
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
        }
    }

    /// The timeout for commands whose options give none.
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    fn user(&self) -> &'static str {
        // remote_command only asks "root or not".
        if self.is_root {
            "root"
        } else {
            "user"
        }
    }
}

#[async_trait]
impl Transport for LocalTransport {
    fn address(&self) -> String {
        ADDRESS.to_string()
    }

    async fn exec(&self, command: &str, opts: ExecOptions) -> Result<ExecOutput, TransportError> {
        let timeout = opts.timeout.unwrap_or(self.command_timeout);
        let (limit, by_deadline) = limit(timeout, opts.deadline)?;
        let wire = remote_command(command, opts.sudo, self.user());
        let spawn_err = |source| TransportError::Spawn {
            host: ADDRESS.to_string(),
            command: command.to_string(),
            source,
        };
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&wire)
            .stdin(if opts.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(spawn_err)?;
        let pid = child.id();
        if let (Some(data), Some(mut stdin)) = (opts.stdin, child.stdin.take()) {
            tokio::spawn(async move {
                // A command that does not read its stdin closes the pipe; that is not an error.
                let _ = stdin.write_all(&data).await;
                let _ = stdin.shutdown().await;
            });
        }
        let run = async {
            let (stdout, stderr) = read_both(&mut child, opts.on_output).await;
            let status = child.wait().await?;
            Ok::<_, std::io::Error>((status, stdout, stderr))
        };
        let (status, stdout, stderr) = match tokio::time::timeout(limit, run).await {
            Ok(done) => done.map_err(spawn_err)?,
            Err(_) => {
                kill_group(pid);
                return Err(if by_deadline {
                    TransportError::DeadlineExceeded {
                        host: ADDRESS.to_string(),
                        step: "exec",
                    }
                } else {
                    TransportError::CommandTimeout {
                        host: ADDRESS.to_string(),
                        command: command.to_string(),
                        timeout,
                    }
                });
            }
        };
        let out = to_output(status, stdout, stderr);
        if opts.sudo && !self.is_root && out.exit_status != 0 && sudo_wants_password(&out.stderr) {
            return Err(TransportError::SudoPasswordRequired {
                host: ADDRESS.to_string(),
            });
        }
        Ok(out)
    }

    async fn upload(
        &self,
        data: &[u8],
        path: &str,
        mode: u32,
        opts: UploadOptions,
    ) -> Result<(), TransportError> {
        check_remote_path(path)?;
        let nonce = format!("{}-{}", std::process::id(), unique());
        let script = upload_script(path, data.len(), mode & 0o7777, &nonce);
        let out = self
            .exec(
                &script,
                ExecOptions {
                    stdin: Some(data.to_vec()),
                    sudo: opts.sudo,
                    deadline: opts.deadline,
                    timeout: opts.timeout,
                    ..ExecOptions::default()
                },
            )
            .await?;
        file_result(out, "upload to", path).map(drop)
    }

    async fn download(&self, path: &str, opts: UploadOptions) -> Result<Vec<u8>, TransportError> {
        check_remote_path(path)?;
        let out = self
            .exec(
                &format!("cat -- {}", shell_quote(path)),
                ExecOptions {
                    sudo: opts.sudo,
                    deadline: opts.deadline,
                    timeout: opts.timeout,
                    ..ExecOptions::default()
                },
            )
            .await?;
        file_result(out, "download of", path)
    }
}

fn file_result(out: ExecOutput, op: &'static str, path: &str) -> Result<Vec<u8>, TransportError> {
    if out.success() {
        return Ok(out.stdout);
    }
    Err(TransportError::File {
        host: ADDRESS.to_string(),
        op,
        path: path.to_string(),
        exit_status: out.exit_status,
        stderr: out.stderr_text().trim().to_string(),
    })
}

/// A process-unique counter for temporary file names.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The wait for this command and whether the job deadline (rather than the timeout) bounds it.
fn limit(timeout: Duration, deadline: Option<Instant>) -> Result<(Duration, bool), TransportError> {
    let Some(deadline) = deadline else {
        return Ok((timeout, false));
    };
    match deadline.checked_duration_since(Instant::now()) {
        Some(left) if !left.is_zero() && left < timeout => Ok((left, true)),
        Some(left) if !left.is_zero() => Ok((timeout, false)),
        _ => Err(TransportError::DeadlineExceeded {
            host: ADDRESS.to_string(),
            step: "exec",
        }),
    }
}

async fn read_both(
    child: &mut tokio::process::Child,
    mut on_output: Option<OutputFn>,
) -> (Vec<u8>, Vec<u8>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (Some(mut so), Some(mut se)) = (child.stdout.take(), child.stderr.take()) else {
        return (out, err);
    };
    let (mut ob, mut eb) = ([0u8; 8192], [0u8; 8192]);
    let (mut out_open, mut err_open) = (true, true);
    while out_open || err_open {
        tokio::select! {
            n = so.read(&mut ob), if out_open => match n {
                Ok(n) if n > 0 => {
                    if let Some(f) = on_output.as_mut() { f(OutputStream::Stdout, &ob[..n]); }
                    out.extend_from_slice(&ob[..n]);
                }
                _ => out_open = false,
            },
            n = se.read(&mut eb), if err_open => match n {
                Ok(n) if n > 0 => {
                    if let Some(f) = on_output.as_mut() { f(OutputStream::Stderr, &eb[..n]); }
                    err.extend_from_slice(&eb[..n]);
                }
                _ => err_open = false,
            },
        }
    }
    (out, err)
}

fn to_output(status: std::process::ExitStatus, stdout: Vec<u8>, stderr: Vec<u8>) -> ExecOutput {
    use std::os::unix::process::ExitStatusExt;
    let exit_signal = status.signal().map(|s| {
        nix::sys::signal::Signal::try_from(s)
            .map(|sig| sig.as_str().trim_start_matches("SIG").to_string())
            .unwrap_or_else(|_| s.to_string())
    });
    ExecOutput {
        exit_status: status.code().map_or(255, |c| c as u32),
        exit_signal,
        stdout,
        stderr,
    }
}

/// Kill the command's whole process group (`sh` and what it started).
fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn exec_reports_output_and_status() {
        let t = LocalTransport::new();
        let out = t
            .exec("echo out; echo err >&2; exit 4", ExecOptions::default())
            .await
            .expect("runs");
        assert_eq!(
            (
                out.stdout_text().as_str(),
                out.stderr_text().as_str(),
                out.exit_status
            ),
            ("out\n", "err\n", 4)
        );
    }

    #[tokio::test]
    async fn exec_streams_both_streams() {
        let t = LocalTransport::new();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let opts = ExecOptions {
            on_output: Some(Box::new(move |s, b: &[u8]| {
                let _ = tx.send((s, b.to_vec()));
            })),
            ..ExecOptions::default()
        };
        t.exec("echo a; echo b >&2", opts).await.expect("runs");
        let mut got = Vec::new();
        while let Ok(item) = rx.try_recv() {
            got.push(item);
        }
        assert!(
            got.contains(&(OutputStream::Stdout, b"a\n".to_vec())),
            "{got:?}"
        );
        assert!(
            got.contains(&(OutputStream::Stderr, b"b\n".to_vec())),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn timeout_kills_the_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("child.pid");
        let t = LocalTransport::new();
        // A grandchild in the background: killing only `sh` would leave it running.
        let cmd = format!(
            "sh -c 'echo $$ > {}; exec sleep 30' & sleep 30",
            pidfile.display()
        );
        let err = t
            .exec(
                &cmd,
                ExecOptions {
                    timeout: Some(Duration::from_millis(500)),
                    ..ExecOptions::default()
                },
            )
            .await
            .expect_err("times out");
        assert!(
            matches!(err, TransportError::CommandTimeout { .. }),
            "{err:?}"
        );
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .expect("grandchild started")
            .trim()
            .parse()
            .expect("pid");
        let until = Instant::now() + Duration::from_secs(5);
        // Poll until the grandchild is gone (a zombie waiting for init counts as gone).
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .next();
            if stat.is_empty() || state == Some("Z") {
                break;
            }
            assert!(
                Instant::now() < until,
                "grandchild {pid} survived the timeout"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn upload_and_download_round_trip_binary_data() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("blob");
        let p = path.to_str().expect("utf-8");
        let data: Vec<u8> = (0..=255u8).rev().cycle().take(100_000).collect();
        let t = LocalTransport::new();
        t.upload(&data, p, 0o640, UploadOptions::default())
            .await
            .expect("upload");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o7777, 0o640);
        assert_eq!(
            t.download(p, UploadOptions::default())
                .await
                .expect("download"),
            data
        );
    }

    #[tokio::test]
    async fn deadline_in_the_past_runs_nothing() {
        let t = LocalTransport::new();
        let past = Instant::now()
            .checked_sub(Duration::from_millis(1))
            .expect("clock");
        let err = t
            .exec(
                "true",
                ExecOptions {
                    deadline: Some(past),
                    ..ExecOptions::default()
                },
            )
            .await
            .expect_err("deadline");
        assert!(matches!(err, TransportError::DeadlineExceeded { .. }));
    }
}
