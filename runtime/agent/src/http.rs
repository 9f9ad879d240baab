//! The agent's HTTP API (port 5051): the master launches and kills tasks here; `/state` is a
//! Mesos-like view for people and tools.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use strato_proto::{AgentInfo, KillTask, LaunchTask, PATH_TASKS};

use crate::executor::{Executor, ExecutorError};

#[derive(Clone)]
struct AppState {
    exec: Executor,
    agent: Arc<AgentInfo>,
}

pub fn router(exec: Executor, agent: AgentInfo) -> Router {
    let state = AppState {
        exec,
        agent: Arc::new(agent),
    };
    Router::new()
        .route(PATH_TASKS, post(launch).get(list))
        .route(&format!("{PATH_TASKS}/{{task_id}}/kill"), post(kill))
        .route("/health", get(|| async { "ok" }))
        .route("/state", get(agent_state))
        // Mesos agents serve these under their libprocess id; tools still ask for them.
        .route("/slave(1)/health", get(|| async { "ok" }))
        .route("/slave(1)/state", get(agent_state))
        .with_state(state)
}

/// What the agent serves on 127.0.0.1 next to its TLS port: health only, since any process on
/// the node (a task included) can reach loopback.
pub fn health_router() -> Router {
    Router::new().route("/health", get(|| async { "ok" }))
}

fn error(code: StatusCode, message: String) -> Response {
    (code, Json(json!({ "message": message }))).into_response()
}

impl IntoResponse for ExecutorError {
    fn into_response(self) -> Response {
        let code = match self {
            ExecutorError::InvalidTaskId(_) => StatusCode::BAD_REQUEST,
            ExecutorError::UnknownTask(_) => StatusCode::NOT_FOUND,
            ExecutorError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        };
        error(code, self.to_string())
    }
}

async fn launch(State(s): State<AppState>, Json(task): Json<LaunchTask>) -> Response {
    match s.exec.launch(task) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn kill(State(s): State<AppState>, Path(task_id): Path<String>, body: Bytes) -> Response {
    // The body is optional: an empty one means "use the launch's grace period".
    let grace = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<KillTask>(&body) {
            Ok(k) => k.grace_period_seconds,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("invalid kill request: {e}"),
                )
            }
        }
    };
    match s.exec.kill(&task_id, grace) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn list(State(s): State<AppState>) -> Response {
    Json(s.exec.statuses()).into_response()
}

async fn agent_state(State(s): State<AppState>) -> Response {
    let a = &s.agent;
    let ports: Vec<String> = a
        .resources
        .ports
        .iter()
        .map(|r| format!("{}-{}", r.begin, r.end))
        .collect();
    Json(json!({
        "id": a.id,
        "pid": format!("slave(1)@{}:{}", a.address, a.port),
        "hostname": a.hostname,
        "version": a.version,
        "strato_version": a.version,
        "resources": {
            "cpus": a.resources.cpus,
            "mem": a.resources.mem,
            "disk": a.resources.disk,
            "ports": format!("[{}]", ports.join(", ")),
        },
        "attributes": a.attributes,
        "role": a.role,
        "launcher": s.exec.launcher_name(),
        "tasks": s.exec.statuses(),
    }))
    .into_response()
}
