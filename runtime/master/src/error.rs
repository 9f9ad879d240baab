//! Errors: [`ApiError`] for the HTTP APIs (one exhaustive mapping to Marathon's status codes and
//! `{message, details}` bodies) and [`MasterError`] for starting the master.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use strato_runtime_types::Violation;
use strato_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Invalid JSON")]
    InvalidJson { details: String },
    #[error("{message}")]
    BadRequest { message: String },
    #[error("Object is not valid")]
    Invalid { details: Vec<Violation> },
    #[error("App '{id}' does not exist")]
    AppNotFound { id: String },
    #[error("Group '{id}' does not exist")]
    GroupNotFound { id: String },
    #[error("Task '{id}' does not exist")]
    TaskNotFound { id: String },
    #[error("DeploymentPlan {id} does not exist")]
    DeploymentNotFound { id: String },
    #[error("{message}")]
    NotFound { message: String },
    #[error("An app with id [{id}] already exists.")]
    AppExists { id: String },
    #[error("Group {id} is already created. Use PUT to change this group.")]
    GroupExists { id: String },
    #[error("App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/{}'.", .deployments.first().map(String::as_str).unwrap_or(""))]
    Locked { deployments: Vec<String> },
    #[error("the state store failed")]
    Store(#[from] StoreError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, body) = match &self {
            ApiError::InvalidJson { details } => (
                StatusCode::BAD_REQUEST,
                json!({"message": message, "details": details}),
            ),
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, json!({"message": message})),
            ApiError::Invalid { details } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"message": message, "details": details}),
            ),
            ApiError::AppNotFound { .. }
            | ApiError::GroupNotFound { .. }
            | ApiError::TaskNotFound { .. }
            | ApiError::DeploymentNotFound { .. }
            | ApiError::NotFound { .. } => (StatusCode::NOT_FOUND, json!({"message": message})),
            ApiError::AppExists { .. } | ApiError::GroupExists { .. } => {
                (StatusCode::CONFLICT, json!({"message": message}))
            }
            ApiError::Locked { deployments } => (
                StatusCode::CONFLICT,
                json!({"message": message, "deployments": deployments.iter().map(|id| json!({"id": id})).collect::<Vec<Value>>()}),
            ),
            ApiError::Store(error) => {
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

impl From<Vec<Violation>> for ApiError {
    fn from(details: Vec<Violation>) -> Self {
        ApiError::Invalid { details }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    #[error("cannot create the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid master config: {message}")]
    Config { message: String },
    #[error("cannot start DNS")]
    Dns(#[from] strato_dns::DnsError),
    #[error("cannot open the state store")]
    Store(#[from] StoreError),
    #[error("cannot listen on {address} ({what})")]
    Bind {
        address: String,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the {what} server failed")]
    Serve {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}
