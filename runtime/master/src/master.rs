//! The master's shared core: state behind one lock, the ordered writer it persists through, the
//! leadership it holds (or waits for), the event bus, the reconcile wake-up and the client for
//! calling agents.

use std::sync::{Arc, Mutex, MutexGuard};

use strato_runtime_types::time::now_millis;
use strato_runtime_types::{App, Deployment, TaskRecord};
use strato_store::{Leadership, Op, Solo, Store, StoreError, StoreExt, Table, Term};
use tokio::sync::{watch, Notify};

use crate::agent_client::AgentClient;
use crate::config::MasterConfig;
use crate::events::EventBus;
use crate::metrics::history::History;
use crate::metrics::Metrics;
use crate::state::{State, MAX_VERSIONS};
use crate::writer::Writer;

/// The most agent calls (launches, kills) in flight at once.
const MAX_AGENT_CALLS: usize = 256;

/// What this master is right now.
#[derive(Debug, Clone)]
pub(crate) enum Role {
    /// It schedules and writes; `generation` numbers its terms, never reused (the writer drops
    /// the writes of a term whose commit failed, and a later term must not look like it).
    Leader { term: Term, generation: u64 },
    /// It serves the replicated state and forwards to the leader.
    Standby,
}

/// Reports the etcd members' health (`/strato/v1/ha`); absent for one master.
#[async_trait::async_trait]
pub trait Members: Send + Sync + 'static {
    async fn health(&self) -> Result<Vec<MemberHealth>, String>;
}

/// One etcd member as `/strato/v1/ha` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemberHealth {
    pub name: String,
    pub client_url: String,
    pub healthy: bool,
}

pub struct Master {
    pub(crate) config: MasterConfig,
    state: Mutex<State>,
    /// A copy of the state for readers (API reads, DNS, dashboard, metrics), so that a big read
    /// never holds the lock writers need (`view.rs`).
    pub(crate) view: watch::Sender<Arc<State>>,
    /// Notified when a writer took the lock: the publisher makes a new copy.
    pub(crate) changed: Arc<Notify>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) leadership: Arc<dyn Leadership>,
    pub(crate) members: Option<Arc<dyn Members>>,
    pub(crate) role: watch::Sender<Role>,
    /// How many terms this master has led: the next term's generation is one more.
    pub(crate) terms: std::sync::atomic::AtomicU64,
    /// The leader as last seen (this master's own address while it leads; a standby refreshes
    /// it every second): what DNS names as `leader.<domain>`, without a round trip to etcd.
    pub(crate) leader_seen: watch::Sender<Option<crate::leader::LeaderAddress>>,
    pub(crate) writer: Writer,
    /// Notified when the leader must step down (`leader.rs`): a write failed, so the term is no
    /// longer trustworthy, or leadership was abdicated (`DELETE /v2/leader`).
    pub(crate) write_failed: Arc<Notify>,
    pub(crate) events: EventBus,
    pub(crate) wake: Notify,
    pub(crate) agents: Arc<dyn AgentClient>,
    /// In-flight launches and kills: a scale-up of 100,000 tasks is not 100,000 connections at
    /// once (each a file descriptor, and with TLS a handshake's memory).
    pub(crate) agent_calls: Arc<tokio::sync::Semaphore>,
    /// For readiness checks against tasks (see `readiness`).
    pub(crate) readiness_http: reqwest::Client,
    /// For forwarding requests from a standby to the leader (`http/follow.rs`).
    pub(crate) leader_http: reqwest::Client,
    /// This master process's id (Mesos `id` in `/master/state`).
    pub(crate) master_id: String,
    /// Set once shutdown starts, so endless responses (event streams) end and let the
    /// listeners stop.
    pub(crate) stopping: tokio::sync::watch::Sender<bool>,
    /// Prometheus counters and histograms (`metrics/`), served on `/metrics`.
    pub(crate) metrics: Metrics,
    /// Samples for the dashboard's charts (`metrics/history.rs`).
    pub(crate) history: History,
}

