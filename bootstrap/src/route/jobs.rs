//! `/v1/jobs`: submit a job, list jobs, read one job and its hosts.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use strato_api::{HostStatus, Job, JobRequest};

use crate::error::ApiError;
use crate::server::AppState;

/// `POST /v1/jobs` → 201 with the job; 400 for a bad cluster.yaml or waiver.
pub async fn submit(
    State(state): State<AppState>,
    body: Result<Json<JobRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let Json(request) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let job = state.runner.submit(request)?;
    tracing::info!(job = %job.id, "job submitted");
    Ok((StatusCode::CREATED, Json(job)))
}

/// `GET /v1/jobs`, newest first.
pub async fn list(State(state): State<AppState>) -> Json<Vec<Job>> {
    Json(state.runner.list())
}

/// `GET /v1/jobs/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(state.runner.job(&id)?))
}

/// `GET /v1/jobs/{id}/hosts`.
pub async fn hosts(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<HostStatus>>, ApiError> {
    Ok(Json(state.runner.job(&id)?.hosts))
}
