//! Tasks: `/v2/tasks`, `/v2/tasks/delete` and an app's `/tasks` (list and kill, with `scale`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use strato_proto::TaskState;
use strato_runtime_types::deployment::DeploymentAction;

use super::app_info::{task_json, task_out};
use super::responses;
use crate::changes::Change;
use crate::error::ApiError;
use crate::http::body;
use crate::http::query::Params;
use crate::master::Master;
use crate::state::State as MasterState;

pub async fn list(State(master): State<Arc<Master>>, params: Params) -> Response {
    let mut wanted: Vec<String> = params
        .all("status")
        .into_iter()
        .chain(params.all("status[]"))
        .map(str::to_lowercase)
        .collect();
    wanted.retain(|s| !s.is_empty());
    let state = master.view();
    let tasks: Vec<_> = state
        .tasks
        .values()
        .filter(|t| t.is_active() && !t.is_job())
        .filter(|t| {
            wanted.is_empty()
                || wanted.iter().any(|w| match w.as_str() {
                    "running" => t.state == TaskState::Running,
                    "staging" => matches!(t.state, TaskState::Staging | TaskState::Starting),
                    _ => false,
                })
        })
        .map(task_out)
        .collect();
    Json(TasksOut { tasks }).into_response()
}

/// Written straight from the records (`app_info::task_out`).
#[derive(serde::Serialize)]
struct TasksOut<'a> {
    tasks: Vec<strato_runtime_types::task::MarathonTask<'a>>,
}

pub fn app_tasks(state: &MasterState, app_id: &str) -> Result<Vec<Value>, ApiError> {
    if !state.apps.contains_key(app_id) {
        return Err(ApiError::AppNotFound { id: app_id.into() });
    }
    Ok(state.active_tasks_of(app_id).map(task_json).collect())
}

/// Kills `task_ids`; with `scale` the app's instances drop by as many (a deployment).
fn kill(
    master: &Arc<Master>,
    state: &mut MasterState,
    task_ids: &[String],
    scale: bool,
    force: bool,
) -> Result<Option<crate::changes::DeploymentResult>, ApiError> {
    let mut result = None;
    if scale {
        let mut per_app: std::collections::BTreeMap<String, u32> = Default::default();
        for id in task_ids {
            if let Some(task) = state.tasks.get(id).filter(|t| !t.kill_requested) {
                *per_app.entry(task.app_id.clone()).or_default() += 1;
            }
        }
        let changes: Vec<Change> = per_app
            .into_iter()
            .filter_map(|(app_id, n)| {
                let mut app = state.apps.get(&app_id)?.clone();
                app.instances = app.instances.saturating_sub(n);
                Some(Change {
                    app_id,
                    app: Some(app),
                    action: DeploymentAction::ScaleApplication,
                })
            })
            .collect();
        result = Some(master.deploy(state, changes, force)?);
    }
    let mut calls = Vec::new();
    for id in task_ids {
        master.request_kill(state, id, None, &mut calls);
    }
    master.execute(calls);
    Ok(result)
}

pub async fn kill_app_tasks(
    master: &Arc<Master>,
    app_id: &str,
    params: &Params,
) -> Result<Response, ApiError> {
    let mut state = master.lock();
    if !state.apps.contains_key(app_id) {
        return Err(ApiError::AppNotFound { id: app_id.into() });
    }
    let host = params.get("host");
    let ids: Vec<String> = state
        .active_tasks_of(app_id)
        .filter(|t| !t.kill_requested && host.is_none_or(|h| t.host == h))
        .map(|t| t.id.clone())
        .collect();
    let shown: Vec<Value> = ids
        .iter()
        .filter_map(|id| state.tasks.get(id).filter(|t| !t.is_job()))
        .map(task_json)
        .collect();
    match kill(
        master,
        &mut state,
        &ids,
        params.flag("scale", false),
        params.flag("force", false),
    )? {
        Some(result) => Ok(responses::deployment(StatusCode::OK, &result)),
        None => Ok(Json(json!({"tasks": shown})).into_response()),
    }
}

pub async fn kill_app_task(
    master: &Arc<Master>,
    app_id: &str,
    task_id: &str,
    params: &Params,
) -> Result<Response, ApiError> {
    let mut state = master.lock();
    if !state.apps.contains_key(app_id) {
        return Err(ApiError::AppNotFound { id: app_id.into() });
    }
    let task = state
        .tasks
        .get(task_id)
        .filter(|t| t.app_id == app_id && t.is_active())
        .map(task_json)
        .ok_or_else(|| ApiError::TaskNotFound { id: task_id.into() })?;
    match kill(
        master,
        &mut state,
        &[task_id.to_string()],
        params.flag("scale", false),
        params.flag("force", false),
    )? {
        Some(result) => Ok(responses::deployment(StatusCode::OK, &result)),
        None => Ok(Json(json!({"task": task})).into_response()),
    }
}

pub async fn delete_many(
    State(master): State<Arc<Master>>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    if params.flag("scale", false) && params.flag("wipe", false) {
        return Err(ApiError::BadRequest {
            message: "You cannot use scale and wipe at the same time.".into(),
        });
    }
    let body = body::object(&bytes)?;
    let ids: Vec<String> = body
        .get("ids")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::InvalidJson {
            details: "expected {\"ids\": [...]}".into(),
        })?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let mut state = master.lock();
    if let Some(bad) = ids.iter().find(|id| !id.contains('.')) {
        return Err(ApiError::BadRequest {
            message: format!("Invalid task id '{bad}'."),
        });
    }
    let known: Vec<String> = ids
        .into_iter()
        // A job run's task is stopped through its run (`/v1/jobs/{id}/runs/{run}/actions/stop`).
        .filter(|id| state.tasks.get(id).is_some_and(|t| !t.is_job()))
        .collect();
    let shown: Vec<Value> = known
        .iter()
        .filter_map(|id| state.tasks.get(id).filter(|t| !t.is_job()))
        .map(task_json)
        .collect();
    match kill(
        &master,
        &mut state,
        &known,
        params.flag("scale", false),
        params.flag("force", false),
    )? {
        Some(result) => Ok(responses::deployment(StatusCode::OK, &result)),
        None => Ok(Json(json!({"tasks": shown})).into_response()),
    }
}
