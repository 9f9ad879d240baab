//! One run of a job: the task attempts it made, its status, and how it is served (Metronome's
//! `JobRun`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use strato_proto::TaskState;
use strato_runtime_types::job::RunSpec;
use strato_runtime_types::time::iso_metronome;

/// Metronome's run statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Created, no task launched yet (or waiting to retry).
    Initial,
    /// A task was launched and no agent has reported it yet.
    Starting,
    /// Its task is staging, starting or running on an agent.
    Active,
    Success,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Initial => "INITIAL",
            RunStatus::Starting => "STARTING",
            RunStatus::Active => "ACTIVE",
            RunStatus::Success => "SUCCESS",
            RunStatus::Failed => "FAILED",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(self, RunStatus::Success | RunStatus::Failed)
    }
}

/// One task a run launched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunTask {
    pub id: String,
    pub state: TaskState,
    pub started_at: Option<u64>,
    pub completed_at: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    pub job_id: String,
    pub status: RunStatus,
    pub created_at: u64,
    pub completed_at: Option<u64>,
    /// Every attempt, oldest first.
    pub tasks: Vec<RunTask>,
    /// The job's run as it was when this run started: editing the job changes later runs only.
    pub spec: RunSpec,
    /// No task is launched before this (Unix ms): the retry delay after a failed attempt.
    pub launch_not_before: u64,
    /// When the current attempt started waiting for an agent (Unix ms), for `maxLaunchDelay`.
    pub waiting_since: u64,
    /// A scheduled run whose task is not up by then (Unix ms) fails: its schedule's
    /// `startingDeadlineSeconds`.
    #[serde(default)]
    pub starting_deadline: Option<u64>,
    /// A stop was asked or the deadline passed: the run fails once its task has ended.
    #[serde(default)]
    pub stopping: bool,
    /// Why the run failed, for the log and the dashboard.
    #[serde(default)]
    pub reason: Option<String>,
}

impl RunTask {
    /// Unset times are left out, as Metronome leaves them out.
    fn to_json(&self) -> Value {
        let mut out = json!({"id": self.id, "status": self.state.as_str()});
        if let Some(at) = self.started_at {
            out["startedAt"] = Value::from(iso_metronome(at));
        }
        if let Some(at) = self.completed_at {
            out["completedAt"] = Value::from(iso_metronome(at));
        }
        out
    }
}

impl RunRecord {
    /// The run's task that has not ended yet, if any.
    pub fn live_task(&self) -> Option<&RunTask> {
        self.tasks.iter().find(|t| !t.state.is_terminal())
    }

    pub fn task_mut(&mut self, task_id: &str) -> Option<&mut RunTask> {
        self.tasks.iter_mut().find(|t| t.id == task_id)
    }

    /// `/v1/jobs/{id}/runs/{run}` as Metronome answers it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "jobId": self.job_id,
            "status": self.status.as_str(),
            "createdAt": iso_metronome(self.created_at),
            "completedAt": self.completed_at.map(iso_metronome),
            "tasks": self.tasks.iter().map(RunTask::to_json).collect::<Vec<Value>>(),
        })
    }
}

/// `20261204101500aB3xZ`: the start time to the second and five random letters or digits, as Metronome
/// names runs (sortable by creation).
pub fn new_run_id(now: u64) -> String {
    let millis = i64::try_from(now).unwrap_or(i64::MAX);
    let time = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y%m%d%H%M%S");
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let letters: String = uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(5)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("{time}{letters}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_start_with_their_time() {
        let id = new_run_id(1_443_194_028_343);
        assert!(id.starts_with("20150925151348"), "{id}");
        assert_eq!(id.len(), 19);
    }
}