impl Master {
    /// The only master: loads the stored state and leads at once. Tasks whose agents do not
    /// re-register within the agent timeout become TASK_LOST.
    pub async fn new(
        config: MasterConfig,
        store: Arc<dyn Store>,
        agents: Arc<dyn AgentClient>,
    ) -> Result<Arc<Master>, StoreError> {
        let leadership = Arc::new(Solo::default());
        // The same value several masters campaign with, so a standby moment (after a failed
        // write) names this master's real ports.
        let address = crate::leader::LeaderAddress::from_config(&config).to_value();
        let term = leadership.campaign(&address).await?;
        let master = Self::with_leadership(
            config,
            store,
            agents,
            leadership,
            None,
            strato_tls::client(),
        )
        .await?;
        let generation = master.next_generation();
        master.role.send_replace(Role::Leader { term, generation });
        master
            .leader_seen
            .send_replace(Some(crate::leader::LeaderAddress::of(&master)));
        Ok(master)
    }

    /// One of several masters: starts as a standby serving the stored state; `serve` campaigns.
    pub async fn with_leadership(
        config: MasterConfig,
        store: Arc<dyn Store>,
        agents: Arc<dyn AgentClient>,
        leadership: Arc<dyn Leadership>,
        members: Option<Arc<dyn Members>>,
        leader_http: reqwest::Client,
    ) -> Result<Arc<Master>, StoreError> {
        let state = State::load(store.as_ref(), now_millis()).await?;
        let write_failed = Arc::new(Notify::new());
        let metrics = Metrics::default();
        let writer = Writer::start(
            Arc::clone(&store),
            Arc::clone(&write_failed),
            metrics.store.clone(),
        );
        let history = History::new(config.metrics_history_interval());
        let view = watch::channel(Arc::new(state.clone())).0;
        Ok(Arc::new(Master {
            config,
            state: Mutex::new(state),
            view,
            changed: Arc::new(Notify::new()),
            store,
            leadership,
            members,
            role: watch::channel(Role::Standby).0,
            terms: std::sync::atomic::AtomicU64::new(0),
            leader_seen: watch::channel(None).0,
            writer,
            write_failed,
            events: EventBus::default(),
            wake: Notify::new(),
            agents,
            agent_calls: Arc::new(tokio::sync::Semaphore::new(MAX_AGENT_CALLS)),
            readiness_http: crate::readiness::http_client(),
            leader_http,
            master_id: uuid::Uuid::new_v4().to_string(),
            stopping: tokio::sync::watch::channel(false).0,
            metrics,
            history,
        }))
    }

