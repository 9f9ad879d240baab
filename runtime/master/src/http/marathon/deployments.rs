//! `/v2/deployments`: running deployments; DELETE rolls back (or with `force`, just stops).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::responses;
use crate::error::ApiError;
use crate::http::query::Params;
use crate::master::Master;
use crate::readiness;

pub async fn list(State(master): State<Arc<Master>>) -> Json<Value> {
    let state = master.view();
    let deployments: Vec<Value> = state
        .deployment_order
        .iter()
        .filter_map(|id| state.deployments.get(id))
        .map(|d| {
            let mut json = d.to_marathon_json(state.current_step(d));
            with_readiness(&state, &mut json);
            json
        })
        .collect();
    Json(Value::Array(deployments))
}

/// Fills each current action's `readinessCheckResults` with its app's results.
fn with_readiness(state: &crate::state::State, deployment: &mut Value) {
    let Some(actions) = deployment
        .get_mut("currentActions")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for action in actions {
        let app = action["app"].as_str().unwrap_or_default().to_string();
        action["readinessCheckResults"] = Value::Array(readiness::results_of(state, &app));
    }
}

pub async fn delete(
    State(master): State<Arc<Master>>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let mut state = master.lock();
    if !state.deployments.contains_key(&id) {
        return Err(ApiError::DeploymentNotFound { id });
    }
    if params.flag("force", false) {
        master.cancel_deployment(&mut state, &id);
        return Ok(StatusCode::ACCEPTED.into_response());
    }
    let result = master.rollback_deployment(&mut state, &id)?;
    Ok(responses::deployment(StatusCode::OK, &result))
}
