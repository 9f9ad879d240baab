//! Marathon readiness checks, run by the master (not the agent) and only while a deployment
//! changes the app: every new-version task that is running (and healthy, when the app has health
//! checks) is probed over HTTP(S) at `intervalSeconds` until it answers one of
//! `httpStatusCodesForReady`. Until then the scheduler treats it like an unhealthy task
//! (`strato_scheduler::readiness`), so the deployment neither counts it nor kills old tasks for it.
//! Results are kept in memory; after a master restart the tasks of a running deployment are
//! simply probed again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use strato_runtime_types::app::ReadinessCheck;
use strato_runtime_types::time::now_millis;
use strato_runtime_types::{App, TaskRecord};
use strato_scheduler::health;

use crate::master::Master;
use crate::state::State;

/// Response bodies kept for `lastResponse` are cut to this many bytes.
const MAX_BODY: usize = 4096;

/// One `readinessCheckResults[]` entry as Marathon writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub name: String,
    pub task_id: String,
    pub ready: bool,
    /// Only with `preserveLastResponse`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_response: Option<LastResponse>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// What the master knows about one task's readiness.
#[derive(Debug, Clone, Default)]
pub struct TaskReadiness {
    /// Latest result per check name.
    pub results: BTreeMap<String, CheckResult>,
    pub next_probe_at: u64,
    pub in_flight: bool,
}

impl TaskReadiness {
    fn ready(&self, app: &App) -> bool {
        app.readiness_checks
            .iter()
            .all(|c| self.results.get(&c.name).is_some_and(|r| r.ready))
    }
}

/// Readiness gates the app only while a deployment changes it.
fn gated(state: &State, app: &App) -> bool {
    !app.readiness_checks.is_empty() && state.deployments.values().any(|d| d.affects(&app.id))
}

/// Ids of the app's new-version tasks the scheduler must not count yet.
pub(crate) fn not_ready(state: &State, app: &App) -> BTreeSet<String> {
    if !gated(state, app) {
        return BTreeSet::new();
    }
    state
        .active_tasks_of(&app.id)
        .filter(|t| !t.kill_requested && t.config_version == app.version_info.last_config_change_at)
        .filter(|t| !state.readiness.get(&t.id).is_some_and(|r| r.ready(app)))
        .map(|t| t.id.clone())
        .collect()
}

/// The `readinessCheckResults` of the app's active tasks.
pub(crate) fn results_of(state: &State, app_id: &str) -> Vec<Value> {
    state
        .active_tasks_of(app_id)
        .filter_map(|t| state.readiness.get(&t.id))
        .flat_map(|r| r.results.values())
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect()
}

/// A probe to send once the state lock is released.
struct Probe {
    task_id: String,
    check: ReadinessCheck,
    /// `None` when the task has no host port to probe.
    url: Option<String>,
}

/// The URL of `check` for `task`: its agent's address and the host port whose name matches
/// `portName`.
fn url_of(state: &State, app: &App, task: &TaskRecord, check: &ReadinessCheck) -> Option<String> {
    // Unnamed ports are common (and an app without portDefinitions gets one named `default`):
    // with no port called `portName`, the first port is probed rather than stalling the
    // deployment forever.
    let index = app
        .port_names()
        .iter()
        .position(|name| name.as_deref() == Some(check.port_name.as_str()))
        .unwrap_or(0);
    let port = task.ports.get(index)?;
    let host = state
        .agents
        .get(&task.agent_id)
        .map_or(task.host.as_str(), |a| a.info.address.as_str());
    let scheme = if check.protocol.eq_ignore_ascii_case("HTTPS") {
        "https"
    } else {
        "http"
    };
    let slash = if check.path.starts_with('/') { "" } else { "/" };
    Some(format!("{scheme}://{host}:{port}{slash}{}", check.path))
}

