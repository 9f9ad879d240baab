//! [`ApiError`]: every way a request fails, mapped to a status in one exhaustive match
//! (bottlerocket's apiserver). The body is `{"error": "<message>"}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use strato_engine::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is wrong (bad cluster.yaml, unknown waiver, unparseable JSON).
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    /// The server is not ready for the request (no serve tree uploaded yet).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Internal(String),
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let message = strato_engine::chain(&e);
        match e {
            // 400
            EngineError::InvalidCluster(_) | EngineError::InvalidWaiver(_) => {
                ApiError::BadRequest(message)
            }
            // 404
            EngineError::UnknownJob(_) => ApiError::NotFound(message),
            // 409
            EngineError::ServeTree { .. } | EngineError::Busy { .. } | EngineError::Pki(_) => {
                ApiError::Conflict(message)
            }
            // 500
            EngineError::Journal { .. } | EngineError::JournalCorrupt { .. } => {
                ApiError::Internal(message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            // 400
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            // 401
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            // 404
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            // 409
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            // 500
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = Json(serde_json::json!({ "error": self.to_string() }));
        (status, body).into_response()
    }
}
