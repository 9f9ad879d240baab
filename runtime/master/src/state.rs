//! The master's in-memory state, loaded from the [`Store`] at start (and by a new leader, and a
//! standby's refresh) and written through on every change. Agents are stored as they register
//! (not their heartbeats), so every master knows where tasks run.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use strato_proto::AgentInfo;
use strato_runtime_types::task::TaskFailure;
use strato_runtime_types::{App, Deployment, TaskRecord};
use strato_scheduler::backoff::Backoff;
use strato_store::{Op, Store, StoreError, StoreExt, Table, Term};

/// How many app versions are kept (Marathon's `--zk_max_versions`).
pub const MAX_VERSIONS: usize = 50;
/// Finished tasks kept for `/master/state`'s `completed_tasks` (memory only).
pub const MAX_COMPLETED: usize = 200;

#[derive(Debug, Clone)]
pub struct AgentEntry {
    pub info: AgentInfo,
    pub registered_at: u64,
    pub last_seen: u64,
    /// False once the agent missed its heartbeats past the timeout.
    pub active: bool,
}

/// Revoked gateway tokens: by id until they would have expired, and per user every token issued
/// up to a time. Stored whole under one key (`meta/revocations`), so HA and backups carry it.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Revocations {
    /// Token id → its expiry (Unix seconds); dropped once past it.
    pub tokens: BTreeMap<String, u64>,
    /// User → tokens issued at or before this time (Unix seconds) are revoked.
    pub users: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Clone)]
pub struct State {
    pub framework_id: String,
    pub cluster_id: String,
    pub apps: BTreeMap<String, App>,
    /// App id → kept versions, oldest first.
    pub versions: BTreeMap<String, Vec<String>>,
    pub deployments: BTreeMap<String, Deployment>,
    /// Deployment ids in creation order.
    pub deployment_order: Vec<String>,
    /// Persistent (`imbl`): the readers' copy shares what did not change (`view.rs`). Changed
    /// through [`State::add_task`] and [`State::take_task`], which keep `tasks_on` in step.
    pub tasks: imbl::OrdMap<String, TaskRecord>,
    /// Agent id → ids of its tasks in `tasks`: a heartbeat checks its agent's tasks only.
    pub tasks_on: imbl::OrdMap<String, imbl::OrdSet<String>>,
    /// Launched tasks no report has mentioned yet (memory only): `None` while the launch waits
    /// to be sent or is on its way, then when the agent took it (Unix ms). A heartbeat that does
    /// not list such a task does not make it lost before the agent could know it.
    pub launches: imbl::OrdMap<String, Option<u64>>,
    /// A report changed what readers see (a task's state, health or message, a task gone): the
    /// heartbeat that carried it asks for a new readers' copy; one that changed nothing does not.
    pub reported_change: bool,
    pub completed: VecDeque<TaskRecord>,
    pub agents: imbl::OrdMap<String, AgentEntry>,
    pub backoff: BTreeMap<String, Backoff>,
    pub failures: BTreeMap<String, TaskFailure>,
    /// Apps whose tasks matched their definition at the last reconcile.
    pub converged: BTreeSet<String>,
    /// Apps waiting for capacity or backoff: app id → (missing tasks, since).
    pub waiting: BTreeMap<String, (u32, u64)>,
    /// Readiness-check results by task id (memory only).
    pub readiness: BTreeMap<String, crate::readiness::TaskReadiness>,
    /// When tasks of an unreachable agent became TASK_UNREACHABLE (memory only: a new leader
    /// starts their `unreachableStrategy` clocks again, so it never replaces one early).
    pub unreachable_since: BTreeMap<String, u64>,
    /// Gateway tokens revoked before they expire (`strato token revoke`).
    pub revocations: Revocations,
    /// Groups created through `/v2/groups` (`crate::groups`), with their dependencies.
    pub groups: crate::groups::Groups,
    /// Group id → kept versions, oldest first.
    pub group_versions: BTreeMap<String, Vec<String>>,
    /// DC/OS Jobs: jobs, schedules, runs not finished and history (`crate::jobs`).
    pub jobs: crate::jobs::Jobs,
    pub started_at: u64,
    /// When this copy was read from the store (a standby's copy is at most a refresh old).
    pub loaded_at: u64,
    last_version: u64,
}

