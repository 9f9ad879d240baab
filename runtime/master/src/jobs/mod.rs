//! DC/OS Jobs (Metronome): jobs, their schedules, runs and history, kept in the master's state
//! and store (so HA and backups carry them as they carry apps). A run is one-shot work: its task
//! is planned by the same scheduler as apps' tasks (`launch.rs` makes the run an app of one
//! instance for the plan), runs on an agent like any task, and its end decides the run
//! (`lifecycle.rs`): success, a retry under `restart.policy` ON_FAILURE, or failure.
//!
//! Stored in `meta` under `jobs/<id>` (the job and its schedules), `job-runs/<id>/<run>` (runs
//! not finished) and `job-history/<id>` (finished runs, bounded).

pub(crate) mod history;
pub(crate) mod launch;
mod lifecycle;
pub(crate) mod run;
pub(crate) mod schedule;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strato_runtime_types::job::JobSpec;
use strato_store::{Op, Store, StoreError, StoreExt, Table};

pub use history::History;
pub use run::{RunRecord, RunStatus};
pub use schedule::ScheduleRecord;

pub const JOBS_PREFIX: &str = "jobs/";
pub const RUNS_PREFIX: &str = "job-runs/";
pub const HISTORY_PREFIX: &str = "job-history/";

/// A job and its schedules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub spec: JobSpec,
    #[serde(default)]
    pub schedules: Vec<ScheduleRecord>,
}

#[derive(Debug, Default, Clone)]
pub struct Jobs {
    pub jobs: BTreeMap<String, JobRecord>,
    /// Job id → run id → runs not finished yet.
    pub runs: BTreeMap<String, BTreeMap<String, RunRecord>>,
    pub history: BTreeMap<String, History>,
}

impl Jobs {
    pub async fn load(store: &dyn Store) -> Result<Jobs, StoreError> {
        let mut jobs = Jobs::default();
        for (key, job) in store
            .list_json::<JobRecord>(Table::Meta, JOBS_PREFIX)
            .await?
        {
            let id = key.strip_prefix(JOBS_PREFIX).unwrap_or(&key).to_string();
            jobs.jobs.insert(id, job);
        }
        for (_, run) in store
            .list_json::<RunRecord>(Table::Meta, RUNS_PREFIX)
            .await?
        {
            jobs.runs
                .entry(run.job_id.clone())
                .or_default()
                .insert(run.id.clone(), run);
        }
        for (key, history) in store
            .list_json::<History>(Table::Meta, HISTORY_PREFIX)
            .await?
        {
            let id = key.strip_prefix(HISTORY_PREFIX).unwrap_or(&key).to_string();
            jobs.history.insert(id, history);
        }
        Ok(jobs)
    }

    pub fn run(&self, job_id: &str, run_id: &str) -> Option<&RunRecord> {
        self.runs.get(job_id)?.get(run_id)
    }

    pub fn run_mut(&mut self, job_id: &str, run_id: &str) -> Option<&mut RunRecord> {
        self.runs.get_mut(job_id)?.get_mut(run_id)
    }

    /// Runs of `job_id` not finished yet.
    pub fn active_runs(&self, job_id: &str) -> impl Iterator<Item = &RunRecord> {
        self.runs.get(job_id).into_iter().flat_map(|r| r.values())
    }

    pub fn all_runs(&self) -> impl Iterator<Item = &RunRecord> {
        self.runs.values().flat_map(|r| r.values())
    }
}

pub fn job_key(id: &str) -> String {
    format!("{JOBS_PREFIX}{id}")
}

pub fn run_key(job_id: &str, run_id: &str) -> String {
    format!("{RUNS_PREFIX}{job_id}/{run_id}")
}

pub fn history_key(id: &str) -> String {
    format!("{HISTORY_PREFIX}{id}")
}

pub fn job_op(job: &JobRecord) -> Result<Op, StoreError> {
    Op::put_json(Table::Meta, job_key(&job.spec.id), job)
}

pub fn run_op(run: &RunRecord) -> Result<Op, StoreError> {
    Op::put_json(Table::Meta, run_key(&run.job_id, &run.id), run)
}

#[cfg(test)]
mod tests;
