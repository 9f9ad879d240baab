//! [`FakeTransport`]: answers commands from a script and records every call (k0sctl's
//! `MockRunner`). Phases and checks are tested against it without any machine.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use crate::transport::{ExecOptions, ExecOutput, Transport, TransportError, UploadOptions};

/// Decides whether a rule answers a command.
pub type CommandMatcher = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// What a scripted command does.
#[derive(Debug, Clone)]
pub enum FakeReply {
    /// Finish with this output.
    Output(ExecOutput),
    /// Behave like a command that ran past its timeout.
    Timeout,
}

impl FakeReply {
    /// Exit 0 with `stdout`.
    pub fn ok(stdout: impl Into<String>) -> Self {
        FakeReply::Output(ExecOutput {
            exit_status: 0,
            stdout: stdout.into().into_bytes(),
            ..ExecOutput::default()
        })
    }

    /// Exit `status` with `stderr`.
    pub fn fail(status: u32, stderr: impl Into<String>) -> Self {
        FakeReply::Output(ExecOutput {
            exit_status: status,
            stderr: stderr.into().into_bytes(),
            ..ExecOutput::default()
        })
    }
}

/// One recorded call, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeCall {
    Exec {
        command: String,
        sudo: bool,
        stdin: Option<Vec<u8>>,
    },
    Upload {
        path: String,
        mode: u32,
        data: Vec<u8>,
        sudo: bool,
    },
    Download {
        path: String,
    },
}

struct Rule {
    matcher: CommandMatcher,
    reply: FakeReply,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    default: Option<FakeReply>,
    calls: Vec<FakeCall>,
    files: BTreeMap<String, (Vec<u8>, u32)>,
}

