//! The reconcile loop: every tick and on every event, compare what the apps want with what runs,
//! ask the scheduler for a plan, record it, then call the agents.
//!
//! Plan and apply are split as nomad splits them: the scheduler's inputs are copied out under the
//! state lock, the plan (whose work grows with agents × tasks) is made without it, and applying
//! takes the lock again and keeps only what still holds: a launch or a convergence verdict for an
//! app whose definition changed meanwhile is dropped (the next round plans it afresh), and kills
//! of tasks that already ended are no-ops.

use std::sync::Arc;

use serde_json::json;
use strato_proto::{KillTask, LaunchTask, TaskState};
use strato_runtime_types::deployment::DeploymentAction;
use strato_runtime_types::path::PathId;
use strato_runtime_types::task::instance_id;
use strato_runtime_types::time::now_millis;
use strato_runtime_types::App;
use strato_runtime_types::TaskRecord;
use strato_scheduler::{backoff, env, AgentView, AppInput, KillReason, Plan, PlanInput};

use crate::master::Master;
use crate::readiness;
use crate::registry::agent_url;
use crate::state::State;

/// The most launches sent or waiting to be sent and not yet reported by their agents.
const MAX_LAUNCHES_IN_FLIGHT: usize = 4096;

/// Dependencies order deployments (docs/marathon-contract.md §Deployments): while one deployment
/// changes both an app and an app it depends on, the app waits until the dependency has
/// converged. Outside such a deployment, replacements are never held back by another app's health.
/// A group's dependencies count as the app's own (`crate::groups`).
fn dependencies_ready(state: &State, app: &strato_runtime_types::App) -> bool {
    let dependencies = crate::groups::effective_dependencies(
        &state.groups,
        &app.id,
        &app.dependencies,
        state.apps.keys(),
    );
    dependencies.into_iter().all(|dependency| {
        let deployed_together = state
            .deployment_order
            .iter()
            .filter_map(|id| state.deployments.get(id))
            .any(|d| d.affects(&app.id) && d.affects(&dependency));
        !deployed_together
            || !state.apps.contains_key(&dependency)
            || state.converged.contains(&dependency)
    })
}

/// Removed apps whose tasks wait: a deployment stops its apps step by step (dependents first,
/// `changes.rs` orders them), so an app stops once the apps of the earlier stop steps have none.
fn stops_held_back(state: &State) -> std::collections::BTreeSet<String> {
    let mut held = std::collections::BTreeSet::new();
    for deployment in state
        .deployment_order
        .iter()
        .filter_map(|id| state.deployments.get(id))
    {
        let mut earlier_running = false;
        for step in &deployment.steps {
            let stops = step
                .iter()
                .filter(|s| s.action == DeploymentAction::StopApplication);
            let mut running_here = false;
            for stop in stops {
                if earlier_running {
                    held.insert(stop.app_id.clone());
                }
                running_here |= !state.step_done(&stop.app_id);
            }
            earlier_running |= running_here;
        }
    }
    held
}

/// A call to make to an agent once the state lock is released.
pub(crate) enum AgentCall {
    Launch {
        url: String,
        task: Box<LaunchTask>,
    },
    Kill {
        url: String,
        task_id: String,
        grace: Option<u64>,
    },
}

