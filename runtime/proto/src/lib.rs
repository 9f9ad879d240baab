//! Wire types between the master and its agents. Both speak HTTP + JSON:
//!
//! | direction | method and path | body → answer |
//! |---|---|---|
//! | agent → master | `POST /agent/v1/register` | [`RegisterAgent`] → [`Registered`] |
//! | agent → master | `POST /agent/v1/heartbeat` | [`Heartbeat`] → [`HeartbeatAck`] |
//! | agent → master | `POST /agent/v1/status` | [`StatusUpdate`] → 204 |
//! | master → agent | `POST /v1/tasks` | [`LaunchTask`] → 202 |
//! | master → agent | `POST /v1/tasks/{task_id}/kill` | [`KillTask`] → 202 |
//! | master → agent | `GET /v1/tasks` | → `Vec<TaskStatus>` |
//! | anyone → agent | `GET /health` | → 200 `ok` |
//!
//! The agent pushes every task state change at once ([`StatusUpdate`]) and repeats the full list in
//! each heartbeat, so a lost update is reconciled within one heartbeat interval. Times are Unix
//! milliseconds; the Marathon API formats them as ISO-8601.
//!
//! Paths are constants here so that neither side spells them twice.

mod container;
mod fetch;
pub use container::{
    ContainerNetwork, ContainerPortMapping, ContainerSpec, ContainerVolume, DOCKER_PARAMETERS,
};
pub use fetch::FetchUri;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const PATH_REGISTER: &str = "/agent/v1/register";
pub const PATH_HEARTBEAT: &str = "/agent/v1/heartbeat";
pub const PATH_STATUS: &str = "/agent/v1/status";
pub const PATH_TASKS: &str = "/v1/tasks";
/// `POST {PATH_TASKS}/{task_id}/kill`.
pub const PATH_KILL_SUFFIX: &str = "/kill";

/// Mesos's role for resources of public agents; `*` is every other agent's.
pub const ROLE_PUBLIC: &str = "slave_public";
pub const ROLE_DEFAULT: &str = "*";

/// Milliseconds since the Unix epoch.
pub type UnixMillis = u64;

/// An inclusive range of host ports, as Mesos offers them (`[31000-32000]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRange {
    pub begin: u16,
    pub end: u16,
}

/// What an agent offers. Memory and disk in MiB, as Mesos and Marathon count them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Resources {
    pub cpus: f64,
    pub mem: f64,
    pub disk: f64,
    pub ports: Vec<PortRange>,
}

/// An agent as it introduces itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// Stable across restarts of the same agent (kept in its work dir), so re-registering keeps tasks.
    pub id: String,
    pub hostname: String,
    /// Address the master uses to reach the agent's API.
    pub address: String,
    pub port: u16,
    pub resources: Resources,
    /// Mesos-style attributes, used by constraints (`rack:r1`, …).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// [`ROLE_DEFAULT`] or [`ROLE_PUBLIC`].
    pub role: String,
    /// The Strato version the agent runs: its bundle's `VERSION` file, else its crate version
    /// (`strato_runtime_types::version::runtime_version`). The master shows it as `strato_version`.
    pub version: String,
    /// The container engine the agent runs container tasks with (`docker 28.2.2`, `podman 4.3.1`);
    /// `None`: it runs none, and the master places no container app on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_engine: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterAgent {
    pub agent: AgentInfo,
    /// Tasks the agent still runs (after an agent restart it re-attached to them).
    pub tasks: Vec<TaskStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registered {
    pub agent_id: String,
    /// How often the master expects a heartbeat.
    pub heartbeat_interval_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub agent_id: String,
    pub tasks: Vec<TaskStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    /// False when the master does not know this agent (it restarted without state, or declared the
    /// agent gone): the agent must register again.
    pub known: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub agent_id: String,
    pub status: TaskStatus,
}

/// Mesos task states, serialised with their Mesos names (`TASK_RUNNING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskState {
    #[serde(rename = "TASK_STAGING")]
    Staging,
    #[serde(rename = "TASK_STARTING")]
    Starting,
    #[serde(rename = "TASK_RUNNING")]
    Running,
    #[serde(rename = "TASK_KILLING")]
    Killing,
    #[serde(rename = "TASK_FINISHED")]
    Finished,
    #[serde(rename = "TASK_FAILED")]
    Failed,
    #[serde(rename = "TASK_KILLED")]
    Killed,
    #[serde(rename = "TASK_ERROR")]
    Error,
    #[serde(rename = "TASK_LOST")]
    Lost,
    #[serde(rename = "TASK_GONE")]
    Gone,
    #[serde(rename = "TASK_UNREACHABLE")]
    Unreachable,
}

