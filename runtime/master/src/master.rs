//! The master's shared core: state behind one lock, the store it writes through to, the event
//! bus, the reconcile wake-up and the client for calling agents.

use std::sync::{Arc, Mutex, MutexGuard};

use strato_runtime_types::time::now_millis;
use strato_runtime_types::{App, Deployment, TaskRecord};
use strato_store::{Store, StoreError, StoreExt, Table};
use tokio::sync::Notify;

use crate::agent_client::AgentClient;
use crate::config::MasterConfig;
use crate::events::EventBus;
use crate::state::{State, MAX_VERSIONS};

pub struct Master {
    pub(crate) config: MasterConfig,
    state: Mutex<State>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) events: EventBus,
    pub(crate) wake: Notify,
    pub(crate) agents: Arc<dyn AgentClient>,
    /// For readiness checks against tasks (see `readiness`).
    pub(crate) readiness_http: reqwest::Client,
    /// This master process's id (Mesos `id` in `/master/state`).
    pub(crate) master_id: String,
    /// Set once shutdown starts, so endless responses (event streams) end and let the
    /// listeners stop.
    pub(crate) stopping: tokio::sync::watch::Sender<bool>,
}

impl Master {
    /// Loads the stored state. Tasks whose agents do not re-register within the agent timeout
    /// become TASK_LOST.
    pub fn new(
        config: MasterConfig,
        store: Arc<dyn Store>,
        agents: Arc<dyn AgentClient>,
    ) -> Result<Arc<Master>, StoreError> {
        let state = State::load(store.as_ref(), now_millis())?;
        Ok(Arc::new(Master {
            config,
            state: Mutex::new(state),
            store,
            events: EventBus::default(),
            wake: Notify::new(),
            agents,
            readiness_http: crate::readiness::http_client(),
            master_id: uuid::Uuid::new_v4().to_string(),
            stopping: tokio::sync::watch::channel(false).0,
        }))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation keeps the state consistent before any call that could panic.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Asks the reconcile loop to run now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves once the master is shutting down.
    pub(crate) fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.stopping.subscribe();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }

    pub fn config(&self) -> &MasterConfig {
        &self.config
    }

    pub(crate) fn persist_task(&self, task: &TaskRecord) {
        if let Err(error) = self.store.put_json(Table::Tasks, &task.id, task) {
            tracing::error!(%error, task = %task.id, "cannot store task");
        }
    }

    pub(crate) fn persist_tasks<'a>(&self, tasks: impl Iterator<Item = &'a TaskRecord>) {
        let entries: Vec<(String, Vec<u8>)> = tasks
            .filter_map(|t| {
                serde_json::to_vec(t)
                    .ok()
                    .map(|bytes| (t.id.clone(), bytes))
            })
            .collect();
        if entries.is_empty() {
            return;
        }
        if let Err(error) = self.store.put_many(Table::Tasks, &entries) {
            tracing::error!(%error, tasks = entries.len(), "cannot store launched tasks");
        }
    }

    pub(crate) fn forget_task(&self, task_id: &str) {
        if let Err(error) = self.store.delete(Table::Tasks, task_id) {
            tracing::error!(%error, task = %task_id, "cannot delete task");
        }
    }

    pub(crate) fn persist_meta(&self, state: &State) {
        let result = self
            .store
            .put_json(Table::Meta, "backoff", &state.backoff)
            .and_then(|()| {
                self.store
                    .put_json(Table::Meta, "failures", &state.failures)
            });
        if let Err(error) = result {
            tracing::error!(%error, "cannot store backoff state");
        }
    }

    /// Stores the app as current and as a version, dropping versions beyond the limit.
    pub(crate) fn persist_app(&self, state: &mut State, app: &App) -> Result<(), StoreError> {
        self.store.put_json(Table::Apps, &app.id, app)?;
        self.store.put_json(
            Table::AppVersions,
            &format!("{}@{}", app.id, app.version),
            app,
        )?;
        let versions = state.versions.entry(app.id.clone()).or_default();
        if !versions.contains(&app.version) {
            versions.push(app.version.clone());
        }
        while versions.len() > MAX_VERSIONS {
            let old = versions.remove(0);
            self.store
                .delete(Table::AppVersions, &format!("{}@{}", app.id, old))?;
        }
        Ok(())
    }

    pub(crate) fn delete_app(&self, state: &mut State, app_id: &str) -> Result<(), StoreError> {
        self.store.delete(Table::Apps, app_id)?;
        for version in state.versions.remove(app_id).unwrap_or_default() {
            self.store
                .delete(Table::AppVersions, &format!("{app_id}@{version}"))?;
        }
        Ok(())
    }

    pub(crate) fn app_version(
        &self,
        app_id: &str,
        version: &str,
    ) -> Result<Option<App>, StoreError> {
        self.store
            .get_json(Table::AppVersions, &format!("{app_id}@{version}"))
    }

    pub(crate) fn persist_deployment(&self, deployment: &Deployment) -> Result<(), StoreError> {
        self.store
            .put_json(Table::Deployments, &deployment.id, deployment)
    }

    pub(crate) fn forget_deployment(&self, id: &str) {
        if let Err(error) = self.store.delete(Table::Deployments, id) {
            tracing::error!(%error, deployment = %id, "cannot delete deployment");
        }
    }
}
