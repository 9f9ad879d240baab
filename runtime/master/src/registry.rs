//! The agent side of the master: registration, heartbeats, status updates and the agent timeout
//! (an agent silent past `agent_timeout_seconds` is unreachable, its tasks TASK_UNREACHABLE until
//! their apps' `unreachableStrategy` expunges them as TASK_LOST).

use serde_json::json;
use strato_proto::{
    Heartbeat, HeartbeatAck, KillTask, RegisterAgent, Registered, StatusUpdate, TaskState,
    TaskStatus,
};
use strato_runtime_types::task::{instance_id, TaskFailure};
use strato_runtime_types::time::now_millis;
use strato_scheduler::backoff;

use crate::master::Master;
use crate::state::{AgentEntry, State};

/// A task an agent runs that the master does not want (unknown, or already being killed).
pub(crate) struct OrphanKill {
    pub url: String,
    pub task_id: String,
}

impl Master {
    /// The address an agent registered with, if it is known.
    pub(crate) fn agent_address(&self, agent_id: &str) -> Option<String> {
        self.lock()
            .agents
            .get(agent_id)
            .map(|a| a.info.address.clone())
    }

    pub(crate) fn register(&self, request: RegisterAgent) -> (Registered, Vec<OrphanKill>) {
        let now = now_millis();
        let agent_id = request.agent.id.clone();
        let mut kills = Vec::new();
        {
            let mut state = self.lock();
            let url = agent_url(&request.agent);
            let registered_at = state.agents.get(&agent_id).map_or(now, |a| a.registered_at);
            if state.agents.get(&agent_id).map(|a| &a.info) != Some(&request.agent) {
                self.persist_agent(&request.agent);
            }
            state.agents.insert(
                agent_id.clone(),
                AgentEntry {
                    info: request.agent,
                    registered_at,
                    last_seen: now,
                    active: true,
                },
            );
            self.sync_tasks(&mut state, &agent_id, &url, &request.tasks, now, &mut kills);
        }
        tracing::info!(agent = %agent_id, "agent registered");
        self.wake();
        let interval = self.config.heartbeat_interval().as_millis();
        (
            Registered {
                agent_id,
                heartbeat_interval_ms: u64::try_from(interval).unwrap_or(5000),
            },
            kills,
        )
    }

    pub(crate) fn heartbeat(&self, heartbeat: Heartbeat) -> (HeartbeatAck, Vec<OrphanKill>) {
        let now = now_millis();
        let mut kills = Vec::new();
        // Quietly: a heartbeat that changes nothing but its agent's last contact does not make
        // the publisher copy the state (at 10,000 agents that is 2,000 copies a second); the
        // next copy, at the latest `view::REFRESH` later, shows the contact.
        let mut state = self.lock_quietly();
        let Some(agent) = state
            .agents
            .get_mut(&heartbeat.agent_id)
            .filter(|a| a.active)
        else {
            return (HeartbeatAck { known: false }, kills);
        };
        agent.last_seen = now;
        self.metrics.agents.heartbeat();
        let url = agent_url(&agent.info);
        self.sync_tasks(
            &mut state,
            &heartbeat.agent_id,
            &url,
            &heartbeat.tasks,
            now,
            &mut kills,
        );
        if std::mem::take(&mut state.reported_change) {
            self.changed.notify_one();
        }
        (HeartbeatAck { known: true }, kills)
    }

    pub(crate) fn status_update(&self, update: StatusUpdate) -> Vec<OrphanKill> {
        let now = now_millis();
        let mut kills = Vec::new();
        let mut state = self.lock();
        let url = match state.agents.get_mut(&update.agent_id) {
            Some(agent) => {
                agent.last_seen = now;
                agent_url(&agent.info)
            }
            None => return kills,
        };
        self.apply_status(
            &mut state,
            &update.agent_id,
            &url,
            &update.status,
            now,
            &mut kills,
        );
        kills
    }

    /// Applies a full task list from an agent: each status, and tasks it no longer has are lost.
    fn sync_tasks(
        &self,
        state: &mut State,
        agent_id: &str,
        url: &str,
        tasks: &[TaskStatus],
        now: u64,
        kills: &mut Vec<OrphanKill>,
    ) {
        for status in tasks {
            self.apply_status(state, agent_id, url, status, now, kills);
        }
        // A launch may race the list, so only tasks staged well before it count as missing.
        let settle = 2 * self.config.heartbeat_interval_seconds * 1000 + 1000;
        let launches = &state.launches;
        let missing: Vec<String> = state
            .tasks_of_agent(agent_id)
            .filter(|t| match launches.get(&t.id) {
                // Not sent yet, or on its way.
                Some(None) => false,
                Some(Some(taken)) => taken + settle < now,
                None => t.staged_at + settle < now,
            })
            .filter(|t| !tasks.iter().any(|s| s.task_id == t.id))
            .map(|t| t.id.clone())
            .collect();
        for task_id in missing {
            self.end_task(
                state,
                &task_id,
                TaskState::Lost,
                "task is unknown to its agent",
                now,
                false,
            );
        }
    }