impl TaskState {
    /// A terminal state never changes again; the task's process is gone.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Finished
                | TaskState::Failed
                | TaskState::Killed
                | TaskState::Error
                | TaskState::Lost
                | TaskState::Gone
        )
    }

    /// The Mesos name, e.g. `TASK_RUNNING`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Staging => "TASK_STAGING",
            TaskState::Starting => "TASK_STARTING",
            TaskState::Running => "TASK_RUNNING",
            TaskState::Killing => "TASK_KILLING",
            TaskState::Finished => "TASK_FINISHED",
            TaskState::Failed => "TASK_FAILED",
            TaskState::Killed => "TASK_KILLED",
            TaskState::Error => "TASK_ERROR",
            TaskState::Lost => "TASK_LOST",
            TaskState::Gone => "TASK_GONE",
            TaskState::Unreachable => "TASK_UNREACHABLE",
        }
    }
}

/// One health check's latest result for one task, in the terms Marathon reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthResult {
    /// Index of the check in [`LaunchTask::health_checks`].
    pub index: usize,
    pub alive: bool,
    pub consecutive_failures: u32,
    pub first_success: Option<UnixMillis>,
    pub last_success: Option<UnixMillis>,
    pub last_failure: Option<UnixMillis>,
    pub last_failure_cause: Option<String>,
}

/// A task's state as the agent sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    pub task_id: String,
    pub app_id: String,
    pub state: TaskState,
    /// Why it is in this state, for the failed ones (`lastTaskFailure.message`).
    pub message: Option<String>,
    pub timestamp: UnixMillis,
    pub staged_at: UnixMillis,
    pub started_at: Option<UnixMillis>,
    /// Host ports the task was given (copied from the launch).
    pub ports: Vec<u16>,
    /// Empty until a check has run (or when the app has none).
    #[serde(default)]
    pub health: Vec<HealthResult>,
}

/// Protocol of a health check, with Marathon's names (`MESOS_HTTP` etc. map to the same kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HealthProtocol {
    Http,
    Https,
    Tcp,
    Command,
}

/// A health check the agent runs against a task, with every field already defaulted by the master.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub protocol: HealthProtocol,
    /// HTTP(S) path, e.g. `/health`.
    pub path: Option<String>,
    /// The host port to probe (already resolved from `portIndex`/`port`).
    pub port: Option<u16>,
    /// Shell command for `COMMAND` checks (exit 0 = healthy), run in the task's sandbox and env.
    pub command: Option<String>,
    pub grace_period_seconds: u64,
    pub interval_seconds: u64,
    pub timeout_seconds: u64,
    pub max_consecutive_failures: u32,
    pub ignore_http1xx: bool,
}

/// Start one task. The master resolves everything: ports, environment, defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTask {
    pub task_id: String,
    pub app_id: String,
    /// Marathon's app version the task belongs to (ISO-8601 string, opaque to the agent).
    pub app_version: String,
    /// Run with `/bin/sh -c`. Exactly one of `cmd` and `args` is set for a command task.
    pub cmd: Option<String>,
    /// Exec'd directly, `args[0]` is the program.
    pub args: Option<Vec<String>>,
    /// The whole Marathon environment (`PORT0`, `PORTS`, `HOST`, `MARATHON_APP_ID`,
    /// `MESOS_TASK_ID`, the app's `env`, …). The agent adds only `MESOS_SANDBOX`.
    pub env: BTreeMap<String, String>,
    pub cpus: f64,
    /// MiB.
    pub mem: f64,
    /// MiB.
    pub disk: f64,
    pub ports: Vec<u16>,
    pub health_checks: Vec<HealthCheck>,
    /// SIGTERM, then SIGKILL after this long.
    pub kill_grace_period_seconds: u64,
    /// A Docker image the app asked for. An agent that cannot run containers fails the task with
    /// `TASK_FAILED` and a message, as Mesos would, instead of refusing the launch.
    pub docker_image: Option<String>,
    /// Marathon's `user`: the Unix user the task runs as; `None` takes the agent's default.
    /// Absent from older masters' messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The container to run the task in (Marathon's DOCKER container, host ports resolved).
    /// Absent from older masters' messages, which sent only `docker_image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerSpec>,
    /// Files to put in the sandbox before the task starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fetch: Vec<FetchUri>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillTask {
    /// Overrides the launch's grace period when set.
    pub grace_period_seconds: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_state_uses_mesos_names_on_the_wire() {
        let json = serde_json::to_string(&TaskState::Running).expect("serialise");
        assert_eq!(json, "\"TASK_RUNNING\"");
        assert_eq!(TaskState::Running.as_str(), "TASK_RUNNING");
        let back: TaskState = serde_json::from_str("\"TASK_LOST\"").expect("parse");
        assert_eq!(back, TaskState::Lost);
    }

    #[test]
    fn terminal_states_are_the_mesos_terminal_ones() {
        assert!(TaskState::Killed.is_terminal());
        assert!(!TaskState::Running.is_terminal());
        assert!(!TaskState::Killing.is_terminal());
    }
}
