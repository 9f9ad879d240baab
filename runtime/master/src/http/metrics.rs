//! `/metrics`: Prometheus text by default; JSON (Marathon's shape) when the client asks for
//! `application/json`, as marathon-python's `get_metrics` does. `/strato/v1/metrics/history`:
//! the samples the dashboard's charts draw (`metrics/history.rs`). Both read the published
//! state, never the lock; `docs/metrics.md` describes every metric.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::master::Master;
use crate::metrics::cluster::figures;
use crate::metrics::history;

pub fn routes() -> Router<Arc<Master>> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/strato/v1/metrics/history", get(history))
}

async fn metrics(State(master): State<Arc<Master>>, headers: HeaderMap) -> Response {
    let state = master.view();
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        let f = figures(&state);
        return Json(json!({
            "version": "4.0.0",
            "counters": {},
            "gauges": {
                "marathon.apps.active.gauge": {"value": f.apps},
                "marathon.deployments.active.gauge": {"value": f.deployments},
                "marathon.tasks.running.gauge": {"value": f.tasks_running},
                "marathon.tasks.staged.gauge": {"value": f.tasks_staging},
                "marathon.mesos.offers.used.gauge": {"value": 0},
            },
            "histograms": {}, "meters": {}, "timers": {},
        }))
        .into_response();
    }
    match master.metrics.encode(&state) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            )],
            text,
        )
            .into_response(),
        Err(std::fmt::Error) => {
            tracing::error!("cannot encode the metrics");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"message": "cannot encode the metrics"})),
            )
                .into_response()
        }
    }
}

async fn history(State(master): State<Arc<Master>>) -> Response {
    Json(history::Body {
        interval: master.history.interval(),
        points: master.history.points(),
    })
    .into_response()
}
