//! The agent's HTTP API (port 5051): the master launches and kills tasks here; `/state` is a
//! Mesos-like view for people and tools; `/files/*` reads task sandboxes (`files.rs`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use strato_proto::{AgentInfo, KillTask, LaunchTask, PATH_TASKS};

use crate::executor::{Executor, ExecutorError};
use crate::files::{FilesError, Sandboxes};

#[derive(Clone)]
struct AppState {
    exec: Executor,
    agent: Arc<AgentInfo>,
    sandboxes: Arc<Sandboxes>,
}

pub fn router(exec: Executor, agent: AgentInfo) -> Router {
    let state = AppState {
        sandboxes: Arc::new(Sandboxes::new(exec.work_dir())),
        exec,
        agent: Arc::new(agent),
    };
    Router::new()
        .route(PATH_TASKS, post(launch).get(list))
        .route(&format!("{PATH_TASKS}/{{task_id}}/kill"), post(kill))
        .route("/health", get(|| async { "ok" }))
        .route("/state", get(agent_state))
        .route("/files/browse", get(browse))
        .route("/files/read", get(read))
        .route("/files/download", get(download))
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
    let statuses = s.exec.statuses();
    let executors: Vec<serde_json::Value> = statuses
        .iter()
        .map(|t| {
            let sandbox =
                crate::executor::sandbox::Sandbox::path_for(s.exec.work_dir(), &t.task_id);
            json!({"id": t.task_id, "directory": sandbox.dir, "tasks": [t]})
        })
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
        "flags": { "work_dir": s.exec.work_dir() },
        "tasks": statuses,
        // Mesos names each task's sandbox under its executor.
        "executors": executors,
    }))
    .into_response()
}

impl IntoResponse for FilesError {
    fn into_response(self) -> Response {
        let code = match self {
            FilesError::BadRequest(_) => StatusCode::BAD_REQUEST,
            FilesError::Outside(_) | FilesError::Denied(_) => StatusCode::FORBIDDEN,
            FilesError::NotFound(_) => StatusCode::NOT_FOUND,
            FilesError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        error(code, self.to_string())
    }
}

#[derive(serde::Deserialize)]
struct FilesQuery {
    #[serde(default)]
    path: String,
    offset: Option<String>,
    length: Option<String>,
}

/// A number from the query, named in the error when it is not one.
fn number(name: &str, value: Option<&str>) -> Result<Option<i64>, FilesError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse()
                .map_err(|_| FilesError::BadRequest(format!("{name} {v:?} is not a number")))
        })
        .transpose()
}

/// Runs a blocking file operation off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, FilesError> + Send + 'static,
) -> Result<T, FilesError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(FilesError::Io {
            path: String::new(),
            source: std::io::Error::other(e.to_string()),
        })
    })
}

async fn browse(State(s): State<AppState>, Query(q): Query<FilesQuery>) -> Response {
    let sandboxes = Arc::clone(&s.sandboxes);
    match blocking(move || sandboxes.browse(&q.path)).await {
        Ok(entries) => Json(entries).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn read(State(s): State<AppState>, Query(q): Query<FilesQuery>) -> Response {
    let sandboxes = Arc::clone(&s.sandboxes);
    let answer = blocking(move || {
        let offset = number("offset", q.offset.as_deref())?;
        let length = number("length", q.length.as_deref())?;
        sandboxes.read(&q.path, offset, length)
    })
    .await;
    match answer {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn download(State(s): State<AppState>, Query(q): Query<FilesQuery>) -> Response {
    let sandboxes = Arc::clone(&s.sandboxes);
    let (file, size, name) = match blocking(move || sandboxes.download(&q.path)).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    // What the file holds now, streamed in chunks: a task's output may grow meanwhile, and a
    // sandbox file can be far larger than memory should hold.
    let file = tokio::io::AsyncReadExt::take(tokio::fs::File::from_std(file), size);
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        use tokio::io::AsyncReadExt;
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\', '\r', '\n'], "_")
    );
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/octet-stream".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        axum::body::Body::from_stream(chunks),
    )
        .into_response()
}
