//! Where tasks ran and what they wrote: `/strato/v1/tasks` lists active and recently finished
//! tasks with their agent and sandbox, and the master reads sandboxes for the operator through
//! the agents' files API (`runtime/agent/src/files.rs`), which only masters may call:
//!
//! - `/strato/v1/tasks/{task_id}/files/{browse,read,download}?path=<relative>`: the task's
//!   agent and sandbox looked up here, the path relative to the sandbox;
//! - `/agent/{agent_id}/files/{browse,read,download}?path=<absolute>` and `/agent/{agent_id}/state`:
//!   passed through to the agent, as DC/OS's Admin Router does for the DC/OS CLI.
//!
//! The agent's answer (status and JSON, or the file) is passed on as it came.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path as FsPath};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use strato_runtime_types::TaskRecord;

use crate::agent_client::AgentAnswer;
use crate::master::Master;
use crate::registry::agent_url;
use crate::state::State as MasterState;

/// How long the task list waits for an agent it has not asked its work dir yet.
const WORK_DIR_WAIT: Duration = Duration::from_secs(3);

/// The agent's files API operations passed on.
const OPERATIONS: [&str; 3] = ["browse", "read", "download"];

pub fn routes() -> Router<Arc<Master>> {
    Router::new()
        .route("/strato/v1/tasks", get(list))
        .route(
            "/strato/v1/tasks/{task_id}/files/{operation}",
            get(task_files),
        )
        .route("/agent/{agent_id}/files/{operation}", get(agent_files))
        .route("/agent/{agent_id}/state", get(agent_state))
}

fn message(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

#[derive(serde::Deserialize)]
struct ListQuery {
    app: Option<String>,
}

/// A task the master knows, active or finished: where it ran.
struct Known<'a> {
    task: &'a TaskRecord,
    active: bool,
}

/// Active tasks (newest first), then finished ones (newest first); each id once.
fn known_tasks<'a>(state: &'a MasterState, app: Option<&str>) -> Vec<Known<'a>> {
    let wanted = |t: &TaskRecord| app.is_none_or(|a| t.app_id == a);
    let mut active: Vec<&TaskRecord> = state.tasks.values().filter(|t| wanted(t)).collect();
    active.sort_by(|a, b| b.staged_at.cmp(&a.staged_at).then(b.id.cmp(&a.id)));
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for task in active {
        seen.insert(&task.id);
        out.push(Known {
            task,
            active: task.is_active(),
        });
    }
    for task in state.completed.iter().rev().filter(|t| wanted(t)) {
        if seen.insert(&task.id) {
            out.push(Known {
                task,
                active: false,
            });
        }
    }
    out
}

/// The sandbox of `task_id` under an agent's work dir (`runtime/agent/src/executor/sandbox.rs`).
fn sandbox_of(work_dir: &str, task_id: &str) -> String {
    format!("{}/sandboxes/{task_id}", work_dir.trim_end_matches('/'))
}

async fn list(State(master): State<Arc<Master>>, Query(query): Query<ListQuery>) -> Response {
    let app = query
        .app
        .map(|a| format!("/{}", a.trim_matches('/')))
        .filter(|a| a != "/");
    let state = master.view();
    let tasks = known_tasks(&state, app.as_deref());
    // Each active agent asked once (in parallel, bounded; the client remembers the answer): an
    // agent that does not answer leaves its tasks' sandbox unknown (null), not the list
    // unanswered.
    let urls: BTreeMap<&str, String> = tasks
        .iter()
        .filter_map(|k| {
            // An agent past its timeout would only make the list wait.
            let agent = state.agents.get(&k.task.agent_id).filter(|a| a.active)?;
            Some((k.task.agent_id.as_str(), agent_url(&agent.info)))
        })
        .collect();
    let asks = urls.iter().map(|(id, url)| {
        let ask = master.agents.work_dir(url.clone());
        async move {
            let dir = tokio::time::timeout(WORK_DIR_WAIT, ask).await;
            (*id, dir.ok().and_then(Result::ok))
        }
    });
    let work_dirs: HashMap<&str, Option<String>> = futures_util::future::join_all(asks)
        .await
        .into_iter()
        .collect();
    let body: Vec<Value> = tasks
        .iter()
        .map(|k| {
            let t = k.task;
            let sandbox = work_dirs
                .get(t.agent_id.as_str())
                .and_then(Option::as_deref)
                .map(|dir| sandbox_of(dir, &t.id));
            let mut entry = json!({
                "id": t.id,
                "appId": t.app_id,
                "agentId": t.agent_id,
                "host": t.host,
                "state": t.state.as_str(),
                "sandbox": sandbox,
                "active": k.active,
            });
            if let Some(started) = t.started_at {
                entry["startedAt"] = json!(strato_runtime_types::time::iso(started));
            }
            if let Some(text) = &t.message {
                entry["message"] = json!(text);
            }
            entry
        })
        .collect();
    Json(json!({ "tasks": body })).into_response()
}

#[derive(serde::Deserialize)]
struct FilesQuery {
    #[serde(default)]
    path: String,
    offset: Option<String>,
    length: Option<String>,
}

