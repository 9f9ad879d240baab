//! An app as `/v2/apps` shows it: the definition plus counts, deployments and embeds.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use strato_proto::TaskState;
use strato_runtime_types::{App, TaskRecord};
use strato_scheduler::health;

use crate::state::State;

/// Marathon's task JSON, with tasks being killed shown as TASK_KILLING.
pub fn task_json(task: &TaskRecord) -> Value {
    if task.kill_requested && task.is_active() {
        let mut shown = task.clone();
        shown.state = TaskState::Killing;
        return shown.to_marathon_json();
    }
    task.to_marathon_json()
}

/// `embed` names: `tasks`, `counts`, `deployments`, `lastTaskFailure`, `readiness`, … Counts
/// and deployments are always included (as Marathon does); `all` adds everything
/// (`GET /v2/apps/{id}`).
pub fn app_json(state: &State, app: &App, embed: &BTreeSet<String>, all: bool) -> Value {
    let mut value = app.to_marathon_json();
    let tasks: Vec<&TaskRecord> = state.active_tasks_of(&app.id).collect();
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
            object.insert(
                "tasks".into(),
                Value::Array(tasks.iter().map(|t| task_json(t)).collect()),
            );
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
    value
}
