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
                TaskHandle::Unit { .. } => None,
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
                TaskHandle::Unit { .. } => Ok(()),
            }
        })
    }
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
    command
        .args(&spec.argv[1.min(spec.argv.len())..])
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