    pub(crate) fn apply_status(
        &self,
        state: &mut State,
        agent_id: &str,
        url: &str,
        status: &TaskStatus,
        now: u64,
        kills: &mut Vec<OrphanKill>,
    ) {
        // Read first: most reports (every heartbeat's) change nothing, and a change to the
        // persistent task map copies the part of it readers share (`view.rs`).
        let Some(known) = state
            .tasks
            .get(&status.task_id)
            .filter(|t| t.agent_id == agent_id)
        else {
            if !status.state.is_terminal() {
                kills.push(OrphanKill {
                    url: url.to_string(),
                    task_id: status.task_id.clone(),
                });
            }
            return;
        };
        // A kill that got lost (agent briefly unreachable) is repeated while the agent still
        // reports the task alive; agents treat repeated kills as one.
        if known.kill_requested && !status.state.is_terminal() && status.state != TaskState::Killing
        {
            kills.push(OrphanKill {
                url: url.to_string(),
                task_id: status.task_id.clone(),
            });
        }
        let state_changed = known.state != status.state;
        let health_changed = known.health != status.health;
        // A new message in the same state (an image pull's progress while STAGING) is for
        // readers only: kept in memory, not stored.
        let message_only = !state_changed
            && !health_changed
            && known.message != status.message
            && !status.state.is_terminal();
        // Reported: the launch has arrived.
        if state.launches.contains_key(&status.task_id) {
            state.launches.remove(&status.task_id);
        }
        if !state_changed && !health_changed && !message_only {
            return;
        }
        state.reported_change = true;
        let Some(task) = state.tasks.get_mut(&status.task_id) else {
            return;
        };
        if message_only {
            task.message.clone_from(&status.message);
            return;
        }
        let was_alive = task.health.iter().all(|h| h.alive) && !task.health.is_empty();
        task.health = status.health.clone();
        let now_alive = task.health.iter().all(|h| h.alive) && !task.health.is_empty();
        if health_changed && was_alive != now_alive {
            self.events.emit(
                "health_status_changed_event",
                json!({"appId": task.app_id, "taskId": task.id, "instanceId": instance_id(&task.id), "version": task.version, "alive": now_alive}),
            );
        }
        if !state_changed {
            self.persist_task(task);
            return;
        }
        let message = status.message.clone().unwrap_or_default();
        if status.state.is_terminal() {
            let failure = !task.kill_requested;
            self.end_task(state, &status.task_id, status.state, &message, now, failure);
            return;
        }
        task.state = status.state;
        task.message = status.message.clone();
        if status.state == TaskState::Running && task.started_at.is_none() {
            task.started_at = Some(status.started_at.unwrap_or(status.timestamp));
        }
        let task = task.clone();
        self.persist_task(&task);
        self.emit_status(&task, &message);
        self.job_task_changed(state, &task);
        if status.state == TaskState::Running {
            self.wake();
        }
    }

    /// Moves a task to a terminal state: expunged, remembered as completed, and for failures
    /// recorded as `lastTaskFailure` (with backoff when `backoff` is set).
    pub(crate) fn end_task(
        &self,
        state: &mut State,
        task_id: &str,
        end: TaskState,
        message: &str,
        now: u64,
        backoff: bool,
    ) {
        let Some(mut task) = state.take_task(task_id) else {
            return;
        };
        state.reported_change = true;
        task.state = end;
        task.message = Some(message.to_string());
        self.forget_task(task_id);
        self.emit_status(&task, message);
        if task.is_job() {
            // A job run's task: its run decides what follows (`jobs/lifecycle.rs`), not an
            // app's failure record or backoff.
            self.job_task_ended(state, &task, now);
            state.remember_completed(task);
            self.wake();
            return;
        }
        let failed = matches!(
            end,
            TaskState::Failed
                | TaskState::Error
                | TaskState::Finished
                | TaskState::Gone
                | TaskState::Lost
        );
        if failed && !task.kill_requested {
            self.metrics.tasks.failed(end);
            state.failures.insert(
                task.app_id.clone(),
                TaskFailure {
                    app_id: task.app_id.clone(),
                    task_id: task.id.clone(),
                    host: task.host.clone(),
                    agent_id: task.agent_id.clone(),
                    state: end,
                    message: message.to_string(),
                    timestamp: now,
                    version: task.version.clone(),
                },
            );
            if backoff && end != TaskState::Lost {
                if let Some(app) = state.apps.get(&task.app_id) {
                    let next = backoff::after_failure(state.backoff.get(&task.app_id), app, now);
                    state.backoff.insert(task.app_id.clone(), next);
                }
            }
            self.persist_meta(state);
        }
        state.remember_completed(task);
        self.wake();
    }

