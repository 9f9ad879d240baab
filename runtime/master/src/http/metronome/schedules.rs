//! `/v1/jobs/{id}/schedules`: a job's schedule (one per job, as Metronome allows).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use strato_runtime_types::job_schedule::ScheduleSpec;
use strato_runtime_types::time::now_millis;

use super::error::JobsError;
use super::{find_job, find_job_mut, json_body, valid_job_id};
use crate::jobs::{job_op, ScheduleRecord};
use crate::master::Master;

pub async fn list(
    State(master): State<Arc<Master>>,
    Path(id): Path<String>,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let state = master.view();
    let job = find_job(&state, &id)?;
    let schedules: Vec<Value> = job.schedules.iter().map(ScheduleRecord::to_json).collect();
    Ok(Json(schedules).into_response())
}

pub async fn show(
    State(master): State<Arc<Master>>,
    Path((id, schedule)): Path<(String, String)>,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let state = master.view();
    let job = find_job(&state, &id)?;
    let found = job
        .schedules
        .iter()
        .find(|s| s.spec.id == schedule)
        .ok_or(JobsError::UnknownSchedule { id: schedule })?;
    Ok(Json(found.to_json()).into_response())
}

pub async fn create(
    State(master): State<Arc<Master>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let spec = ScheduleSpec::from_value(json_body(&body)?)?;
    let mut state = master.lock();
    let job = find_job_mut(&mut state, &id)?;
    if job.schedules.iter().any(|s| s.spec.id == spec.id) {
        return Err(JobsError::Conflict {
            message: format!("A schedule with id {} already exists", spec.id),
        });
    }
    if !job.schedules.is_empty() {
        return Err(JobsError::Conflict {
            message: "Only one schedule supported at the moment".into(),
        });
    }
    let record = ScheduleRecord::new(spec, now_millis());
    job.schedules.push(record.clone());
    let job = job.clone();
    master.write(vec![job_op(&job)?]);
    Ok((StatusCode::CREATED, Json(record.to_json())).into_response())
}

/// Replaces a schedule (the id is the path's); its next start is counted afresh from now.
pub async fn replace(
    State(master): State<Arc<Master>>,
    Path((id, schedule)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let mut spec = ScheduleSpec::from_value(json_body(&body)?)?;
    spec.id.clone_from(&schedule);
    let mut state = master.lock();
    let job = find_job_mut(&mut state, &id)?;
    let slot = job
        .schedules
        .iter_mut()
        .find(|s| s.spec.id == schedule)
        .ok_or(JobsError::UnknownSchedule { id: schedule })?;
    *slot = ScheduleRecord::new(spec, now_millis());
    let record = slot.clone();
    let job = job.clone();
    master.write(vec![job_op(&job)?]);
    Ok(Json(record.to_json()).into_response())
}

pub async fn remove(
    State(master): State<Arc<Master>>,
    Path((id, schedule)): Path<(String, String)>,
) -> Result<Response, JobsError> {
    valid_job_id(&id)?;
    let mut state = master.lock();
    let job = find_job_mut(&mut state, &id)?;
    let before = job.schedules.len();
    job.schedules.retain(|s| s.spec.id != schedule);
    if job.schedules.len() == before {
        return Err(JobsError::UnknownSchedule { id: schedule });
    }
    let job = job.clone();
    master.write(vec![job_op(&job)?]);
    Ok(StatusCode::OK.into_response())
}
