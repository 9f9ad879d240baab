//! Fake agents: record launches and kills, and report TASK_RUNNING / TASK_KILLED back to the
//! master over the real agent protocol, as a real agent would.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use strato_master::{AgentAnswer, AgentCallError, AgentClient, AgentUrl};
use strato_proto::{KillTask, LaunchTask, StatusUpdate, TaskState, TaskStatus};

#[derive(Default)]
pub struct FakeAgents {
    /// The master status updates go to (replaced when a test starts another master).
    master: Mutex<String>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_port: u16,
    /// Agent port → agent id.
    by_port: BTreeMap<u16, String>,
    /// Agent id → its tasks' latest status.
    tasks: BTreeMap<String, BTreeMap<String, TaskStatus>>,
    launches: Vec<(String, LaunchTask)>,
    kills: Vec<String>,
    /// Agents that fail every launch with this message (like an agent without Docker).
    failing: BTreeMap<String, String>,
    /// Agents that stopped heartbeating (a lost node).
    silenced: std::collections::BTreeSet<String>,
}

impl FakeAgents {
    pub fn new() -> Arc<FakeAgents> {
        Arc::new(FakeAgents::default())
    }

    pub fn set_master(&self, url: &str) {
        *self.master.lock().expect("lock") = url.to_string();
    }

    /// Adds an agent and returns the port it "listens" on.
    pub fn add(&self, id: &str) -> u16 {
        let mut inner = self.inner.lock().expect("lock");
        if let Some((port, _)) = inner.by_port.iter().find(|(_, a)| *a == id) {
            return *port;
        }
        inner.next_port += 1;
        let port = 40000 + inner.next_port;
        inner.by_port.insert(port, id.into());
        port
    }

    pub fn fail_launches(&self, agent: &str, message: &str) {
        self.inner
            .lock()
            .expect("lock")
            .failing
            .insert(agent.into(), message.into());
    }

    /// The agent's active tasks, as its heartbeat lists them.
    pub fn statuses(&self, agent: &str) -> Vec<TaskStatus> {
        let inner = self.inner.lock().expect("lock");
        inner
            .tasks
            .get(agent)
            .map(|t| {
                t.values()
                    .filter(|s| !s.state.is_terminal())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn silence(&self, agent: &str) {
        self.inner
            .lock()
            .expect("lock")
            .silenced
            .insert(agent.into());
    }

    /// The agent speaks again (it re-registers, as a real one does once the master answers
    /// `known: false`).
    pub fn unsilence(&self, agent: &str) {
        self.inner.lock().expect("lock").silenced.remove(agent);
    }

    pub fn is_silenced(&self, agent: &str) -> bool {
        self.inner.lock().expect("lock").silenced.contains(agent)
    }

    /// Reports a failing health check for a running task, as the agent's checker would.
    pub fn report_unhealthy(
        &self,
        agent: &str,
        task_id: &str,
        failures: u32,
    ) -> BoxFuture<'static, Result<(), AgentCallError>> {
        let mut status = {
            let inner = self.inner.lock().expect("lock");
            inner
                .tasks
                .get(agent)
                .and_then(|t| t.get(task_id))
                .cloned()
                .expect("known task")
        };
        status.health = vec![strato_proto::HealthResult {
            index: 0,
            alive: false,
            consecutive_failures: failures,
            first_success: None,
            last_success: None,
            last_failure: Some(strato_runtime_types::time::now_millis()),
            last_failure_cause: Some("connection refused".into()),
        }];
        self.report(agent.to_string(), status)
    }

    pub fn launches(&self) -> Vec<(String, LaunchTask)> {
        self.inner.lock().expect("lock").launches.clone()
    }

    pub fn kills(&self) -> Vec<String> {
        self.inner.lock().expect("lock").kills.clone()
    }

    fn agent_of(&self, url: &str) -> String {
        let port: u16 = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        self.inner
            .lock()
            .expect("lock")
            .by_port
            .get(&port)
            .cloned()
            .unwrap_or_default()
    }

    fn report(
        &self,
        agent: String,
        status: TaskStatus,
    ) -> BoxFuture<'static, Result<(), AgentCallError>> {
        self.inner
            .lock()
            .expect("lock")
            .tasks
            .entry(agent.clone())
            .or_default()
            .insert(status.task_id.clone(), status.clone());
        let url = format!(
            "{}{}",
            self.master.lock().expect("lock").clone(),
            strato_proto::PATH_STATUS
        );
        Box::pin(async move {
            // Report after answering the launch, as a real agent does.
            tokio::spawn(async move {
                let _ = strato_tls::client()
                    .post(url)
                    .json(&StatusUpdate {
                        agent_id: agent,
                        status,
                    })
                    .send()
                    .await;
            });
            Ok(())
        })
    }
}

fn status(
    task_id: &str,
    app_id: &str,
    state: TaskState,
    ports: Vec<u16>,
    message: Option<String>,
) -> TaskStatus {
    let now = strato_runtime_types::time::now_millis();
    TaskStatus {
        task_id: task_id.into(),
        app_id: app_id.into(),
        state,
        message,
        timestamp: now,
        staged_at: now,
        started_at: (state == TaskState::Running).then_some(now),
        ports,
        health: Vec::new(),
    }
}

impl AgentClient for FakeAgents {
    fn launch(
        &self,
        agent: AgentUrl,
        task: LaunchTask,
    ) -> BoxFuture<'static, Result<(), AgentCallError>> {
        let agent_id = self.agent_of(&agent);
        let failing = {
            let mut inner = self.inner.lock().expect("lock");
            inner.launches.push((agent_id.clone(), task.clone()));
            inner.failing.get(&agent_id).cloned()
        };
        let (state, message) = match failing {
            Some(message) => (TaskState::Failed, Some(message)),
            None => (TaskState::Running, None),
        };
        self.report(
            agent_id,
            status(
                &task.task_id,
                &task.app_id,
                state,
                task.ports.clone(),
                message,
            ),
        )
    }

