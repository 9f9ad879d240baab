//! `/v2/queue`: apps waiting for launches (capacity or backoff), and resetting their delay.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use strato_runtime_types::path::PathId;
use strato_runtime_types::time::{iso, now_millis};
use strato_scheduler::backoff;

use crate::error::ApiError;
use crate::master::Master;

pub async fn list(State(master): State<Arc<Master>>) -> Json<Value> {
    let now = now_millis();
    let state = master.view();
    let mut queue = Vec::new();
    let used = super::offers::usage(&state);
    for (app_id, (count, since)) in &state.waiting {
        let Some(app) = state.apps.get(app_id) else {
            continue;
        };
        let (left, overdue) = backoff::time_left(state.backoff.get(app_id), now);
        let (mut offers, reason) = super::offers::summary(&state, &used, app);
        // Strato's own, for a person; inside the summary because clients such as
        // marathon-python build queue items from their known keys only (docs/marathon-contract.md).
        offers["reason"] = json!(reason);
        queue.push(json!({
            "app": app.to_marathon_json(),
            "count": count,
            "delay": {"timeLeftSeconds": left, "overdue": overdue},
            "since": iso(*since),
            "processedOffersSummary": offers,
            "lastUnusedOffers": [],
        }));
    }
    Json(json!({"queue": queue}))
}

/// `DELETE /v2/queue/{app id}/delay` → 204.
pub async fn reset_delay(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
) -> Result<StatusCode, ApiError> {
    let Some(app) = rest.trim_end_matches('/').strip_suffix("/delay") else {
        return Err(ApiError::NotFound {
            message: format!("URI not found: /v2/queue/{rest}"),
        });
    };
    let id = PathId::normalise(app).to_string();
    let mut state = master.lock();
    if !state.apps.contains_key(&id) {
        return Err(ApiError::AppNotFound { id });
    }
    state.backoff.remove(&id);
    master.persist_meta(&state);
    master.wake();
    Ok(StatusCode::NO_CONTENT)
}
