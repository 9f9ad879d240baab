//! `/v2/info`, `/v2/leader` and `/ping`. Only keys marathon-python's models accept are sent.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::master::Master;

fn leader_address(master: &Master) -> String {
    format!(
        "{}:{}",
        master.config.advertise_ip, master.config.marathon_port
    )
}

pub async fn info(State(master): State<Arc<Master>>) -> Json<Value> {
    let framework_id = master.lock().framework_id.clone();
    let config = &master.config;
    Json(json!({
        "name": "marathon",
        "version": "1.10.0",
        "elected": true,
        "leader": leader_address(&master),
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

pub async fn leader(State(master): State<Arc<Master>>) -> Json<Value> {
    Json(json!({"leader": leader_address(&master)}))
}

/// A single master cannot hand leadership away; it answers as Marathon does and stays leader.
pub async fn abdicate() -> Json<Value> {
    Json(json!({"message": "Leadership abdicated"}))
}

pub async fn ping() -> &'static str {
    "pong"
}