/// Marks due probes as in flight and returns them; forgets tasks that ended.
fn due_probes(state: &mut State, now: u64) -> Vec<Probe> {
    let tasks = &state.tasks;
    state
        .readiness
        .retain(|id, _| tasks.get(id).is_some_and(|t| t.is_active()));
    let mut probes = Vec::new();
    for app in state.apps.values() {
        for task_id in not_ready(state, app) {
            let Some(task) = state.tasks.get(&task_id) else {
                continue;
            };
            let entry = state.readiness.get(&task_id);
            if !health::is_healthy(app, task)
                || entry.is_some_and(|r| r.in_flight || r.next_probe_at > now)
            {
                continue;
            }
            for check in &app.readiness_checks {
                probes.push(Probe {
                    task_id: task_id.clone(),
                    check: check.clone(),
                    url: url_of(state, app, task, check),
                });
            }
        }
    }
    for probe in &probes {
        state
            .readiness
            .entry(probe.task_id.clone())
            .or_default()
            .in_flight = true;
    }
    probes
}

/// The readiness probes' client: it never follows a redirect. A 3xx is the task's answer (ready
/// only if the check lists it), and following one would let a task make the master fetch any
/// address it can reach (docs/security.md, M-3).
pub(crate) fn http_client() -> reqwest::Client {
    strato_tls::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|err| panic!("the readiness HTTP client cannot be built: {err}"))
}

/// Sends one probe; anything but an answer with a ready status code is "not ready".
async fn send(http: &reqwest::Client, probe: &Probe) -> CheckResult {
    let check = &probe.check;
    let mut result = CheckResult {
        name: check.name.clone(),
        task_id: probe.task_id.clone(),
        ready: false,
        last_response: None,
    };
    let Some(url) = &probe.url else {
        tracing::warn!(task = %probe.task_id, check = %check.name, "readiness check has no host port to probe");
        return result;
    };
    let timeout = Duration::from_secs(check.timeout_seconds.max(1));
    let mut response = match http.get(url).timeout(timeout).send().await {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(%error, task = %probe.task_id, %url, "readiness probe failed");
            return result;
        }
    };
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    result.ready = check.http_status_codes_for_ready.contains(&status);
    if check.preserve_last_response {
        // Only what is kept is read: a task answering gigabytes costs the master 4 KiB.
        let mut body = Vec::new();
        while body.len() < MAX_BODY {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
        body.truncate(MAX_BODY);
        let body = String::from_utf8_lossy(&body).into_owned();
        result.last_response = Some(LastResponse {
            status,
            content_type,
            body,
        });
    }
    result
}

/// Records a probe's result; wakes the reconcile loop when the task became ready.
fn record(master: &Master, result: CheckResult) {
    let mut state = master.lock();
    let Some(app) = state
        .tasks
        .get(&result.task_id)
        .and_then(|t| state.apps.get(&t.app_id))
        .cloned()
    else {
        return;
    };
    let interval = app
        .readiness_checks
        .iter()
        .find(|c| c.name == result.name)
        .map_or(30, |c| c.interval_seconds);
    let Some(entry) = state.readiness.get_mut(&result.task_id) else {
        return;
    };
    entry.in_flight = false;
    entry.next_probe_at = now_millis().saturating_add(interval.max(1).saturating_mul(1000));
    entry.results.insert(result.name.clone(), result);
    if entry.ready(&app) {
        master.wake();
    }
}

