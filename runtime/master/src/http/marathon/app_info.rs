//! An app as `/v2/apps` shows it: the definition plus counts, deployments and embeds.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{json, Value};
use strato_proto::TaskState;
use strato_runtime_types::task::MarathonTask;
use strato_runtime_types::{App, TaskRecord};
use strato_scheduler::health;

use crate::state::State;

/// Marathon's task JSON, with tasks being killed shown as TASK_KILLING.
pub fn task_out(task: &TaskRecord) -> MarathonTask<'_> {
    let state = if task.kill_requested && task.is_active() {
        TaskState::Killing
    } else {
        task.state
    };
    task.marathon(state)
}

pub fn task_json(task: &TaskRecord) -> Value {
    serde_json::to_value(task_out(task)).unwrap_or(Value::Null)
}

/// An app as `/v2/apps` shows it; its tasks (when embedded) are written straight from the
/// records, so a list of 100,000 is not built as `Value`s first.
#[derive(Serialize)]
pub struct AppOut<'a> {
    #[serde(flatten)]
    base: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    tasks: Option<Vec<MarathonTask<'a>>>,
}

/// `embed` names: `tasks`, `counts`, `deployments`, `lastTaskFailure`, `readiness`, … Counts
/// and deployments are always included (as Marathon does); `all` adds everything
/// (`GET /v2/apps/{id}`).
pub fn app_json(state: &State, app: &App, embed: &BTreeSet<String>, all: bool) -> Value {
    serde_json::to_value(app_out(state, app, embed, all)).unwrap_or(Value::Null)
}

/// [`app_json`] as a value to serialize.
pub fn app_out<'a>(
    state: &'a State,
    app: &'a App,
    embed: &BTreeSet<String>,
    all: bool,
) -> AppOut<'a> {
    let mut value = app.to_marathon_json();
    let mut shown_tasks = None;
    let tasks: Vec<&'a TaskRecord> = state.active_tasks_of(&app.id).collect();
    let live: Vec<&&TaskRecord> = tasks.iter().filter(|t| !t.kill_requested).collect();
    let staged = live
        .iter()
        .filter(|t| matches!(t.state, TaskState::Staging | TaskState::Starting))
        .count();
    let running = live.iter().filter(|t| t.is_running()).count();
    let checked = !app.health_checks.is_empty();
    let healthy = if checked {
        live.iter().filter(|t| health::is_healthy(app, t)).count()
    } else {
        0
    };
    let unhealthy = if checked {
        live.iter()
            .filter(|t| t.health.iter().any(|h| !h.alive))
            .count()
    } else {
        0
    };
    let deployments: Vec<Value> = state
        .deployments_affecting(std::slice::from_ref(&app.id))
        .into_iter()
        .map(|id| json!({"id": id}))
        .collect();
    if let Some(object) = value.as_object_mut() {
        object.insert("tasksStaged".into(), json!(staged));
        object.insert("tasksRunning".into(), json!(running));
        object.insert("tasksHealthy".into(), json!(healthy));
        object.insert("tasksUnhealthy".into(), json!(unhealthy));
        object.insert("deployments".into(), Value::Array(deployments));
        if all || embed.contains("tasks") {
            shown_tasks = Some(tasks.iter().map(|t| task_out(t)).collect());
        }
        if all || embed.contains("lastTaskFailure") {
            if let Some(failure) = state.failures.get(&app.id) {
                object.insert("lastTaskFailure".into(), failure.to_marathon_json());
            }
        }
        if embed.contains("readiness") {
            object.insert(
                "readinessCheckResults".into(),
                Value::Array(crate::readiness::results_of(state, &app.id)),
            );
        }
    }
    AppOut {
        base: value,
        tasks: shown_tasks,
    }
}