    fn emit_status(&self, task: &strato_runtime_types::TaskRecord, message: &str) {
        self.events.emit(
            "status_update_event",
            json!({
                "slaveId": task.agent_id, "taskId": task.id, "taskStatus": task.state.as_str(),
                "message": message, "appId": task.app_id, "host": task.host, "ports": task.ports,
                "ipAddresses": task.to_marathon_json()["ipAddresses"], "version": task.version,
            }),
        );
    }

    /// Marks agents silent past the timeout unreachable and their tasks TASK_UNREACHABLE; each
    /// such task is forgotten (TASK_LOST) once its app's `unreachableStrategy` expunge time has
    /// passed (at once by default, never when disabled), and stops counting as an instance after
    /// its inactive time (`State::unreachable_inactive`, read by reconcile). Tasks on agents that
    /// never re-registered after a master restart are lost at once.
    pub(crate) fn sweep_agents(&self, state: &mut State, now: u64) {
        let timeout = self.config.agent_timeout_seconds * 1000;
        let lost_agents: Vec<String> = state
            .agents
            .iter()
            .filter(|(_, agent)| agent.active && agent.last_seen + timeout < now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &lost_agents {
            if let Some(agent) = state.agents.get_mut(id) {
                agent.active = false;
            }
        }
        for id in &lost_agents {
            tracing::warn!(agent = %id, "agent unreachable, its tasks are lost");
        }
        self.metrics.agents.marked_unreachable(lost_agents.len());
        let grace_over = state.started_at + timeout < now;
        // One pass over the agents that have tasks: the tasks of agents never heard of since a
        // restart, and those of agents gone silent (`Some(agent)` for the first).
        let mut stranded: Vec<(String, Option<String>)> = Vec::new();
        for (agent_id, task_ids) in state.tasks_on.iter() {
            let unknown = match state.agents.get(agent_id) {
                None if grace_over => true,
                Some(agent) if !agent.active => false,
                _ => continue,
            };
            for task_id in task_ids.iter() {
                stranded.push((task_id.clone(), unknown.then(|| agent_id.clone())));
            }
        }
        // Clocks of tasks that are back (their agent re-registered) or gone stop.
        let tasks = &state.tasks;
        state.unreachable_since.retain(|id, _| {
            tasks
                .get(id)
                .is_some_and(|t| t.state == TaskState::Unreachable)
        });
        for (task_id, unknown_agent) in stranded {
            match unknown_agent {
                Some(agent_id) => {
                    let message = format!("agent {agent_id} is unreachable");
                    self.end_task(state, &task_id, TaskState::Lost, &message, now, false);
                }
                None => self.sweep_unreachable(state, &task_id, now),
            }
        }
    }

    fn sweep_unreachable(&self, state: &mut State, task_id: &str, now: u64) {
        let Some(task) = state.tasks.get_mut(task_id) else {
            return;
        };
        let agent_id = task.agent_id.clone();
        if task.state != TaskState::Unreachable {
            task.state = TaskState::Unreachable;
            task.message = Some(format!("agent {agent_id} is unreachable"));
            let task = task.clone();
            self.persist_task(&task);
            self.emit_status(&task, &format!("agent {agent_id} is unreachable"));
            state.unreachable_since.insert(task_id.to_string(), now);
            // A replacement may be due now (inactiveAfterSeconds 0).
            self.wake();
        }
        let since = *state
            .unreachable_since
            .entry(task_id.to_string())
            .or_insert(now);
        let app_id = state.tasks.get(task_id).map(|t| t.app_id.clone());
        let strategy = match app_id.as_ref().map(|id| state.apps.get(id)) {
            Some(Some(app)) => app.unreachable(),
            // The app is gone: nothing waits for the task.
            _ => Some(strato_runtime_types::app::Unreachable {
                inactive_after_seconds: 0,
                expunge_after_seconds: 0,
            }),
        };
        if let Some(u) = strategy {
            if since + u.expunge_after_seconds * 1000 <= now {
                let message = format!(
                    "agent {agent_id} is unreachable (expunged after {} s, unreachableStrategy)",
                    u.expunge_after_seconds
                );
                state.unreachable_since.remove(task_id);
                self.end_task(state, task_id, TaskState::Lost, &message, now, false);
            }
        }
    }

    pub(crate) fn kill_orphans(&self, kills: Vec<OrphanKill>) {
        for kill in kills {
            tracing::info!(task = %kill.task_id, "killing a task the master does not want");
            let call = self.agents.kill(
                kill.url,
                kill.task_id,
                KillTask {
                    grace_period_seconds: None,
                },
            );
            let permits = std::sync::Arc::clone(&self.agent_calls);
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await;
                if let Err(error) = call.await {
                    tracing::warn!(%error, "cannot kill orphan task");
                }
            });
        }
    }
}

pub(crate) fn agent_url(agent: &strato_proto::AgentInfo) -> String {
    format!("http://{}:{}", agent.address, agent.port)
}

/// `registered_time` and friends in `/master/state` are seconds as floats.
pub(crate) fn seconds(millis: u64) -> f64 {
    millis as f64 / 1000.0
}