impl Master {
    /// Starts the readiness probes that are due; results arrive asynchronously.
    pub(crate) fn probe_readiness(self: &Arc<Self>, now: u64) {
        let probes = due_probes(&mut self.lock(), now);
        for probe in probes {
            let master = Arc::clone(self);
            tokio::spawn(async move {
                let result = send(&master.readiness_http, &probe).await;
                record(&master, result);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strato_proto::{AgentInfo, TaskState};
    use strato_runtime_types::app::PortDefinition;
    use strato_runtime_types::deployment::{DeploymentAction, DeploymentStep};
    use strato_runtime_types::Deployment;

    use crate::state::AgentEntry;

    fn app(port_names: &[Option<&str>]) -> App {
        let mut app = App {
            id: "/a".into(),
            port_definitions: port_names
                .iter()
                .map(|name| PortDefinition {
                    name: name.map(str::to_string),
                    ..PortDefinition::default()
                })
                .collect(),
            readiness_checks: vec![ReadinessCheck {
                port_name: "http".into(),
                path: "ready".into(),
                ..ReadinessCheck::default()
            }],
            ..App::default()
        };
        app.version_info.last_config_change_at = "v2".into();
        app
    }

    fn task(id: &str, config_version: &str) -> TaskRecord {
        TaskRecord {
            id: id.into(),
            app_id: "/a".into(),
            agent_id: "a1".into(),
            host: "a1.example".into(),
            version: config_version.into(),
            config_version: config_version.into(),
            state: TaskState::Running,
            staged_at: 1,
            started_at: Some(1),
            ports: vec![31000, 31001],
            service_ports: vec![],
            health: vec![],
            message: None,
            kill_requested: false,
            cpus: 0.0,
            mem: 0.0,
            disk: 0.0,
            job_run: None,
        }
    }

    fn state_with(app: &App, tasks: &[TaskRecord], deploying: bool) -> State {
        let mut state = State::default();
        state.apps.insert(app.id.clone(), app.clone());
        for t in tasks {
            state.add_task(t.clone());
        }
        state.agents.insert(
            "a1".into(),
            AgentEntry {
                info: AgentInfo {
                    id: "a1".into(),
                    hostname: "a1.example".into(),
                    address: "10.0.0.7".into(),
                    port: 5051,
                    resources: Default::default(),
                    attributes: Default::default(),
                    role: "*".into(),
                    version: "test".into(),
                    container_engine: None,
                },
                registered_at: 0,
                last_seen: 0,
                active: true,
            },
        );
        if deploying {
            state.deployments.insert(
                "d1".into(),
                Deployment {
                    id: "d1".into(),
                    version: "v2".into(),
                    steps: vec![vec![DeploymentStep {
                        action: DeploymentAction::RestartApplication,
                        app_id: app.id.clone(),
                    }]],
                    previous: BTreeMap::new(),
                },
            );
        }
        state
    }

    #[test]
    fn probes_the_agent_address_and_the_port_named_port_name() {
        let app = app(&[Some("admin"), Some("http")]);
        let t = task("n1", "v2");
        let state = state_with(&app, std::slice::from_ref(&t), true);
        let check = &app.readiness_checks[0];
        assert_eq!(
            url_of(&state, &app, &t, check).as_deref(),
            Some("http://10.0.0.7:31001/ready")
        );
        let https = ReadinessCheck {
            protocol: "HTTPS".into(),
            ..check.clone()
        };
        assert_eq!(
            url_of(&state, &app, &t, &https).as_deref(),
            Some("https://10.0.0.7:31001/ready")
        );
    }

    #[test]
    fn unnamed_ports_fall_back_to_the_first_port() {
        let app = app(&[None, None]);
        let t = task("n1", "v2");
        let state = state_with(&app, std::slice::from_ref(&t), true);
        assert_eq!(
            url_of(&state, &app, &t, &app.readiness_checks[0]).as_deref(),
            Some("http://10.0.0.7:31000/ready")
        );
    }

    #[test]
    fn only_new_tasks_of_a_deploying_app_wait_for_readiness() {
        let app = app(&[Some("http")]);
        let tasks = [task("old", "v1"), task("new", "v2")];
        let deploying = state_with(&app, &tasks, true);
        assert_eq!(
            not_ready(&deploying, &app),
            BTreeSet::from(["new".to_string()])
        );
        let steady = state_with(&app, &tasks, false);
        assert!(not_ready(&steady, &app).is_empty());
    }

    #[test]
    fn a_due_probe_is_sent_once_until_its_result_arrives() {
        let app = app(&[Some("http")]);
        let mut state = state_with(&app, &[task("new", "v2")], true);
        let probes = due_probes(&mut state, 0);
        assert_eq!(probes.len(), 1);
        assert_eq!(probes[0].task_id, "new");
        assert!(due_probes(&mut state, 0).is_empty(), "still in flight");
    }
}
