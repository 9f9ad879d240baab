//! Re-attaching to the tasks a previous agent left running (from the checkpoints).

use strato_proto::TaskState;

use super::sandbox::Sandbox;
use super::supervise::task_env;
use super::{now_millis, Executor, Task, TERMINAL_RETENTION};
use crate::checkpoint::{CheckpointError, TaskRecord};

impl Executor {
    /// Loads every checkpointed task. Live ones are watched again (still `TASK_RUNNING`, never
    /// restarted); ones whose process ended while no agent ran become `TASK_FAILED`, ones that
    /// never started `TASK_LOST`. Returns how many tasks were re-attached.
    pub async fn recover(&self) -> Result<usize, CheckpointError> {
        let mut attached = 0;
        let cutoff = now_millis().saturating_sub(TERMINAL_RETENTION.as_millis() as u64);
        for record in self.inner.checkpoints.load_all()? {
            let id = record.launch.task_id.clone();
            if record.status.state.is_terminal() {
                if record.status.timestamp < cutoff {
                    self.inner.checkpoints.remove(&id);
                } else {
                    self.insert(record);
                }
                continue;
            }
            let Some(handle) = record.handle.clone() else {
                self.insert(record);
                self.update(&id, |t| {
                    t.status.state = TaskState::Lost;
                    t.status.message = Some("The agent restarted before the task started".into());
                });
                continue;
            };
            let launcher = self.inner.launcher.clone();
            match launcher.attach(&handle).await {
                Some(exit) => {
                    attached += 1;
                    let was_killing = record.status.state == TaskState::Killing;
                    let launch = record.launch.clone();
                    let started_at = record.status.started_at.unwrap_or_else(now_millis);
                    self.insert(record);
                    tracing::info!(task = %id, handle = ?handle, "re-attached to running task");
                    let worker = tokio::spawn(self.clone().watch_exit(id.clone(), exit));
                    self.add_worker(&id, worker.abort_handle());
                    if was_killing {
                        // Finish the kill the previous agent began.
                        let grace =
                            std::time::Duration::from_secs(launch.kill_grace_period_seconds);
                        let worker = tokio::spawn(self.clone().escalate(id.clone(), handle, grace));
                        self.add_worker(&id, worker.abort_handle());
                    } else {
                        let sandbox = Sandbox::path_for(&self.inner.work_dir, &id);
                        let env = task_env(&launch, &sandbox);
                        self.start_health_checks(&id, &launch, &sandbox, env, started_at);
                    }
                }
                None => {
                    let was_killing = record.status.state == TaskState::Killing;
                    self.insert(record);
                    self.update(&id, |t| {
                        t.status.state = if was_killing {
                            TaskState::Killed
                        } else {
                            TaskState::Failed
                        };
                        t.status.message = Some(
                            "The task's process ended while the agent was down; its exit code \
                             is unknown"
                                .into(),
                        );
                    });
                }
            }
        }
        Ok(attached)
    }

    fn insert(&self, record: TaskRecord) {
        let kill_requested = record.status.state == TaskState::Killing;
        self.tasks().insert(
            record.launch.task_id.clone(),
            Task {
                launch: record.launch,
                handle: record.handle,
                status: record.status,
                kill_requested,
                workers: Vec::new(),
            },
        );
    }
}