impl State {
    /// Loads everything the store holds; creates the framework and cluster ids on first start.
    pub async fn load(store: &dyn Store, now: u64) -> Result<State, StoreError> {
        let mut state = State {
            started_at: now,
            loaded_at: now,
            ..State::default()
        };
        state.framework_id = meta_id(store, "framework_id").await?;
        state.cluster_id = meta_id(store, "cluster_id").await?;
        for (id, app) in store.list_json::<App>(Table::Apps, "").await? {
            state.apps.insert(id, app);
        }
        for (key, _) in store.list(Table::AppVersions, "").await? {
            if let Some((app, version)) = key.rsplit_once('@') {
                state
                    .versions
                    .entry(app.to_string())
                    .or_default()
                    .push(version.to_string());
            }
        }
        for (id, deployment) in store
            .list_json::<Deployment>(Table::Deployments, "")
            .await?
        {
            state.deployment_order.push(id.clone());
            state.deployments.insert(id, deployment);
        }
        state
            .deployment_order
            .sort_by_key(|id| state.deployments[id].version.clone());
        for (_, task) in store.list_json::<TaskRecord>(Table::Tasks, "").await? {
            state.add_task(task);
        }
        for (id, info) in store.list_json::<AgentInfo>(Table::Agents, "").await? {
            // Active until it stays silent past the agent timeout, counted from now.
            let entry = AgentEntry {
                info,
                registered_at: now,
                last_seen: now,
                active: true,
            };
            state.agents.insert(id, entry);
        }
        if let Some(backoff) = store.get_json(Table::Meta, "backoff").await? {
            state.backoff = backoff;
        }
        if let Some(failures) = store.get_json(Table::Meta, "failures").await? {
            state.failures = failures;
        }
        if let Some(revocations) = store.get_json(Table::Meta, "revocations").await? {
            state.revocations = revocations;
        }
        if let Some(groups) = store
            .get_json(Table::Meta, crate::groups::GROUPS_KEY)
            .await?
        {
            state.groups = groups;
        }
        for (key, _) in store
            .list(Table::Meta, crate::groups::VERSIONS_PREFIX)
            .await?
        {
            let key = key
                .strip_prefix(crate::groups::VERSIONS_PREFIX)
                .unwrap_or(&key);
            if let Some((group, version)) = key.rsplit_once('@') {
                state
                    .group_versions
                    .entry(group.to_string())
                    .or_default()
                    .push(version.to_string());
            }
        }
        for versions in state.group_versions.values_mut() {
            versions.sort();
        }
        state.jobs = crate::jobs::Jobs::load(store).await?;
        Ok(state)
    }

    /// Takes what the store holds from `loaded`, keeping what only memory knows: completed
    /// tasks, readiness results, and when known agents were last heard from.
    pub fn replace_stored(&mut self, mut loaded: State) {
        let ids: Vec<String> = loaded.agents.keys().cloned().collect();
        for id in ids {
            if let (Some(agent), Some(known)) = (loaded.agents.get_mut(&id), self.agents.get(&id)) {
                agent.registered_at = known.registered_at;
                agent.last_seen = known.last_seen.max(agent.last_seen);
            }
        }
        loaded.completed = std::mem::take(&mut self.completed);
        loaded.readiness = std::mem::take(&mut self.readiness);
        loaded.unreachable_since = std::mem::take(&mut self.unreachable_since);
        loaded.launches = std::mem::take(&mut self.launches);
        loaded.last_version = self.last_version;
        *self = loaded;
    }

    /// The agent `id`, while it is registered and heartbeating (launches go only there).
    pub fn active_agent(&self, id: &str) -> Option<&AgentInfo> {
        self.agents.get(id).filter(|a| a.active).map(|a| &a.info)
    }