/// A scripted machine. Rules are checked newest first, so a test can override an earlier
/// answer; an unmatched command is [`TransportError::Unscripted`] unless a default is set.
/// Uploaded files are kept and served back by `download`.
#[derive(Clone)]
pub struct FakeTransport {
    address: String,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FakeTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTransport")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl FakeTransport {
    /// An empty script for the host named `address`.
    pub fn new(address: impl Into<String>) -> Self {
        FakeTransport {
            address: address.into(),
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread poisons the lock; the data is still fine to read.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answer commands for which `matcher` returns true.
    pub fn on(
        &self,
        matcher: impl Fn(&str) -> bool + Send + Sync + 'static,
        reply: FakeReply,
    ) -> &Self {
        self.state().rules.push(Rule {
            matcher: Arc::new(matcher),
            reply,
        });
        self
    }

    /// Answer exactly `command`.
    pub fn on_exact(&self, command: &str, reply: FakeReply) -> &Self {
        let command = command.to_string();
        self.on(move |c| c == command, reply)
    }

    /// Answer commands starting with `prefix`.
    pub fn on_prefix(&self, prefix: &str, reply: FakeReply) -> &Self {
        let prefix = prefix.to_string();
        self.on(move |c| c.starts_with(&prefix), reply)
    }

    /// Answer commands containing `needle`.
    pub fn on_contains(&self, needle: &str, reply: FakeReply) -> &Self {
        let needle = needle.to_string();
        self.on(move |c| c.contains(&needle), reply)
    }

    /// Answer any unmatched command with `reply`.
    pub fn default_reply(&self, reply: FakeReply) -> &Self {
        self.state().default = Some(reply);
        self
    }

    /// Put a file in place, as if it were on the host.
    pub fn put_file(&self, path: &str, data: &[u8], mode: u32) -> &Self {
        self.state()
            .files
            .insert(path.to_string(), (data.to_vec(), mode));
        self
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<FakeCall> {
        self.state().calls.clone()
    }

    /// The commands executed so far, in order.
    pub fn commands(&self) -> Vec<String> {
        self.state()
            .calls
            .iter()
            .filter_map(|c| match c {
                FakeCall::Exec { command, .. } => Some(command.clone()),
                _ => None,
            })
            .collect()
    }

    /// A file's content and mode, if uploaded (or put) on this host.
    pub fn file(&self, path: &str) -> Option<(Vec<u8>, u32)> {
        self.state().files.get(path).cloned()
    }
}

#[async_trait]
impl Transport for FakeTransport {
    fn address(&self) -> String {
        self.address.clone()
    }

    async fn exec(&self, command: &str, opts: ExecOptions) -> Result<ExecOutput, TransportError> {
        let reply = {
            let mut st = self.state();
            st.calls.push(FakeCall::Exec {
                command: command.to_string(),
                sudo: opts.sudo,
                stdin: opts.stdin.clone(),
            });
            st.rules
                .iter()
                .rev()
                .find(|r| (r.matcher)(command))
                .map(|r| r.reply.clone())
                .or_else(|| st.default.clone())
        };
        match reply {
            Some(FakeReply::Output(out)) => {
                if let Some(mut f) = opts.on_output {
                    f(crate::OutputStream::Stdout, &out.stdout);
                    f(crate::OutputStream::Stderr, &out.stderr);
                }
                Ok(out)
            }
            Some(FakeReply::Timeout) => Err(TransportError::CommandTimeout {
                host: self.address.clone(),
                command: command.to_string(),
                timeout: opts.timeout.unwrap_or(Duration::ZERO),
            }),
            None => Err(TransportError::Unscripted {
                host: self.address.clone(),
                command: command.to_string(),
            }),
        }
    }

    async fn upload(
        &self,
        data: &[u8],
        path: &str,
        mode: u32,
        opts: UploadOptions,
    ) -> Result<(), TransportError> {
        let mut st = self.state();
        st.calls.push(FakeCall::Upload {
            path: path.to_string(),
            mode,
            data: data.to_vec(),
            sudo: opts.sudo,
        });
        st.files.insert(path.to_string(), (data.to_vec(), mode));
        Ok(())
    }

    async fn download(&self, path: &str, _opts: UploadOptions) -> Result<Vec<u8>, TransportError> {
        let mut st = self.state();
        st.calls.push(FakeCall::Download {
            path: path.to_string(),
        });
        st.files
            .get(path)
            .map(|(data, _)| data.clone())
            .ok_or_else(|| TransportError::File {
                host: self.address.clone(),
                op: "download of",
                path: path.to_string(),
                exit_status: 1,
                stderr: format!("cat: {path}: No such file or directory"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn newest_matching_rule_answers_and_every_call_is_recorded() {
        let t = FakeTransport::new("node-1");
        t.on_prefix("uname", FakeReply::ok("old\n"))
            .on_exact("uname -r", FakeReply::ok("6.1.0\n"));
        let out = t
            .exec("uname -r", ExecOptions::default())
            .await
            .expect("scripted");
        assert_eq!(out.stdout_text(), "6.1.0\n");
        let out = t
            .exec("uname -m", ExecOptions::sudo())
            .await
            .expect("scripted");
        assert_eq!(out.stdout_text(), "old\n");
        assert_eq!(t.commands(), vec!["uname -r", "uname -m"]);
        assert!(matches!(&t.calls()[1], FakeCall::Exec { sudo: true, .. }));
    }

    #[tokio::test]
    async fn unscripted_commands_fail_naming_host_and_command() {
        let t = FakeTransport::new("node-1");
        let err = t
            .exec("rm -rf /", ExecOptions::default())
            .await
            .expect_err("unscripted");
        assert_eq!(
            err.to_string(),
            "node-1: fake transport has no scripted answer for `rm -rf /`"
        );
    }

    #[tokio::test]
    async fn uploads_are_kept_and_downloadable() {
        let t = FakeTransport::new("n");
        t.upload(b"\x00\xff", "/opt/x", 0o755, UploadOptions::default())
            .await
            .expect("upload");
        assert_eq!(t.file("/opt/x"), Some((vec![0, 255], 0o755)));
        assert_eq!(
            t.download("/opt/x", UploadOptions::default())
                .await
                .expect("dl"),
            vec![0, 255]
        );
        assert!(t.download("/nope", UploadOptions::default()).await.is_err());
    }
}
