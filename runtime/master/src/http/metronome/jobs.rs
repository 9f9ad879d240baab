//! `/v1/jobs` and `/v1/jobs/{id}`: list, create, show (with `embed`), replace and delete jobs.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use strato_runtime_types::job::JobSpec;
use strato_runtime_types::job_schedule::ScheduleSpec;
use strato_runtime_types::time::now_millis;

use super::error::JobsError;
use super::{embeds, find_job, find_job_mut, json_body, valid_job_id, Embed};
use crate::http::query::Params;
use crate::jobs::{history_key, job_op, JobRecord, ScheduleRecord};
use crate::master::Master;
use crate::state::State as MasterState;

/// A job as `/v1/jobs` answers it: its spec, and what `embed` asked for.
///
/// `schedules` appears only when embedded and `activeRuns` (in a list) only when the job has
/// some: the `dcos-metronome` client parses a bare job into a protobuf message without them.
pub(super) fn job_json(
    state: &MasterState,
    job: &JobRecord,
    embed: &Embed,
    in_list: bool,
) -> Value {
    let mut out = serde_json::to_value(&job.spec).unwrap_or(Value::Null);
    let id = &job.spec.id;
    if embed.schedules {
        out["schedules"] = job.schedules.iter().map(ScheduleRecord::to_json).collect();
    }
    if embed.active_runs {
        let runs: Vec<Value> = state.jobs.active_runs(id).map(|r| r.to_json()).collect();
        if !(in_list && runs.is_empty()) {
            out["activeRuns"] = Value::from(runs);
        }
    }
    let history = state.jobs.history.get(id).cloned().unwrap_or_default();
    if embed.history {
        out["history"] = history.to_json();
    }
    if embed.history_summary {
        out["historySummary"] = history.summary_json();
    }
    out
}

/// The spec alone, with the schedules when it has some (a create's answer).
fn spec_json(job: &JobRecord) -> Value {
    let mut out = serde_json::to_value(&job.spec).unwrap_or(Value::Null);
    if !job.schedules.is_empty() {
        out["schedules"] = job.schedules.iter().map(ScheduleRecord::to_json).collect();
    }
    out
}

pub async fn list(
    State(master): State<Arc<Master>>,
    params: Params,
) -> Result<Response, JobsError> {
    let embed = embeds(&params)?;
    let state = master.view();
    let jobs: Vec<Value> = state
        .jobs
        .jobs
        .values()
        .map(|job| job_json(&state, job, &embed, true))
        .collect();
    Ok(Json(jobs).into_response())
}

pub async fn show(
    State(master): State<Arc<Master>>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let embed = embeds(&params)?;
    let state = master.view();
    let job = find_job(&state, &id)?;
    Ok(Json(job_json(&state, job, &embed, false)).into_response())
}

/// A create's body may carry the job's schedule (at most one, as Metronome allows).
fn take_schedules(value: &mut Value) -> Result<Vec<ScheduleSpec>, JobsError> {
    let Some(raw) = value.as_object_mut().and_then(|o| o.remove("schedules")) else {
        return Ok(Vec::new());
    };
    let items = match raw {
        Value::Null => Vec::new(),
        Value::Array(items) => items,
        _ => {
            return Err(JobsError::Invalid {
                details: vec![strato_runtime_types::Violation::new(
                    "/schedules",
                    "Wrong type. Expected array",
                )],
            })
        }
    };
    if items.len() > 1 {
        return Err(JobsError::Invalid {
            details: vec![strato_runtime_types::Violation::new(
                "/schedules",
                "Only one schedule supported at the moment",
            )],
        });
    }
    items
        .into_iter()
        .map(|item| ScheduleSpec::from_value(item).map_err(|e| prefixed(e.into(), "/schedules(0)")))
        .collect()
}

fn prefixed(error: JobsError, prefix: &str) -> JobsError {
    match error {
        JobsError::Invalid { mut details } => {
            for detail in &mut details {
                detail.path = format!("{prefix}{}", detail.path);
            }
            JobsError::Invalid { details }
        }
        other => other,
    }
}

pub async fn create(State(master): State<Arc<Master>>, body: Bytes) -> Result<Response, JobsError> {
    let mut value = json_body(&body)?;
    let schedules = take_schedules(&mut value)?;
    let spec = JobSpec::from_value(value)?;
    let now = now_millis();
    let mut state = master.lock();
    if state.jobs.jobs.contains_key(&spec.id) {
        return Err(JobsError::Conflict {
            message: "Job with this id already exists".into(),
        });
    }
    let job = JobRecord {
        spec,
        schedules: schedules
            .into_iter()
            .map(|s| ScheduleRecord::new(s, now))
            .collect(),
    };
    master.write(vec![job_op(&job)?]);
    state.jobs.jobs.insert(job.spec.id.clone(), job.clone());
    tracing::info!(job = %job.spec.id, "job created");
    Ok((StatusCode::CREATED, Json(spec_json(&job))).into_response())
}

/// Replaces the job's spec; the id is the path's and schedules stay as they are (Metronome's
/// rules). Runs already started keep the spec they started with.
pub async fn replace(
    State(master): State<Arc<Master>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let mut value = json_body(&body)?;
    if let Some(object) = value.as_object_mut() {
        object.remove("schedules");
        object.insert("id".into(), Value::from(id.clone()));
    }
    let spec = JobSpec::from_value(value)?;
    let mut state = master.lock();
    let job = find_job_mut(&mut state, &id)?;
    job.spec = spec;
    let job = job.clone();
    master.write(vec![job_op(&job)?]);
    Ok(Json(serde_json::to_value(&job.spec).unwrap_or(Value::Null)).into_response())
}

/// Deletes a job with its schedules and history; its active runs are stopped when
/// `stopCurrentJobRuns=true`, else the delete is refused while any runs.
pub async fn remove(
    State(master): State<Arc<Master>>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let now = now_millis();
    let mut state = master.lock();
    if !state.jobs.jobs.contains_key(&id) {
        return Err(JobsError::UnknownJob { id });
    }
    let runs: Vec<String> = state.jobs.active_runs(&id).map(|r| r.id.clone()).collect();
    if !runs.is_empty() && !params.flag("stopCurrentJobRuns", false) {
        return Err(JobsError::Conflict {
            message: "There are active job runs. Override with stopCurrentJobRuns=true".into(),
        });
    }
    let Some(job) = state.jobs.jobs.remove(&id) else {
        return Err(JobsError::UnknownJob { id });
    };
    state.jobs.history.remove(&id);
    master.write(vec![
        strato_store::Op::delete(strato_store::Table::Meta, crate::jobs::job_key(&id)),
        strato_store::Op::delete(strato_store::Table::Meta, history_key(&id)),
    ]);
    let mut calls = Vec::new();
    for run in runs {
        master.stop_run(
            &mut state,
            &id,
            &run,
            "its job was deleted",
            now,
            &mut calls,
        );
    }
    drop(state);
    master.execute(calls);
    tracing::info!(job = %id, "job deleted");
    Ok(Json(serde_json::to_value(&job.spec).unwrap_or(Value::Null)).into_response())
}
