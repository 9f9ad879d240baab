//! Response helpers shared by the Marathon handlers.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use crate::changes::DeploymentResult;

/// `{"deploymentId","version"}` with the `Marathon-Deployment-Id` header.
pub fn deployment(status: StatusCode, result: &DeploymentResult) -> Response {
    with_deployment_header(status, result, result.to_json())
}

pub fn with_deployment_header(
    status: StatusCode,
    result: &DeploymentResult,
    body: Value,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&result.deployment_id) {
        response
            .headers_mut()
            .insert("Marathon-Deployment-Id", value);
    }
    response
}
