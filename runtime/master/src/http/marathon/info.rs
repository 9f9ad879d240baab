//! `/v2/info`, `/v2/leader` and `/ping`. Only keys marathon-python's models accept are sent.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::master::Master;

/// No Strato version here: marathon-python 0.13.0's `MarathonInfo` takes only the keys below (plus
/// `buildref` and `event_subscriber`) and raises on any other, so `get_info()` would fail. The
/// version is in `/strato/v1/ha` (`version`) and `/master/state` (`strato_version`).
pub async fn info(State(master): State<Arc<Master>>) -> Json<Value> {
    let leader = master.leader_address().await.map(|l| l.marathon);
    let framework_id = master.view().framework_id.clone();
    let config = &master.config;
    Json(json!({
        "name": "marathon",
        "version": "1.10.0",
        "elected": master.is_leader(),
        "leader": leader,
        "frameworkId": framework_id,
        "marathon_config": {
            "checkpoint": true,
            "executor": "//cmd",
            "failover_timeout": 604800,
            "framework_name": "marathon",
            "ha": config.masters.len() > 1,
            "hostname": config.advertise_ip,
            "local_port_min": strato_scheduler::ports::SERVICE_PORT_MIN,
            "local_port_max": strato_scheduler::ports::SERVICE_PORT_MAX,
            "master": format!("{}:{}", config.advertise_ip, config.mesos_port),
            "mesos_role": "*",
            "mesos_user": "root",
            "webui_url": null,
            "task_launch_timeout": 300000,
        },
        "zookeeper_config": {"zk": null, "zk_timeout": 10000},
        "http_config": {"http_port": config.marathon_port, "https_port": 8443},
    }))
}

/// The leader on every master; 404 as Marathon answers while none is elected.
pub async fn leader(State(master): State<Arc<Master>>) -> Response {
    match master.leader_address().await {
        Some(leader) => Json(json!({"leader": leader.marathon})).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "There is no leader"})),
        )
            .into_response(),
    }
}

/// Marathon's answer. A single master stays leader; one of several steps down and campaigns
/// again, so another master may win.
pub async fn abdicate(State(master): State<Arc<Master>>) -> Json<Value> {
    if !master.leadership.is_solo() && master.is_leader() {
        master.write_failed.notify_one();
    }
    Json(json!({"message": "Leadership abdicated"}))
}

pub async fn ping() -> &'static str {
    "pong"
}