    fn kill(
        &self,
        agent: AgentUrl,
        task_id: String,
        _kill: KillTask,
    ) -> BoxFuture<'static, Result<(), AgentCallError>> {
        let agent_id = self.agent_of(&agent);
        let app_id = {
            let mut inner = self.inner.lock().expect("lock");
            inner.kills.push(task_id.clone());
            inner
                .tasks
                .get(&agent_id)
                .and_then(|t| t.get(&task_id))
                .map(|s| s.app_id.clone())
                .unwrap_or_default()
        };
        self.report(
            agent_id,
            status(&task_id, &app_id, TaskState::Killed, Vec::new(), None),
        )
    }

    /// Answers with what was asked (`{"agent", "path", "query"}`), so tests see where the master
    /// sent an operator's read; a silenced agent does not answer.
    fn get(
        &self,
        agent: AgentUrl,
        path: String,
        query: Vec<(String, String)>,
    ) -> BoxFuture<'static, Result<AgentAnswer, AgentCallError>> {
        let agent_id = self.agent_of(&agent);
        let silenced = self.is_silenced(&agent_id);
        let query: BTreeMap<String, String> = query.into_iter().collect();
        Box::pin(async move {
            if silenced {
                return Err(AgentCallError {
                    agent,
                    operation: "a read",
                    message: "connection refused".into(),
                });
            }
            let body = serde_json::json!({"agent": agent_id, "path": path, "query": query});
            Ok(AgentAnswer {
                status: 200,
                content_type: Some("application/json".into()),
                content_disposition: None,
                body: body.to_string().into(),
            })
        })
    }

    fn work_dir(&self, agent: AgentUrl) -> BoxFuture<'static, Result<String, AgentCallError>> {
        let agent_id = self.agent_of(&agent);
        let silenced = self.is_silenced(&agent_id);
        Box::pin(async move {
            if silenced {
                return Err(AgentCallError {
                    agent,
                    operation: "/state",
                    message: "connection refused".into(),
                });
            }
            Ok(format!("/work/{agent_id}"))
        })
    }
}
