//! The master's record of a task and the two JSON shapes it is shown in (Marathon's task and
//! `lastTaskFailure`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use strato_proto::{HealthResult, TaskState, UnixMillis};

use crate::time::iso;

/// A task as the master tracks it (stored, so a master restart keeps it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub id: String,
    pub app_id: String,
    pub agent_id: String,
    pub host: String,
    /// The app version the task was launched with.
    pub version: String,
    /// `versionInfo.lastConfigChangeAt` at launch: a task is outdated once the app's differs.
    pub config_version: String,
    pub state: TaskState,
    pub staged_at: UnixMillis,
    pub started_at: Option<UnixMillis>,
    pub ports: Vec<u16>,
    pub service_ports: Vec<u32>,
    pub health: Vec<HealthResult>,
    pub message: Option<String>,
    /// A kill was sent; the task no longer counts towards the app's instances.
    #[serde(default)]
    pub kill_requested: bool,
    /// Resources held on the agent while the task is active.
    #[serde(default)]
    pub cpus: f64,
    #[serde(default)]
    pub mem: f64,
    #[serde(default)]
    pub disk: f64,
    /// The job run (DC/OS Jobs) this task is an attempt of; `app_id` is then the job's id.
    /// `None` for an app's task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_run: Option<String>,
}

impl TaskRecord {
    pub fn is_active(&self) -> bool {
        !self.state.is_terminal()
    }

    /// A job run's task (DC/OS Jobs), not an app's.
    pub fn is_job(&self) -> bool {
        self.job_run.is_some()
    }

    pub fn is_running(&self) -> bool {
        self.state == TaskState::Running
    }

    /// Healthy when running and every reported check is alive. `None` while no check reported.
    pub fn health_state(&self, checks: usize) -> Option<bool> {
        if checks == 0 || self.health.is_empty() {
            return None;
        }
        Some(self.health.iter().all(|h| h.alive))
    }

    /// Marathon's task JSON (`/v2/tasks`, `/v2/apps/{id}/tasks`, embedded `tasks`).
    pub fn to_marathon_json(&self) -> Value {
        serde_json::to_value(self.marathon(self.state)).unwrap_or(Value::Null)
    }

    /// Marathon's task JSON as a borrowed struct, shown in `state`: a list of 100,000 tasks is
    /// written straight from the records, not built as `Value`s first.
    pub fn marathon(&self, state: TaskState) -> MarathonTask<'_> {
        let active = self.is_active();
        MarathonTask {
            id: &self.id,
            app_id: &self.app_id,
            host: &self.host,
            slave_id: &self.agent_id,
            state: state.as_str(),
            ports: if active { &self.ports } else { &[] },
            service_ports: &self.service_ports,
            // The agent's address (tasks share their agent's: host or bridge networking).
            ip_addresses: self
                .host
                .parse::<std::net::IpAddr>()
                .map(|ip| {
                    vec![IpAddress {
                        ip_address: ip.to_string(),
                        protocol: if ip.is_ipv4() { "IPv4" } else { "IPv6" },
                    }]
                })
                .unwrap_or_default(),
            local_volumes: &[],
            health_check_results: self.health.iter().map(|h| self.health_json(h)).collect(),
            staged_at: active.then(|| iso(self.staged_at)),
            version: active.then_some(self.version.as_str()),
            started_at: self.started_at.filter(|_| active).map(iso),
        }
    }

    fn health_json(&self, h: &HealthResult) -> Value {
        json!({
            "alive": h.alive,
            "consecutiveFailures": h.consecutive_failures,
            "firstSuccess": h.first_success.map(iso),
            "lastSuccess": h.last_success.map(iso),
            "lastFailure": h.last_failure.map(iso),
            "lastFailureCause": h.last_failure_cause,
            "taskId": self.id,
            "instanceId": instance_id(&self.id),
        })
    }
}

/// A task as Marathon's API shows it ([`TaskRecord::marathon`]).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarathonTask<'a> {
    pub id: &'a str,
    pub app_id: &'a str,
    pub host: &'a str,
    pub slave_id: &'a str,
    pub state: &'static str,
    pub ports: &'a [u16],
    pub service_ports: &'a [u32],
    pub ip_addresses: Vec<IpAddress>,
    pub local_volumes: &'static [u8],
    pub health_check_results: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staged_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpAddress {
    pub ip_address: String,
    pub protocol: &'static str,
}

/// `shop_db.instance-<uuid>._app.1` → `shop_db.instance-<uuid>`.
pub fn instance_id(task_id: &str) -> String {
    task_id
        .split("._app.")
        .next()
        .unwrap_or(task_id)
        .to_string()
}

/// `lastTaskFailure` of an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskFailure {
    pub app_id: String,
    pub task_id: String,
    pub host: String,
    pub agent_id: String,
    pub state: TaskState,
    pub message: String,
    pub timestamp: UnixMillis,
    pub version: String,
}

impl TaskFailure {
    pub fn to_marathon_json(&self) -> Value {
        json!({
            "appId": self.app_id,
            "host": self.host,
            "message": self.message,
            "state": self.state.as_str(),
            "taskId": self.task_id,
            "instanceId": instance_id(&self.task_id),
            "slaveId": self.agent_id,
            "timestamp": iso(self.timestamp),
            "version": self.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(state: TaskState) -> TaskRecord {
        TaskRecord {
            id: "web.instance-1._app.1".into(),
            app_id: "/web".into(),
            agent_id: "a1".into(),
            host: "h1".into(),
            version: "2015-09-25T15:13:48.343Z".into(),
            config_version: "2015-09-25T15:13:48.343Z".into(),
            state,
            staged_at: 1_443_194_028_343,
            started_at: None,
            ports: vec![31000],
            service_ports: vec![10000],
            health: Vec::new(),
            message: None,
            kill_requested: false,
            cpus: 0.1,
            mem: 32.0,
            disk: 0.0,
            job_run: None,
        }
    }

    #[test]
    fn started_at_is_absent_until_running() {
        let json = task(TaskState::Staging).to_marathon_json();
        assert!(json.get("startedAt").is_none());
        assert_eq!(json["stagedAt"], "2015-09-25T15:13:48.343Z");
        assert_eq!(json["state"], "TASK_STAGING");
    }

    #[test]
    fn inactive_tasks_drop_ports_and_times() {
        let json = task(TaskState::Killed).to_marathon_json();
        assert_eq!(json["ports"], json!([]));
        assert!(json.get("version").is_none());
    }

    #[test]
    fn instance_id_strips_the_incarnation() {
        assert_eq!(instance_id("web.instance-1._app.3"), "web.instance-1");
    }
}
