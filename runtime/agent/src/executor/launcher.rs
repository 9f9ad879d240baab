//! The seam between task supervision and the way processes are started: [`Launcher`], with a
//! plain process-group implementation and a systemd transient-unit one.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// How to find a started task again, also after an agent restart (it is checkpointed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskHandle {
    /// A process group led by `pid`; `start_time` (clock ticks since boot, from
    /// `/proc/<pid>/stat`) tells the same process from a later one that reused the pid.
    Process { pid: i32, start_time: u64 },
    /// A systemd transient service.
    Unit { name: String },
    /// A container of the container engine (`executor/docker.rs`).
    Container { name: String },
}

/// What to start, fully resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchSpec {
    pub task_id: String,
    /// `argv[0]` is the program.
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub sandbox: PathBuf,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    pub cpus: f64,
    /// MiB.
    pub mem: f64,
    /// The user to run as; `None` runs as the agent (in a container: as the image says).
    pub user: Option<super::run_as::RunAs>,
    /// A container to run `argv` in (`None`: on the host).
    pub container: Option<ContainerLaunch>,
}

/// A task's container, and whether `argv` is `/bin/sh -c <cmd>` (which replaces the image's
/// entrypoint, as Mesos does for a shell command) or Marathon's `args` (given to it).
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerLaunch {
    pub spec: strato_proto::ContainerSpec,
    pub shell: bool,
}

/// How a task's process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// It ended, but nobody could see how (a re-attached process is not the agent's child).
    Unknown(String),
}

/// Which signal a kill sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Term,
    Kill,
}

impl StopSignal {
    pub fn as_nix(self) -> nix::sys::signal::Signal {
        match self {
            StopSignal::Term => nix::sys::signal::Signal::SIGTERM,
            StopSignal::Kill => nix::sys::signal::Signal::SIGKILL,
        }
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Resolves when the task's process has ended.
pub type ExitFuture = BoxFuture<'static, Exit>;

/// Receives what a [`Launcher::prepare`] step is doing, for the task's status message.
pub type Progress = std::sync::Arc<dyn Fn(String) + Send + Sync>;

/// A command run inside a task's container: its exit code, or why it could not run.
pub type ContainerExec = BoxFuture<'static, Result<i64, String>>;

/// A started task.
pub struct Started {
    pub handle: TaskHandle,
    pub exit: ExitFuture,
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot start `{program}`")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("systemd-run failed for unit {unit}: {stderr}")]
    SystemdRun { unit: String, stderr: String },
    #[error("container of task {task}: {message}")]
    Container { task: String, message: String },
    #[error("cannot signal task {task}")]
    Signal {
        task: String,
        #[source]
        source: std::io::Error,
    },
}

/// Starts, finds again and signals task processes.
pub trait Launcher: Send + Sync + 'static {
    /// For logs and `/state`.
    fn name(&self) -> &'static str;

    /// Starts the task; the returned future resolves when it ends.
    fn launch<'a>(&'a self, spec: &'a LaunchSpec) -> BoxFuture<'a, Result<Started, LaunchError>>;

    /// Finds a task started earlier (maybe by a previous agent). `None` when it is gone and
    /// nothing can be learnt about how it ended.
    fn attach<'a>(&'a self, handle: &'a TaskHandle) -> BoxFuture<'a, Option<ExitFuture>>;

    /// The systemd unit the task runs in, whose cgroup (and so limits) its COMMAND health checks
    /// join; `None` where tasks run as plain child processes (no limits to share).
    fn unit(&self, _task_id: &str) -> Option<String> {
        None
    }

    /// What must happen before [`Launcher::launch`] while the task is still STAGING (a container
    /// task's image pull), saying how far it got through `progress`. Nothing by default.
    fn prepare<'a>(
        &'a self,
        _spec: &'a LaunchSpec,
        _progress: Progress,
    ) -> BoxFuture<'a, Result<(), LaunchError>> {
        Box::pin(async { Ok(()) })
    }

    /// Runs `/bin/sh -c command` inside the task's container, as the task's user, and resolves
    /// to its exit code (COMMAND health checks of container tasks); `None` for a host task.
    fn exec_in_container(&self, _task_id: &str, _command: &str) -> Option<ContainerExec> {
        None
    }

    /// Sends `signal` to every process of the task; a task already gone is not an error.
    fn signal<'a>(
        &'a self,
        handle: &'a TaskHandle,
        signal: StopSignal,
    ) -> BoxFuture<'a, Result<(), LaunchError>>;
}