    /// Adds (or replaces) a task.
    pub fn add_task(&mut self, task: TaskRecord) {
        self.tasks_on
            .entry(task.agent_id.clone())
            .or_default()
            .insert(task.id.clone());
        self.tasks.insert(task.id.clone(), task);
    }

    /// Removes a task.
    pub fn take_task(&mut self, task_id: &str) -> Option<TaskRecord> {
        let task = self.tasks.remove(task_id)?;
        self.launches.remove(task_id);
        if let Some(ids) = self.tasks_on.get_mut(&task.agent_id) {
            ids.remove(task_id);
            if ids.is_empty() {
                self.tasks_on.remove(&task.agent_id);
            }
        }
        Some(task)
    }

    /// Tasks on `agent_id`.
    pub fn tasks_of_agent<'a>(
        &'a self,
        agent_id: &str,
    ) -> impl Iterator<Item = &'a TaskRecord> + 'a {
        self.tasks_on
            .get(agent_id)
            .into_iter()
            .flat_map(|ids| ids.iter())
            .filter_map(|id| self.tasks.get(id))
    }

    /// A fresh, strictly increasing version timestamp (Unix ms).
    pub fn next_version(&mut self, now: u64) -> u64 {
        self.last_version = now.max(self.last_version + 1);
        self.last_version
    }

    pub fn active_tasks_of<'a>(
        &'a self,
        app_id: &'a str,
    ) -> impl Iterator<Item = &'a TaskRecord> + 'a {
        self.tasks
            .values()
            .filter(move |t| t.app_id == app_id && t.is_active())
    }

    /// Deployments touching any of `apps`.
    pub fn deployments_affecting(&self, apps: &[String]) -> Vec<String> {
        self.deployment_order
            .iter()
            .filter(|id| apps.iter().any(|a| self.deployments[*id].affects(a)))
            .cloned()
            .collect()
    }

    /// 1-based index of the deployment's first step whose apps have not converged.
    pub fn current_step(&self, deployment: &Deployment) -> usize {
        for (i, step) in deployment.steps.iter().enumerate() {
            if step.iter().any(|s| !self.step_done(&s.app_id)) {
                return i + 1;
            }
        }
        deployment.steps.len()
    }

    /// An app's part of a deployment is done: converged, or (deleted) without tasks.
    pub fn step_done(&self, app_id: &str) -> bool {
        if self.apps.contains_key(app_id) {
            self.converged.contains(app_id)
        } else {
            self.active_tasks_of(app_id).next().is_none()
        }
    }

    /// A task of an unreachable agent whose app's `unreachableStrategy` says it no longer counts
    /// as an instance (so a replacement may start), though it is not forgotten yet.
    pub fn unreachable_inactive(&self, task: &TaskRecord, now: u64) -> bool {
        if task.state != strato_proto::TaskState::Unreachable {
            return false;
        }
        let Some(since) = self.unreachable_since.get(&task.id) else {
            return false;
        };
        let strategy = self.apps.get(&task.app_id).and_then(App::unreachable);
        strategy.is_some_and(|u| since + u.inactive_after_seconds * 1000 <= now)
    }

    pub fn remember_completed(&mut self, task: TaskRecord) {
        self.completed.push_back(task);
        while self.completed.len() > MAX_COMPLETED {
            self.completed.pop_front();
        }
    }
}

/// The stored id, or a new one. Written outside any term: it is created once, before any master
/// leads, and a second master racing the first writes an equally fresh id that everyone then
/// reads (ids are only compared after load).
async fn meta_id(store: &dyn Store, key: &str) -> Result<String, StoreError> {
    if let Some(id) = store.get_json::<String>(Table::Meta, key).await? {
        return Ok(id);
    }
    let id = uuid::Uuid::new_v4().to_string();
    store
        .commit(&Term::solo(), vec![Op::put_json(Table::Meta, key, &id)?])
        .await?;
    Ok(id)
}
