//! Tasks as plain child processes, each leading its own process group so a kill reaches
//! everything it started.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::killpg;
use nix::unistd::Pid;

use super::launcher::{
    BoxFuture, Exit, ExitFuture, LaunchError, LaunchSpec, Launcher, Started, StopSignal, TaskHandle,
};
use super::procfs;

/// How often a re-attached process (not our child, so no wait()) is checked for life.
const ATTACH_POLL: Duration = Duration::from_millis(200);

#[derive(Debug, Default, Clone)]
pub struct ProcessLauncher;

impl Launcher for ProcessLauncher {
    fn name(&self) -> &'static str {
        "process"
    }

    fn launch<'a>(&'a self, spec: &'a LaunchSpec) -> BoxFuture<'a, Result<Started, LaunchError>> {
        Box::pin(async move { spawn(spec) })
    }

    fn attach<'a>(&'a self, handle: &'a TaskHandle) -> BoxFuture<'a, Option<ExitFuture>> {
        Box::pin(async move {
            match handle {
                TaskHandle::Process { pid, start_time } => attach_pid(*pid, *start_time),
                TaskHandle::Unit { .. } | TaskHandle::Container { .. } => None,
            }
        })
    }

    fn signal<'a>(
        &'a self,
        handle: &'a TaskHandle,
        signal: StopSignal,
    ) -> BoxFuture<'a, Result<(), LaunchError>> {
        Box::pin(async move {
            match handle {
                TaskHandle::Process { pid, start_time } => signal_group(*pid, *start_time, signal),
                TaskHandle::Unit { .. } | TaskHandle::Container { .. } => Ok(()),
            }
        })
    }
}

/// Variables a task inherits from the agent: only these. Under `strato up --local` the agent
/// runs in the operator's shell, whose environment holds cloud credentials, the SSH agent
/// socket and key passphrases; a task sees none of them, as a task in a systemd unit does not.
const INHERITED: &[&str] = &["PATH", "LANG", "LC_ALL", "TZ"];
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn base_env() -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = INHERITED
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect();
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), DEFAULT_PATH.into()));
    }
    env
}

fn spawn(spec: &LaunchSpec) -> Result<Started, LaunchError> {
    let program = spec.argv.first().cloned().unwrap_or_default();
    let err = |source| LaunchError::Spawn {
        program: program.clone(),
        source,
    };
    let open = |path: &std::path::Path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    };
    let mut command = tokio::process::Command::new(&program);
    if let Some(user) = &spec.user {
        // std drops root's supplementary groups when it switches uid.
        command.uid(user.uid).gid(user.gid);
    }
    command
        .args(&spec.argv[1.min(spec.argv.len())..])
        .env_clear()
        .envs(base_env())
        .envs(&spec.env)
        .current_dir(&spec.sandbox)
        .stdin(Stdio::null())
        .stdout(open(&spec.stdout).map_err(err)?)
        .stderr(open(&spec.stderr).map_err(err)?)
        .process_group(0)
        .kill_on_drop(false);
    let mut child = command.spawn().map_err(err)?;
    let pid = child.id().map(|p| p as i32).ok_or_else(|| {
        err(std::io::Error::other(
            "the child exited before its pid was read",
        ))
    })?;
    // A child that dies at once may leave no /proc entry to read; 0 then never matches a live
    // process, which is right because it is gone.
    let start_time = procfs::live_start_time(pid).unwrap_or(0);
    let exit: ExitFuture = Box::pin(async move {
        let status = child.wait().await;
        // Reap stragglers the task left in its group (Mesos kills the whole container too).
        let _ = killpg(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        match status {
            Ok(s) => match (s.code(), s.signal()) {
                (Some(code), _) => Exit::Code(code),
                (None, Some(sig)) => Exit::Signal(sig),
                (None, None) => Exit::Unknown("the process ended without a status".into()),
            },
            Err(e) => Exit::Unknown(format!("cannot wait for the process: {e}")),
        }
    });
    Ok(Started {
        handle: TaskHandle::Process { pid, start_time },
        exit,
    })
}

/// Watches a process that is not our child by polling `/proc` until it is gone.
pub fn attach_pid(pid: i32, start_time: u64) -> Option<ExitFuture> {
    if !procfs::is_same_live_process(pid, start_time) {
        return None;
    }
    Some(Box::pin(async move {
        while procfs::is_same_live_process(pid, start_time) {
            tokio::time::sleep(ATTACH_POLL).await;
        }
        Exit::Unknown(
            "the process ended after the agent re-attached to it; its exit code is unknown".into(),
        )
    }))
}

/// Signals the process group led by `pid`, unless that pid now belongs to another process.
pub fn signal_group(pid: i32, start_time: u64, signal: StopSignal) -> Result<(), LaunchError> {
    if !procfs::is_same_live_process(pid, start_time) {
        return Ok(());
    }
    match killpg(Pid::from_raw(pid), signal.as_nix()) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(LaunchError::Signal {
            task: format!("pid {pid}"),
            source: std::io::Error::from(e),
        }),
    }
}

#[cfg(test)]
mod env_tests {
    use super::*;

    #[tokio::test]
    async fn a_task_gets_its_own_variables_and_none_of_the_operators() {
        // Each nextest test is its own process: these are planted for this test only.
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "planted-aws-secret");
        std::env::set_var("SSH_AUTH_SOCK", "/tmp/planted-agent.sock");
        std::env::set_var("STRATO_SSH_PASSPHRASE", "planted-passphrase");
        let dir = tempfile::tempdir().expect("tmp");
        let spec = LaunchSpec {
            container: None,
            task_id: "t1".into(),
            argv: vec!["sh".into(), "-c".into(), "env > env.txt".into()],
            env: [("PORT0".to_string(), "31000".to_string())].into(),
            sandbox: dir.path().to_path_buf(),
            stdout: dir.path().join("stdout"),
            stderr: dir.path().join("stderr"),
            cpus: 0.1,
            mem: 32.0,
            user: None,
        };
        let started = spawn(&spec).expect("spawn");
        assert_eq!(started.exit.await, Exit::Code(0));
        let env = std::fs::read_to_string(dir.path().join("env.txt")).expect("env.txt");
        assert!(env.contains("PORT0=31000"), "{env}");
        assert!(env.lines().any(|l| l.starts_with("PATH=")), "{env}");
        assert!(!env.contains("planted"), "{env}");
    }
}
