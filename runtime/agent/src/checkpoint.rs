//! Per-task records under `work_dir/tasks/<task_id>.json`, written atomically (temp file +
//! rename) so a crash never leaves half a record; the next agent reads them to re-attach.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strato_proto::{LaunchTask, TaskStatus};

use crate::executor::launcher::TaskHandle;

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Everything needed to find a task again after an agent restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub launch: LaunchTask,
    /// How to reach the running task (pid + start time, or systemd unit); none before it started.
    pub handle: Option<TaskHandle>,
    pub status: TaskStatus,
}

/// Replaces `path` with `bytes` atomically (`strato_atomic_file`), mode 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    strato_atomic_file::write_with_mode(path, bytes, 0o600).map_err(|source| {
        CheckpointError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// The directory of task records.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    dir: PathBuf,
}

impl Checkpoints {
    pub fn new(work_dir: &Path) -> Self {
        Self {
            dir: work_dir.join("tasks"),
        }
    }

    fn path(&self, task_id: &str) -> PathBuf {
        self.dir.join(format!("{task_id}.json"))
    }

    pub fn save(&self, record: &TaskRecord) -> Result<(), CheckpointError> {
        let bytes = serde_json::to_vec_pretty(record).expect("task records always serialise");
        write_atomic(&self.path(&record.launch.task_id), &bytes)
    }

    pub fn remove(&self, task_id: &str) {
        let _ = std::fs::remove_file(self.path(task_id));
    }

    /// Every readable record; unreadable ones are logged and skipped (a record from a future
    /// version must not stop the agent).
    pub fn load_all(&self) -> Result<Vec<TaskRecord>, CheckpointError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(CheckpointError::Read {
                    path: self.dir.clone(),
                    source,
                })
            }
        };
        let mut records = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let parsed = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<TaskRecord>(&b).map_err(|e| e.to_string()));
            match parsed {
                Ok(r) => records.push(r),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "skipping unreadable task record")
                }
            }
        }
        records.sort_by(|a, b| a.launch.task_id.cmp(&b.launch.task_id));
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::launcher::TaskHandle;
    use strato_proto::TaskState;

    pub(crate) fn launch(id: &str) -> LaunchTask {
        LaunchTask {
            task_id: id.to_string(),
            app_id: "/app".to_string(),
            app_version: "2026-01-01T00:00:00.000Z".to_string(),
            cmd: Some("sleep 1".to_string()),
            args: None,
            env: Default::default(),
            cpus: 0.1,
            mem: 32.0,
            disk: 0.0,
            ports: vec![31000],
            health_checks: vec![],
            kill_grace_period_seconds: 3,
            docker_image: None,
            container: None,
            fetch: Vec::new(),
            user: None,
        }
    }

    #[test]
    fn records_round_trip_and_are_removed() {
        let dir = tempfile::tempdir().expect("tmp");
        let cp = Checkpoints::new(dir.path());
        assert!(cp.load_all().expect("empty").is_empty());
        let record = TaskRecord {
            launch: launch("app.1"),
            handle: Some(TaskHandle::Process {
                pid: 42,
                start_time: 7,
            }),
            status: TaskStatus {
                task_id: "app.1".into(),
                app_id: "/app".into(),
                state: TaskState::Running,
                message: None,
                timestamp: 1,
                staged_at: 1,
                started_at: Some(1),
                ports: vec![31000],
                health: vec![],
            },
        };
        cp.save(&record).expect("save");
        std::fs::write(dir.path().join("tasks/garbage.json"), "{").expect("garbage");
        assert_eq!(cp.load_all().expect("load"), vec![record]);
        cp.remove("app.1");
        assert!(cp.load_all().expect("load").is_empty());
    }
}