/// Runs until `shutdown` resolves.
pub(crate) async fn run(master: Arc<Master>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let interval = master.config.reconcile_interval();
    loop {
        // Only the leader decides; a standby waits for its turn.
        if master.is_leader() {
            let started = std::time::Instant::now();
            let calls = master.reconcile_once(now_millis());
            master.metrics.tasks.reconciled(started.elapsed());
            // Agents are called only once what the calls rely on is stored: a task launched but
            // not recorded would be killed as unknown by the next leader.
            if calls.is_empty() || master.durable().await.is_ok() {
                master.execute(calls);
            }
            master.probe_readiness(now_millis());
        }
        tokio::select! {
            _ = master.wake.notified() => {}
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// What the scheduler plans from, copied out of the state.
struct PlanSnapshot {
    now: u64,
    agents: Vec<AgentView>,
    apps: Vec<SnapshotApp>,
    /// Every task (a persistent map: the copy shares the state's), and those not to plan with.
    tasks: imbl::OrdMap<String, TaskRecord>,
    not_counted: std::collections::HashSet<String>,
}

struct SnapshotApp {
    app: App,
    launch_not_before: Option<u64>,
    dependencies_ready: bool,
    not_ready: std::collections::BTreeSet<String>,
}

impl PlanSnapshot {
    fn take(state: &State, now: u64) -> PlanSnapshot {
        PlanSnapshot {
            now,
            agents: state
                .agents
                .values()
                .map(|a| AgentView {
                    id: a.info.id.clone(),
                    hostname: a.info.hostname.clone(),
                    role: a.info.role.clone(),
                    attributes: a.info.attributes.clone(),
                    resources: a.info.resources.clone(),
                    active: a.active,
                    containers: a.info.container_engine.is_some(),
                })
                .collect(),
            apps: state
                .apps
                .values()
                .map(|app| SnapshotApp {
                    app: app.clone(),
                    launch_not_before: state.backoff.get(&app.id).map(|b| b.next_launch_at),
                    dependencies_ready: dependencies_ready(state, app),
                    not_ready: readiness::not_ready(state, app),
                })
                // Job runs waiting for their task, as apps of one instance (`jobs/launch.rs`).
                .chain(
                    crate::jobs::launch::pending_apps(state, now)
                        .into_iter()
                        .map(|app| SnapshotApp {
                            app,
                            launch_not_before: None,
                            dependencies_ready: true,
                            not_ready: std::collections::BTreeSet::new(),
                        }),
                )
                .collect(),
            tasks: state.tasks.clone(),
            // A task its unreachableStrategy no longer counts is not planned with: the app
            // gets a replacement while the task itself waits to be expunged or to come back.
            not_counted: state
                .unreachable_since
                .keys()
                .filter(|id| {
                    state
                        .tasks
                        .get(*id)
                        .is_some_and(|t| state.unreachable_inactive(t, now))
                })
                .cloned()
                .collect(),
        }
    }

    fn plan(&self) -> Plan {
        strato_scheduler::plan(&PlanInput {
            now: self.now,
            agents: &self.agents,
            apps: self
                .apps
                .iter()
                .map(|a| AppInput {
                    app: &a.app,
                    launch_not_before: a.launch_not_before,
                    dependencies_ready: a.dependencies_ready,
                    not_ready: a.not_ready.clone(),
                })
                .collect(),
            tasks: self
                .tasks
                .values()
                .filter(|t| {
                    t.is_active()
                        && (self.not_counted.is_empty() || !self.not_counted.contains(&t.id))
                })
                .collect(),
        })
    }

    /// True when `app_id`'s definition is still the one this plan was made from.
    fn planned_same(&self, state: &State, app_id: &str) -> bool {
        let planned = self.apps.iter().find(|a| a.app.id == app_id);
        match (planned, state.apps.get(app_id)) {
            (Some(planned), Some(now)) => planned.app.version == now.version,
            _ => false,
        }
    }
}

impl Master {
    /// One round of decisions; returns the agent calls to make.
    pub(crate) fn reconcile_once(&self, now: u64) -> Vec<AgentCall> {
        let mut calls = Vec::new();
        let snapshot = {
            let mut state = self.lock();
            self.sweep_agents(&mut state, now);
            self.kill_tasks_of_removed_apps(&mut state, &mut calls);
            self.tick_jobs(&mut state, now, &mut calls);
            self.expire_backoff(&mut state, now);
            PlanSnapshot::take(&state, now)
        };
        // Without the lock: API requests, status updates and DNS go on meanwhile.
        let plan = snapshot.plan();
        let mut state = self.lock();
        self.apply_plan(&mut state, &snapshot, plan, now, &mut calls);
        self.finish_deployments(&mut state);
        calls
    }

    fn kill_tasks_of_removed_apps(&self, state: &mut State, calls: &mut Vec<AgentCall>) {
        let held = stops_held_back(state);
        let orphaned: Vec<String> = state
            .tasks
            .values()
            .filter(|t| !t.kill_requested && !t.is_job() && !state.apps.contains_key(&t.app_id))
            .filter(|t| !held.contains(&t.app_id))
            .map(|t| t.id.clone())
            .collect();
        for task_id in orphaned {
            self.request_kill(state, &task_id, None, calls);
        }
    }

    fn expire_backoff(&self, state: &mut State, now: u64) {
        let expired: Vec<String> = state
            .backoff
            .iter()
            .filter(|(id, b)| {
                state
                    .apps
                    .get(*id)
                    .is_none_or(|app| backoff::expired(b, app, now))
            })
            .map(|(id, _)| id.clone())
            .collect();
        if !expired.is_empty() {
            for id in expired {
                state.backoff.remove(&id);
            }
            self.persist_meta(state);
        }
    }

    fn apply_plan(
        &self,
        state: &mut State,
        snapshot: &PlanSnapshot,
        plan: Plan,
        now: u64,
        calls: &mut Vec<AgentCall>,
    ) {
        for kill in &plan.kills {
            let app_changed = state
                .tasks
                .get(&kill.task_id)
                .is_some_and(|t| !snapshot.planned_same(state, &t.app_id));
            if app_changed {
                continue;
            }
            let grace = state
                .tasks
                .get(&kill.task_id)
                .and_then(|t| state.apps.get(&t.app_id))
                .and_then(|a| a.task_kill_grace_period_seconds);
            if kill.reason == KillReason::Unhealthy {
                self.on_unhealthy(state, &kill.task_id, now);
            }
            self.request_kill(state, &kill.task_id, grace, calls);
        }
        let mut launched = Vec::new();
        // Launches already sent and not yet reported, and those waiting to be sent, are at most
        // MAX_LAUNCHES_IN_FLIGHT: a scale-up of 100,000 is sent in waves, each round topping up
        // (as Marathon's launch tokens pace launches), so the round stays short and the queue of
        // agent calls (each holding its task's definition) stays bounded.
        let in_flight = state.launches.len();
        let budget = MAX_LAUNCHES_IN_FLIGHT.saturating_sub(in_flight);
        for launch in plan.launches.into_iter().take(budget) {
            if crate::jobs::launch::parse_app_id(&launch.app_id).is_some() {
                if let Some(call) = self.record_job_launch(state, &launch, now) {
                    if let AgentCall::Launch { task, .. } = &call {
                        launched.push(task.task_id.clone());
                    }
                    calls.push(call);
                }
                continue;
            }
            if !snapshot.planned_same(state, &launch.app_id) {
                continue;
            }
            if let Some(call) = self.record_launch(state, &launch, now) {
                if let AgentCall::Launch { task, .. } = &call {
                    launched.push(task.task_id.clone());
                }
                calls.push(call);
            }
        }
        // One commit for the round's launches: a big scale-up is not one fsync per task.
        self.persist_tasks(launched.iter().filter_map(|id| state.tasks.get(id)));
        for id in launched {
            state.launches.insert(id, None);
        }
        state.converged = plan
            .converged
            .into_iter()
            .filter(|id| snapshot.planned_same(state, id))
            .collect();
        let previous = std::mem::take(&mut state.waiting);
        for (app_id, missing) in plan.unplaced {
            if crate::jobs::launch::parse_app_id(&app_id).is_some() {
                continue;
            }
            let since = previous.get(&app_id).map_or(now, |(_, since)| *since);
            state.waiting.insert(app_id, (missing, since));
        }
    }

    fn on_unhealthy(&self, state: &mut State, task_id: &str, now: u64) {
        let Some(task) = state.tasks.get(task_id) else {
            return;
        };
        self.events.emit(
            "unhealthy_task_kill_event",
            json!({"appId": task.app_id, "taskId": task.id, "instanceId": instance_id(&task.id), "version": task.version,
                   "reason": "failed health checks", "host": task.host, "slaveId": task.agent_id}),
        );
        if let Some(app) = state.apps.get(&task.app_id) {
            let next = backoff::after_failure(state.backoff.get(&app.id), app, now);
            state.backoff.insert(app.id.clone(), next);
            self.persist_meta(state);
        }
    }

    /// Marks a task as being killed (it stops counting as an instance) and queues the call.
    pub(crate) fn request_kill(
        &self,
        state: &mut State,
        task_id: &str,
        grace: Option<u64>,
        calls: &mut Vec<AgentCall>,
    ) {
        let Some(task) = state.tasks.get_mut(task_id) else {
            return;
        };
        task.kill_requested = true;
        let task = task.clone();
        self.persist_task(&task);
        match state.agents.get(&task.agent_id).filter(|a| a.active) {
            Some(agent) => calls.push(AgentCall::Kill {
                url: agent_url(&agent.info),
                task_id: task.id,
                grace,
            }),
            None => self.end_task(
                state,
                task_id,
                TaskState::Killed,
                "killed while its agent was unreachable",
                now_millis(),
                false,
            ),
        }
    }

    fn record_launch(
        &self,
        state: &mut State,
        launch: &strato_scheduler::Launch,
        now: u64,
    ) -> Option<AgentCall> {
        let app = state.apps.get(&launch.app_id)?.clone();
        let agent = state.active_agent(&launch.agent_id)?.clone();
        let task_id = format!(
            "{}.instance-{}._app.1",
            PathId::normalise(&app.id).safe(),
            uuid::Uuid::new_v4()
        );
        let (task, call) = task_launch(&app, &agent, task_id, launch.host_ports.clone(), now);
        state.add_task(task);
        Some(call)
    }

    fn finish_deployments(&self, state: &mut State) {
        let done: Vec<String> = state
            .deployment_order
            .iter()
            .filter(|id| {
                state.deployments[*id]
                    .affected_apps()
                    .iter()
                    .all(|app| state.step_done(app))
            })
            .cloned()
            .collect();
        for id in done {
            state.deployments.remove(&id);
            state.deployment_order.retain(|d| *d != id);
            self.forget_deployment(&id);
            self.events.emit("deployment_success", json!({"id": id}));
            tracing::info!(deployment = %id, "deployment finished");
        }
    }

    /// Sends the calls concurrently, at most `MAX_AGENT_CALLS` at a time (`master.rs`); a launch
    /// the agent refuses becomes TASK_FAILED.
    pub(crate) fn execute(self: &Arc<Self>, calls: Vec<AgentCall>) {
        for call in calls {
            let master = Arc::clone(self);
            match call {
                AgentCall::Launch { url, task } => {
                    let task_id = task.task_id.clone();
                    let future = self.agents.launch(url, *task);
                    self.metrics.tasks.launched();
                    let permits = Arc::clone(&self.agent_calls);
                    tokio::spawn(async move {
                        let permit = permits.acquire_owned().await;
                        let result = future.await;
                        drop(permit);
                        if result.is_ok() {
                            // The agent has it: from now its reports must list it.
                            let mut state = master.lock_quietly();
                            if let Some(sent) = state.launches.get_mut(&task_id) {
                                *sent = Some(now_millis());
                            }
                            drop(state);
                        }
                        if let Err(error) = result {
                            tracing::warn!(%error, task = %task_id, "launch failed");
                            master.metrics.tasks.launch_failed();
                            let mut state = master.lock();
                            master.end_task(
                                &mut state,
                                &task_id,
                                TaskState::Failed,
                                &error.to_string(),
                                now_millis(),
                                true,
                            );
                        }
                    });
                }
                AgentCall::Kill {
                    url,
                    task_id,
                    grace,
                } => {
                    let future = self.agents.kill(
                        url,
                        task_id.clone(),
                        KillTask {
                            grace_period_seconds: grace,
                        },
                    );
                    let permits = Arc::clone(&self.agent_calls);
                    tokio::spawn(async move {
                        let _permit = permits.acquire_owned().await;
                        if let Err(error) = future.await {
                            tracing::warn!(%error, task = %task_id, "kill failed");
                        }
                    });
                }
            }
        }
    }
}

/// The task record and the agent call that launch `app`'s task `task_id` on `agent`.
pub(crate) fn task_launch(
    app: &App,
    agent: &strato_proto::AgentInfo,
    task_id: String,
    ports: Vec<u16>,
    now: u64,
) -> (TaskRecord, AgentCall) {
    let task = TaskRecord {
        id: task_id.clone(),
        app_id: app.id.clone(),
        agent_id: agent.id.clone(),
        host: agent.hostname.clone(),
        version: app.version.clone(),
        config_version: app.version_info.last_config_change_at.clone(),
        state: TaskState::Staging,
        staged_at: now,
        started_at: None,
        ports: ports.clone(),
        service_ports: app.service_ports(),
        health: Vec::new(),
        message: None,
        kill_requested: false,
        cpus: app.cpus,
        mem: app.mem,
        disk: app.disk,
        job_run: None,
    };
    let launch = LaunchTask {
        task_id: task_id.clone(),
        app_id: app.id.clone(),
        app_version: app.version.clone(),
        cmd: app.cmd.clone(),
        args: app.args.clone(),
        env: env::task_env(app, &task_id, &agent.hostname, &ports),
        cpus: app.cpus,
        mem: app.mem,
        disk: app.disk,
        ports: ports.clone(),
        health_checks: app
            .health_checks
            .iter()
            .filter_map(|c| c.to_proto(&ports))
            .collect(),
        kill_grace_period_seconds: app.task_kill_grace_period_seconds.unwrap_or(3),
        docker_image: app.docker_image(),
        user: app.user.clone(),
        container: app.container_spec(&ports),
        fetch: app
            .fetch
            .iter()
            .map(|f| strato_proto::FetchUri {
                uri: f.uri.clone(),
                extract: f.extract,
                executable: f.executable,
                cache: f.cache,
                dest_path: f.dest_path.clone(),
            })
            .collect(),
    };
    let call = AgentCall::Launch {
        url: agent_url(agent),
        task: Box::new(launch),
    };
    (task, call)
}

#[cfg(test)]
mod tests {
    use strato_proto::RegisterAgent;

    use super::*;
    use crate::testing::{app, master};

    #[tokio::test]
    async fn a_launch_waiting_to_be_sent_is_not_lost_to_a_heartbeat_that_omits_it() {
        let master = master().await;
        master.register(RegisterAgent {
            agent: crate::testing::agent_info("a1"),
            tasks: Vec::new(),
        });
        master
            .deploy(&mut master.lock(), vec![app(1)], false)
            .expect("deploy");
        let calls = master.reconcile_once(now_millis());
        assert_eq!(calls.len(), 1);
        let task_id = master.lock().tasks.keys().next().cloned().expect("task");
        // Long queued: staged a minute ago, never sent.
        master
            .lock()
            .tasks
            .get_mut(&task_id)
            .expect("task")
            .staged_at -= 60_000;
        let beat = || strato_proto::Heartbeat {
            agent_id: "a1".into(),
            tasks: Vec::new(),
        };
        master.heartbeat(beat());
        assert!(
            master.lock().tasks.contains_key(&task_id),
            "lost before it was sent"
        );
        // The agent took it a minute ago and still does not list it: lost.
        master
            .lock()
            .launches
            .insert(task_id.clone(), Some(now_millis() - 60_000));
        master.heartbeat(beat());
        assert!(!master.lock().tasks.contains_key(&task_id));
        assert!(master.lock().launches.is_empty());
    }

    #[tokio::test]
    async fn a_plan_made_before_its_app_changed_launches_nothing_and_converges_nothing() {
        let master = master().await;
        master.register(RegisterAgent {
            agent: crate::testing::agent_info("a1"),
            tasks: Vec::new(),
        });
        let now = strato_runtime_types::time::now_millis();
        master
            .deploy(&mut master.lock(), vec![app(2)], false)
            .expect("deploy");
        let snapshot = PlanSnapshot::take(&master.lock(), now);
        let plan = snapshot.plan();
        assert_eq!(plan.launches.len(), 2, "the plan wants the two instances");

        // The app is scaled down while the plan is made, outside the lock.
        master
            .deploy(&mut master.lock(), vec![app(0)], true)
            .expect("scale down");
        let mut calls = Vec::new();
        let mut state = master.lock();
        master.apply_plan(&mut state, &snapshot, plan, now, &mut calls);
        assert!(calls.is_empty(), "launched from a stale plan");
        assert!(state.tasks.is_empty());
        assert!(!state.converged.contains("/web"));
    }
}