impl FilesQuery {
    /// The query for the agent, with `path` replaced.
    fn for_agent(&self, path: String) -> Vec<(String, String)> {
        let mut query = vec![("path".to_string(), path)];
        for (name, value) in [("offset", &self.offset), ("length", &self.length)] {
            if let Some(value) = value {
                query.push((name.to_string(), value.clone()));
            }
        }
        query
    }
}

/// Why a path relative to a sandbox is refused: it must stay inside.
fn relative_path_problem(path: &str) -> Option<String> {
    let p = FsPath::new(path);
    if p.is_absolute() {
        return Some(format!(
            "{path} is absolute: give a path relative to the task's sandbox"
        ));
    }
    if p.components().any(|c| c == Component::ParentDir) {
        return Some(format!("{path} leaves the task's sandbox"));
    }
    None
}

async fn task_files(
    State(master): State<Arc<Master>>,
    Path((task_id, operation)): Path<(String, String)>,
    Query(query): Query<FilesQuery>,
) -> Response {
    if !OPERATIONS.contains(&operation.as_str()) {
        return message(
            StatusCode::NOT_FOUND,
            format!("URI not found: /strato/v1/tasks/{task_id}/files/{operation}"),
        );
    }
    if let Some(problem) = relative_path_problem(&query.path) {
        return message(StatusCode::FORBIDDEN, problem);
    }
    let state = master.view();
    let Some(known) = known_tasks(&state, None)
        .into_iter()
        .find(|k| k.task.id == task_id)
    else {
        return message(
            StatusCode::NOT_FOUND,
            format!("Task '{task_id}' does not exist"),
        );
    };
    let Some(agent) = state.agents.get(&known.task.agent_id) else {
        return message(
            StatusCode::NOT_FOUND,
            format!(
                "Task '{task_id}' ran on agent {}, which is no longer known",
                known.task.agent_id
            ),
        );
    };
    let url = agent_url(&agent.info);
    let work_dir = match master.agents.work_dir(url.clone()).await {
        Ok(dir) => dir,
        Err(e) => return unreachable(&e.to_string()),
    };
    let sandbox = sandbox_of(&work_dir, &task_id);
    let relative = query.path.trim_matches('/');
    let path = if relative.is_empty() {
        sandbox
    } else {
        format!("{sandbox}/{relative}")
    };
    pass_on(&master, url, &operation, query.for_agent(path)).await
}

async fn agent_files(
    State(master): State<Arc<Master>>,
    Path((agent_id, operation)): Path<(String, String)>,
    Query(query): Query<FilesQuery>,
) -> Response {
    if !OPERATIONS.contains(&operation.as_str()) {
        return message(
            StatusCode::NOT_FOUND,
            format!("URI not found: /agent/{agent_id}/files/{operation}"),
        );
    }
    let Some(url) = agent_of(&master, &agent_id) else {
        return unknown_agent(&agent_id);
    };
    // The agent confines the absolute path to its sandboxes.
    let path = query.path.clone();
    pass_on(&master, url, &operation, query.for_agent(path)).await
}

async fn agent_state(State(master): State<Arc<Master>>, Path(agent_id): Path<String>) -> Response {
    let Some(url) = agent_of(&master, &agent_id) else {
        return unknown_agent(&agent_id);
    };
    answer(master.agents.get(url, "/state".into(), Vec::new()).await)
}

/// The URL of a registered agent. `v1` is never one: `/agent/v1/` is the agent protocol, which
/// the guards let agents' certificates reach (`guard.rs`), and this is for operators.
fn agent_of(master: &Master, agent_id: &str) -> Option<String> {
    if agent_id == "v1" {
        return None;
    }
    master
        .view()
        .agents
        .get(agent_id)
        .map(|agent| agent_url(&agent.info))
}

fn unknown_agent(agent_id: &str) -> Response {
    message(
        StatusCode::NOT_FOUND,
        format!("Agent '{agent_id}' is not registered"),
    )
}

fn unreachable(why: &str) -> Response {
    message(
        StatusCode::BAD_GATEWAY,
        format!("The task's agent did not answer: {why}"),
    )
}

async fn pass_on(
    master: &Master,
    url: String,
    operation: &str,
    query: Vec<(String, String)>,
) -> Response {
    answer(
        master
            .agents
            .get(url, format!("/files/{operation}"), query)
            .await,
    )
}

fn answer(result: Result<AgentAnswer, crate::agent_client::AgentCallError>) -> Response {
    let answer = match result {
        Ok(answer) => answer,
        Err(e) => return unreachable(&e.to_string()),
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = (status, answer.body).into_response();
    for (name, value) in [
        (header::CONTENT_TYPE, answer.content_type),
        (header::CONTENT_DISPOSITION, answer.content_disposition),
    ] {
        if let Some(value) = value.and_then(|v| v.parse().ok()) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_must_stay_in_the_sandbox() {
        assert_eq!(relative_path_problem(""), None);
        assert_eq!(relative_path_problem("stdout"), None);
        assert_eq!(relative_path_problem("logs/app.log"), None);
        assert!(relative_path_problem("../../x").is_some());
        assert!(relative_path_problem("logs/../../x").is_some());
        assert!(relative_path_problem("/etc/passwd").is_some());
    }
}
