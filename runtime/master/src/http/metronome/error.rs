//! Metronome's error bodies: 404s name what was not found (`{"id", "message": "Job not found"}`),
//! 409s and 400s carry a message, 422s Metronome's `{"message": "Object is not valid",
//! "details": [{"path", "errors"}]}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use strato_runtime_types::job::JobBodyError;
use strato_runtime_types::Violation;
use strato_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("{message}")]
    BadRequest { message: String },
    #[error("Object is not valid")]
    Invalid { details: Vec<Violation> },
    #[error("Job not found")]
    UnknownJob { id: String },
    #[error("Schedule not found")]
    UnknownSchedule { id: String },
    #[error("Job Run not found")]
    UnknownRun { job: String, id: String },
    #[error("{message}")]
    Conflict { message: String },
    #[error("the state store failed")]
    Store(#[from] StoreError),
}

impl From<JobBodyError> for JobsError {
    fn from(error: JobBodyError) -> Self {
        match error {
            JobBodyError::Json { details } => JobsError::BadRequest {
                message: format!("Invalid Json: {details}"),
            },
            JobBodyError::Invalid(details) => JobsError::Invalid { details },
        }
    }
}

impl IntoResponse for JobsError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, body) = match &self {
            JobsError::BadRequest { .. } => (StatusCode::BAD_REQUEST, json!({"message": message})),
            JobsError::Invalid { details } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"message": message, "details": details}),
            ),
            JobsError::UnknownJob { id } | JobsError::UnknownSchedule { id } => {
                (StatusCode::NOT_FOUND, json!({"id": id, "message": message}))
            }
            JobsError::UnknownRun { job, id } => (
                StatusCode::NOT_FOUND,
                json!({"jobSpec": job, "id": id, "message": message}),
            ),
            JobsError::Conflict { .. } => (StatusCode::CONFLICT, json!({"message": message})),
            JobsError::Store(error) => {
                tracing::error!(%error, "state store failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({"message": format!("{message}: {error}")}),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}
