//! Runs tasks: the task table, state transitions (each one checkpointed and pushed), kills with
//! a grace period, and re-attaching after an agent restart.
//!
//! States a task goes through, each pushed as a status update:
//! - `TASK_STAGING` when the launch is accepted, `TASK_STARTING` once its sandbox exists,
//!   `TASK_RUNNING` once its process (or unit) started;
//! - `TASK_FINISHED` on exit 0, `TASK_FAILED` on any other exit, a signal the agent did not send,
//!   a launch error (a Docker image on an agent without a container engine, an image that cannot
//!   be pulled: the engine's reason), or a process that ended while no
//!   agent ran (message says the exit code is unknown); `TASK_ERROR` with neither `cmd` nor
//!   `args`;
//! - `TASK_KILLING` when a kill is asked, then `TASK_KILLED` when the process is gone;
//! - `TASK_LOST` for a task checkpointed before it started whose agent then restarted.
//!
//! The message follows Mesos: `Command exited with status 3`,
//! `Command terminated with signal SIGKILL`.

pub mod docker;
pub mod fetcher;
pub mod launcher;
pub mod log_rotate;
pub mod process;
pub mod procfs;
mod recover;
pub mod registry_auth;
pub mod routed;
pub mod run_as;
pub mod sandbox;
mod supervise;
pub mod systemd;

pub use supervise::{describe, error_chain};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use strato_proto::{HealthResult, LaunchTask, TaskState, TaskStatus, UnixMillis};
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

use crate::checkpoint::{Checkpoints, TaskRecord};
use launcher::{Launcher, StopSignal, TaskHandle};

/// Terminal tasks stay listed (and checkpointed) this long so the master surely sees them.
const TERMINAL_RETENTION: Duration = Duration::from_secs(600);
/// Sandboxes of ended tasks are kept this long so their output can still be read.
const SANDBOX_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// How often old sandboxes are looked for.
const SANDBOX_GC_EVERY: Duration = Duration::from_secs(3600);
/// The longest the executor waits for anything (grace periods come from app definitions).
const MAX_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> UnixMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExecutorError {
    #[error("invalid task id `{0}`: use letters, digits, `.`, `_` and `-`")]
    InvalidTaskId(String),
    #[error("unknown task `{0}`")]
    UnknownTask(String),
    #[error("the agent is shutting down")]
    ShuttingDown,
}

struct Task {
    launch: LaunchTask,
    handle: Option<TaskHandle>,
    status: TaskStatus,
    kill_requested: bool,
    /// Supervisor, health checks and kill escalation; aborted when the agent stops.
    workers: Vec<AbortHandle>,
}

impl Task {
    fn record(&self) -> TaskRecord {
        TaskRecord {
            launch: self.launch.clone(),
            handle: self.handle.clone(),
            status: self.status.clone(),
        }
    }
}

pub(crate) struct Inner {
    launcher: Arc<dyn Launcher>,
    checkpoints: Checkpoints,
    work_dir: PathBuf,
    tasks: Mutex<BTreeMap<String, Task>>,
    updates: mpsc::Sender<TaskStatus>,
    /// Bumped on every change, so waiters can re-check their condition.
    changes: watch::Sender<u64>,
    health_http: reqwest::Client,
    stopping: std::sync::atomic::AtomicBool,
    /// When sandboxes were last collected; `None` until the first time.
    last_gc: Mutex<Option<std::time::Instant>>,
    /// Tasks whose app names no `user` run as this one (`None`: as the agent).
    task_user: Option<String>,
}

/// The agent's task runner; cheap to clone.
#[derive(Clone)]
pub struct Executor {
    inner: Arc<Inner>,
}

