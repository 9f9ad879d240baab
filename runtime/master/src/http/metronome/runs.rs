//! `/v1/jobs/{id}/runs`: start a run, list and show the runs not finished, stop one. Finished
//! runs are in the job's history (`embed=history`), as Metronome keeps them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use strato_runtime_types::time::now_millis;

use super::error::JobsError;
use super::{find_job, valid_job_id};
use crate::jobs::RunStatus;
use crate::master::Master;

pub async fn start(
    State(master): State<Arc<Master>>,
    Path(id): Path<String>,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let mut state = master.lock();
    let run = master
        .start_run(&mut state, &id, now_millis(), None)
        .ok_or(JobsError::UnknownJob { id })?;
    Ok((StatusCode::CREATED, Json(run.to_json())).into_response())
}

pub async fn list(
    State(master): State<Arc<Master>>,
    Path(id): Path<String>,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let state = master.view();
    find_job(&state, &id)?;
    let runs: Vec<Value> = state.jobs.active_runs(&id).map(|r| r.to_json()).collect();
    Ok(Json(runs).into_response())
}

pub async fn show(
    State(master): State<Arc<Master>>,
    Path((id, run)): Path<(String, String)>,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let state = master.view();
    let found = state
        .jobs
        .run(&id, &run)
        .ok_or(JobsError::UnknownRun { job: id, id: run })?;
    Ok(Json(found.to_json()).into_response())
}

/// Stops a run: its task is killed and the run fails. Answers the run as it ends.
pub async fn stop(
    State(master): State<Arc<Master>>,
    Path((id, run)): Path<(String, String)>,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let now = now_millis();
    let mut state = master.lock();
    find_job(&state, &id)?;
    let Some(mut answer) = state.jobs.run(&id, &run).cloned() else {
        return Err(JobsError::UnknownRun { job: id, id: run });
    };
    let mut calls = Vec::new();
    master.stop_run(
        &mut state,
        &id,
        &run,
        "stopped through the API",
        now,
        &mut calls,
    );
    drop(state);
    master.execute(calls);
    answer.status = RunStatus::Failed;
    answer.completed_at = Some(now);
    Ok(Json(answer.to_json()).into_response())
}
