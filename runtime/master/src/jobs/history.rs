//! A job's finished runs: counts and last times of successes and failures, and the latest runs
//! of each, bounded (Metronome's `history` and `historySummary`).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use strato_runtime_types::time::iso_metronome;

use super::run::{RunRecord, RunStatus};

/// Finished runs kept per job and outcome (docs/jobs.md: Metronome kept 1,000; the history is one
/// stored record, rewritten at each run's end, so it is kept smaller).
pub const MAX_FINISHED_RUNS: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishedRun {
    pub id: String,
    pub created_at: u64,
    pub finished_at: u64,
    /// Its tasks' ids, oldest first.
    #[serde(default)]
    pub tasks: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub success_count: u64,
    pub failure_count: u64,
    pub last_success_at: Option<u64>,
    pub last_failure_at: Option<u64>,
    /// Newest last.
    pub successful: VecDeque<FinishedRun>,
    pub failed: VecDeque<FinishedRun>,
}

impl History {
    /// Counts a run that has just ended (SUCCESS or FAILED).
    pub fn record(&mut self, run: &RunRecord) {
        let finished_at = run.completed_at.unwrap_or(run.created_at);
        let entry = FinishedRun {
            id: run.id.clone(),
            created_at: run.created_at,
            finished_at,
            tasks: run.tasks.iter().map(|t| t.id.clone()).collect(),
        };
        let list = if run.status == RunStatus::Success {
            self.success_count += 1;
            self.last_success_at = Some(finished_at);
            &mut self.successful
        } else {
            self.failure_count += 1;
            self.last_failure_at = Some(finished_at);
            &mut self.failed
        };
        list.push_back(entry);
        while list.len() > MAX_FINISHED_RUNS {
            list.pop_front();
        }
    }

    pub fn summary_json(&self) -> Value {
        json!({
            "successCount": self.success_count,
            "failureCount": self.failure_count,
            "lastSuccessAt": self.last_success_at.map(iso_metronome),
            "lastFailureAt": self.last_failure_at.map(iso_metronome),
        })
    }

    pub fn to_json(&self) -> Value {
        let runs = |list: &VecDeque<FinishedRun>| -> Vec<Value> {
            list.iter()
                .rev()
                .map(|r| {
                    json!({"id": r.id, "createdAt": iso_metronome(r.created_at),
                           "finishedAt": iso_metronome(r.finished_at), "tasks": r.tasks})
                })
                .collect()
        };
        let mut out = self.summary_json();
        out["successfulFinishedRuns"] = Value::from(runs(&self.successful));
        out["failedFinishedRuns"] = Value::from(runs(&self.failed));
        out
    }
}