    /// The state, to change it (readers use [`Master::view`]); readers get a new copy soon after.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.changed.notify_one();
        self.lock_quietly()
    }

    /// The lock without announcing a change (the publisher's own copy).
    pub(crate) fn lock_quietly(&self) -> MutexGuard<'_, State> {
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

    /// The generation of a new term: one more than any before, so a failed commit of an earlier
    /// term (which poisons that generation in the writer) never refuses this term's writes.
    pub(crate) fn next_generation(&self) -> u64 {
        self.terms
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            .saturating_add(1)
    }

    /// True while this master leads (always, for a single master).
    pub fn is_leader(&self) -> bool {
        matches!(*self.role.borrow(), Role::Leader { .. })
    }

    /// Queues `ops` as one commit of the current term, in order after every earlier write.
    /// A standby writes nothing.
    pub(crate) fn write(&self, ops: Vec<Op>) {
        if ops.is_empty() {
            return;
        }
        match &*self.role.borrow() {
            Role::Leader { term, generation } => self.writer.commit(term, *generation, ops),
            Role::Standby => tracing::debug!("standby: write dropped"),
        }
    }

    /// Waits until every write queued so far is durable; `Err` when one failed (quorum lost,
    /// leadership gone), in which case the master is stepping down.
    pub(crate) async fn durable(&self) -> Result<(), StoreError> {
        let generation = match &*self.role.borrow() {
            Role::Leader { generation, .. } => *generation,
            Role::Standby => return Err(StoreError::Fenced),
        };
        self.writer.barrier(generation).await
    }

    fn json_op<T: serde::Serialize + ?Sized>(table: Table, key: &str, value: &T) -> Option<Op> {
        match Op::put_json(table, key, value) {
            Ok(op) => Some(op),
            Err(error) => {
                tracing::error!(%error, "cannot encode state");
                None
            }
        }
    }

    pub(crate) fn persist_task(&self, task: &TaskRecord) {
        self.write(
            Self::json_op(Table::Tasks, &task.id, task)
                .into_iter()
                .collect(),
        );
    }

    /// One commit for many tasks: a big scale-up is not one fsync per task.
    pub(crate) fn persist_tasks<'a>(&self, tasks: impl Iterator<Item = &'a TaskRecord>) {
        self.write(
            tasks
                .filter_map(|t| Self::json_op(Table::Tasks, &t.id, t))
                .collect(),
        );
    }

    pub(crate) fn forget_task(&self, task_id: &str) {
        self.write(vec![Op::delete(Table::Tasks, task_id)]);
    }

    pub(crate) fn persist_agent(&self, agent: &strato_proto::AgentInfo) {
        self.write(
            Self::json_op(Table::Agents, &agent.id, agent)
                .into_iter()
                .collect(),
        );
    }

    pub(crate) fn persist_meta(&self, state: &State) {
        let ops = [
            Self::json_op(Table::Meta, "backoff", &state.backoff),
            Self::json_op(Table::Meta, "failures", &state.failures),
        ];
        self.write(ops.into_iter().flatten().collect());
    }

    /// The ops that store the app as current and as a version, dropping versions beyond the
    /// limit; the caller commits them with the rest of its change.
    pub(crate) fn app_ops(&self, state: &mut State, app: &App) -> Result<Vec<Op>, StoreError> {
        let mut ops = vec![
            Op::put_json(Table::Apps, &app.id, app)?,
            Op::put_json(
                Table::AppVersions,
                format!("{}@{}", app.id, app.version),
                app,
            )?,
        ];
        let versions = state.versions.entry(app.id.clone()).or_default();
        if !versions.contains(&app.version) {
            versions.push(app.version.clone());
        }
        while versions.len() > MAX_VERSIONS {
            let old = versions.remove(0);
            ops.push(Op::delete(
                Table::AppVersions,
                format!("{}@{}", app.id, old),
            ));
        }
        Ok(ops)
    }

    pub(crate) fn delete_app_ops(&self, state: &mut State, app_id: &str) -> Vec<Op> {
        let mut ops = vec![Op::delete(Table::Apps, app_id)];
        for version in state.versions.remove(app_id).unwrap_or_default() {
            ops.push(Op::delete(
                Table::AppVersions,
                format!("{app_id}@{version}"),
            ));
        }
        ops
    }

    /// A stored version of an app (after every queued write, so a version just made is found).
    pub(crate) async fn app_version(
        &self,
        app_id: &str,
        version: &str,
    ) -> Result<Option<App>, StoreError> {
        if self.is_leader() {
            self.durable().await?;
        }
        self.store
            .get_json(Table::AppVersions, &format!("{app_id}@{version}"))
            .await
    }

    pub(crate) fn deployment_op(&self, deployment: &Deployment) -> Result<Op, StoreError> {
        Op::put_json(Table::Deployments, &deployment.id, deployment)
    }

    pub(crate) fn forget_deployment(&self, id: &str) {
        self.write(vec![Op::delete(Table::Deployments, id)]);
    }

    /// Replaces the in-memory state with what the store holds (a new leader's first step, and a
    /// standby's refresh); agents, completed tasks and readiness results are carried over.
    pub(crate) async fn reload(&self) -> Result<(), StoreError> {
        let loaded = State::load(self.store.as_ref(), now_millis()).await?;
        let mut state = self.lock();
        state.replace_stored(loaded);
        Ok(())
    }
}
