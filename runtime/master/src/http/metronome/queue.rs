//! `/v1/queue`: runs waiting for an agent to take their task.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::master::Master;

pub async fn list(State(master): State<Arc<Master>>) -> Json<Value> {
    let state = master.view();
    let queued: Vec<Value> = state
        .jobs
        .runs
        .iter()
        .filter_map(|(job_id, runs)| {
            let waiting: Vec<Value> = runs
                .values()
                .filter(|r| !r.stopping && r.live_task().is_none())
                .map(|r| json!({"runId": r.id}))
                .collect();
            (!waiting.is_empty()).then(|| json!({"jobId": job_id, "runs": waiting}))
        })
        .collect();
    Json(Value::from(queued))
}