impl Executor {
    /// Status changes are sent on `updates` as they happen.
    pub fn new(
        launcher: Arc<dyn Launcher>,
        work_dir: PathBuf,
        updates: mpsc::Sender<TaskStatus>,
        health_http: reqwest::Client,
        task_user: Option<String>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                launcher,
                checkpoints: Checkpoints::new(&work_dir),
                work_dir,
                tasks: Mutex::new(BTreeMap::new()),
                updates,
                changes: watch::channel(0).0,
                health_http,
                stopping: false.into(),
                last_gc: Mutex::new(None),
                task_user,
            }),
        }
    }

    fn tasks(&self) -> MutexGuard<'_, BTreeMap<String, Task>> {
        // A panic while holding the lock leaves consistent data (each update is one assignment).
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The agent's work dir: sandboxes live under it.
    pub fn work_dir(&self) -> &std::path::Path {
        &self.inner.work_dir
    }

    pub fn launcher_name(&self) -> &'static str {
        self.inner.launcher.name()
    }

    /// Every task the agent knows, running or recently ended.
    /// Every task id the agent knows (running or recently ended).
    pub fn task_ids(&self) -> Vec<String> {
        self.tasks().keys().cloned().collect()
    }

    pub fn statuses(&self) -> Vec<TaskStatus> {
        self.tasks().values().map(|t| t.status.clone()).collect()
    }

    pub fn status(&self, task_id: &str) -> Option<TaskStatus> {
        self.tasks().get(task_id).map(|t| t.status.clone())
    }

    /// Accepts a task (`TASK_STAGING`) and starts it in the background. A task id already known
    /// is accepted again without a second launch, so the master may retry.
    pub fn launch(&self, launch: LaunchTask) -> Result<(), ExecutorError> {
        if !sandbox::valid_task_id(&launch.task_id) {
            return Err(ExecutorError::InvalidTaskId(launch.task_id));
        }
        if self
            .inner
            .stopping
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(ExecutorError::ShuttingDown);
        }
        let id = launch.task_id.clone();
        {
            let mut tasks = self.tasks();
            if tasks.contains_key(&id) {
                return Ok(());
            }
            let now = now_millis();
            let status = TaskStatus {
                task_id: id.clone(),
                app_id: launch.app_id.clone(),
                state: TaskState::Staging,
                message: None,
                timestamp: now,
                staged_at: now,
                started_at: None,
                ports: launch.ports.clone(),
                health: Vec::new(),
            };
            tasks.insert(
                id.clone(),
                Task {
                    launch,
                    handle: None,
                    status,
                    kill_requested: false,
                    workers: Vec::new(),
                },
            );
        }
        self.publish(&id);
        let worker = tokio::spawn(self.clone().start_and_watch(id.clone()));
        self.add_worker(&id, worker.abort_handle());
        Ok(())
    }

    /// SIGTERM now (`TASK_KILLING`), SIGKILL after the grace period (the launch's unless
    /// `grace` overrides it). Killing an ended task does nothing.
    pub fn kill(&self, task_id: &str, grace: Option<u64>) -> Result<(), ExecutorError> {
        let (handle, grace) = {
            let mut tasks = self.tasks();
            let task = tasks
                .get_mut(task_id)
                .ok_or_else(|| ExecutorError::UnknownTask(task_id.to_string()))?;
            if task.status.state.is_terminal() || task.kill_requested {
                return Ok(());
            }
            task.kill_requested = true;
            task.status.state = TaskState::Killing;
            task.status.timestamp = now_millis();
            let grace = grace.unwrap_or(task.launch.kill_grace_period_seconds);
            (task.handle.clone(), grace)
        };
        self.publish(task_id);
        // Without a handle the task has not started; the supervisor sees `kill_requested`.
        if let Some(handle) = handle {
            let worker = tokio::spawn(self.clone().escalate(
                task_id.to_string(),
                handle,
                Duration::from_secs(grace),
            ));
            self.add_worker(task_id, worker.abort_handle());
        }
        Ok(())
    }

    async fn escalate(self, task_id: String, handle: TaskHandle, grace: Duration) {
        let launcher = self.inner.launcher.clone();
        if let Err(e) = launcher.signal(&handle, StopSignal::Term).await {
            tracing::warn!(task = %task_id, error = %e, "SIGTERM failed");
        }
        let ended = self
            .wait_until(grace, |s| s.is_terminal_task(&task_id))
            .await;
        if !ended {
            tracing::info!(task = %task_id, "grace period over, sending SIGKILL");
            if let Err(e) = launcher.signal(&handle, StopSignal::Kill).await {
                tracing::warn!(task = %task_id, error = %e, "SIGKILL failed");
            }
        }
    }

    fn is_terminal_task(&self, task_id: &str) -> bool {
        self.tasks()
            .get(task_id)
            .is_none_or(|t| t.status.state.is_terminal())
    }

    /// Waits up to `limit` for `done` to hold, re-checking after every change.
    async fn wait_until(&self, limit: Duration, done: impl Fn(&Self) -> bool) -> bool {
        let mut rx = self.inner.changes.subscribe();
        // A grace period from an app definition can be any u64: cap it so the deadline cannot
        // overflow the clock (a year is "never" for a kill).
        let limit = limit.min(MAX_WAIT);
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if done(self) {
                return true;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => continue,
                _ => return done(self),
            }
        }
    }

    /// Applies `change` to a task, stamps it, checkpoints it and pushes its status.
    fn update(&self, task_id: &str, change: impl FnOnce(&mut Task)) {
        {
            let mut tasks = self.tasks();
            let Some(task) = tasks.get_mut(task_id) else {
                return;
            };
            change(task);
            task.status.timestamp = now_millis();
            self.save_and_send(task);
        }
        self.inner.changes.send_modify(|n| *n += 1);
    }

    /// Checkpoints and pushes a task's current status.
    fn publish(&self, task_id: &str) {
        self.update(task_id, |_| {});
    }

    /// Runs under the task-table lock, so checkpoints and pushed updates keep the order of the
    /// changes (a stale snapshot never overwrites a newer one).
    fn save_and_send(&self, task: &Task) {
        let record = task.record();
        if let Err(e) = self.inner.checkpoints.save(&record) {
            tracing::error!(task = %record.launch.task_id, error = %e, "cannot checkpoint task");
        }
        // Bounded (crate::UPDATE_QUEUE): when the master is slow and the queue is full the
        // update is dropped; the next heartbeat carries every task's latest state anyway.
        if let Err(mpsc::error::TrySendError::Full(status)) =
            self.inner.updates.try_send(record.status)
        {
            tracing::warn!(task = %status.task_id, "status queue full; the next heartbeat reports it");
        }
    }

    fn add_worker(&self, task_id: &str, worker: AbortHandle) {
        if let Some(t) = self.tasks().get_mut(task_id) {
            t.workers.retain(|w| !w.is_finished());
            t.workers.push(worker);
        }
    }

    /// Records one health check's result; `push` sends a status update (health changed).
    pub(crate) fn set_health(&self, task_id: &str, result: HealthResult, push: bool) {
        let apply = |t: &mut Task| {
            let health = &mut t.status.health;
            match health.iter_mut().find(|h| h.index == result.index) {
                Some(h) => *h = result.clone(),
                None => {
                    health.push(result.clone());
                    health.sort_by_key(|h| h.index);
                }
            }
        };
        if push {
            self.update(task_id, apply);
        } else if let Some(t) = self.tasks().get_mut(task_id) {
            apply(t);
        }
    }

    /// Forgets tasks that ended more than [`TERMINAL_RETENTION`] ago and (hourly) removes
    /// sandboxes of unknown tasks older than [`SANDBOX_RETENTION`].
    pub fn prune(&self) {
        let cutoff = now_millis().saturating_sub(TERMINAL_RETENTION.as_millis() as u64);
        let mut tasks = self.tasks();
        let old: Vec<String> = tasks
            .values()
            .filter(|t| t.status.state.is_terminal() && t.status.timestamp < cutoff)
            .map(|t| t.status.task_id.clone())
            .collect();
        for id in old {
            tasks.remove(&id);
            self.inner.checkpoints.remove(&id);
        }
        let keep: std::collections::BTreeSet<String> = tasks.keys().cloned().collect();
        drop(tasks);
        let mut last = self
            .inner
            .last_gc
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if last.is_none_or(|t| t.elapsed() >= SANDBOX_GC_EVERY) {
            *last = Some(std::time::Instant::now());
            let removed = sandbox::gc(&self.inner.work_dir, &keep, SANDBOX_RETENTION);
            if removed > 0 {
                tracing::info!(removed, "removed old sandboxes");
            }
        }
    }

    /// Stops supervising. With `stop_tasks` every task is killed first (waiting up to its grace
    /// period plus a margin); otherwise tasks keep running for the next agent to re-attach.
    pub async fn shutdown(&self, stop_tasks: bool) {
        self.inner
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if stop_tasks {
            let live: Vec<(String, u64)> = self
                .tasks()
                .values()
                .filter(|t| !t.status.state.is_terminal())
                .map(|t| (t.status.task_id.clone(), t.launch.kill_grace_period_seconds))
                .collect();
            let longest = live.iter().map(|(_, g)| *g).max().unwrap_or(0);
            for (id, _) in &live {
                let _ = self.kill(id, None);
            }
            let all_ended = self
                .wait_until(Duration::from_secs(longest.saturating_add(5)), |s| {
                    live.iter().all(|(id, _)| s.is_terminal_task(id))
                })
                .await;
            if !all_ended {
                tracing::warn!("some tasks did not end before shutdown");
            }
        }
        for task in self.tasks().values_mut() {
            for w in task.workers.drain(..) {
                w.abort();
            }
        }
    }
}
