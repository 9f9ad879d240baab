//! The master's Prometheus metrics: one registry, built once with the master, and the handles the
//! code that does the work increments (atomics; a histogram takes its own short lock per
//! observation, never the state lock). `/metrics` (`http/metrics.rs`) sets the cluster gauges
//! from the published view and encodes the registry; `docs/metrics.md` describes every metric.
//!
//! One concept per file: `api.rs` (request latency and its middleware), `tasks.rs` (launches,
//! failures, reconcile passes), `agents.rs` (heartbeats, timeouts), `jobs.rs` (job runs), `store.rs` (commits),
//! `cluster.rs` (the gauges read from the state), `history.rs` (the samples charts draw).

pub(crate) mod agents;
pub(crate) mod api;
pub(crate) mod cluster;
pub(crate) mod history;
pub(crate) mod jobs;
pub(crate) mod store;
pub(crate) mod tasks;

use prometheus_client::registry::Registry;

use crate::state::State;

/// Buckets for request, reconcile and commit durations in seconds: 1 ms to 10 s, where a
/// healthy master's answers (well under 100 ms) and a slow disk or etcd (seconds) both show.
pub(crate) const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Every metric of one master.
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) api: api::ApiMetrics,
    pub(crate) tasks: tasks::TaskMetrics,
    pub(crate) agents: agents::AgentMetrics,
    pub(crate) store: store::StoreMetrics,
    pub(crate) jobs: jobs::JobMetrics,
    cluster: cluster::ClusterGauges,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let api = api::ApiMetrics::register(&mut registry);
        let tasks = tasks::TaskMetrics::register(&mut registry);
        let agents = agents::AgentMetrics::register(&mut registry);
        let store = store::StoreMetrics::register(&mut registry);
        let jobs = jobs::JobMetrics::register(&mut registry);
        let cluster = cluster::ClusterGauges::register(&mut registry);
        Metrics {
            registry,
            api,
            tasks,
            agents,
            store,
            jobs,
            cluster,
        }
    }
}

impl Metrics {
    /// The Prometheus text (version 0.0.4) of every metric, the gauges read from `state`.
    pub(crate) fn encode(&self, state: &State) -> Result<String, std::fmt::Error> {
        self.cluster.set(state);
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use strato_proto::{Heartbeat, RegisterAgent, TaskState};
    use strato_runtime_types::time::now_millis;
    use strato_store::{Entries, MemoryStore, Op, Store, StoreError, Term};

    use crate::testing::{app, master, NoAgents};

    fn agent(id: &str) -> RegisterAgent {
        RegisterAgent {
            agent: crate::testing::agent_info(id),
            tasks: Vec::new(),
        }
    }

    /// The value of the sample line `name` (with its labels) in the encoded text.
    fn sample(text: &str, name: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    #[tokio::test]
    async fn launches_are_counted_when_sent_and_failures_when_a_task_fails() {
        let master = master().await;
        master.register(agent("a1"));
        master
            .deploy(&mut master.lock(), vec![app(3)], false)
            .expect("deploy");
        assert_eq!(master.metrics.tasks.launches(), 0);
        let calls = master.reconcile_once(now_millis());
        assert_eq!(calls.len(), 3);
        master.execute(calls);
        assert_eq!(master.metrics.tasks.launches(), 3);

        let ids: Vec<String> = master.lock().tasks.keys().cloned().collect();
        {
            let mut state = master.lock();
            master.end_task(&mut state, &ids[0], TaskState::Failed, "exit 1", 1, true);
            // A task being killed that ends is no failure.
            if let Some(task) = state.tasks.get_mut(&ids[1]) {
                task.kill_requested = true;
            }
            master.end_task(&mut state, &ids[1], TaskState::Failed, "killed", 1, false);
            master.end_task(&mut state, &ids[2], TaskState::Killed, "killed", 1, false);
        }
        assert_eq!(master.metrics.tasks.failures(TaskState::Failed), 1);
        assert_eq!(master.metrics.tasks.failures(TaskState::Lost), 0);
        let text = master.metrics.encode(&master.view()).expect("encode");
        assert_eq!(
            sample(&text, "strato_task_launches_total"),
            Some(3.0),
            "{text}"
        );
        assert_eq!(
            sample(&text, "strato_task_failures_total{state=\"TASK_FAILED\"}"),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(&text, "strato_task_failures_total{state=\"TASK_LOST\"}"),
            Some(0.0),
            "every failure state starts at 0: {text}"
        );
    }

    #[tokio::test]
    async fn heartbeats_are_counted_and_a_silent_agent_once_as_unreachable() {
        let master = master().await;
        master.register(agent("a1"));
        let (ack, _) = master.heartbeat(Heartbeat {
            agent_id: "a1".into(),
            tasks: Vec::new(),
        });
        assert!(ack.known);
        let (ack, _) = master.heartbeat(Heartbeat {
            agent_id: "nobody".into(),
            tasks: Vec::new(),
        });
        assert!(!ack.known);
        assert_eq!(master.metrics.agents.heartbeats(), 1, "only known agents'");
        let later = now_millis() + master.config.agent_timeout_seconds * 1000 + 1000;
        master.sweep_agents(&mut master.lock(), later);
        master.sweep_agents(&mut master.lock(), later + 1000);
        assert_eq!(master.metrics.agents.unreachable(), 1);
    }

    #[tokio::test]
    async fn a_reconcile_pass_and_a_commit_land_in_their_histograms() {
        let master = master().await;
        master
            .metrics
            .tasks
            .reconciled(std::time::Duration::from_millis(2));
        master
            .deploy(&mut master.lock(), vec![app(1)], false)
            .expect("deploy");
        master.durable().await.expect("durable");
        let text = master.metrics.encode(&master.view()).expect("encode");
        assert_eq!(
            sample(
                &text,
                "strato_reconcile_duration_seconds_bucket{le=\"0.0025\"}"
            ),
            Some(1.0),
            "{text}"
        );
        assert!(
            sample(&text, "strato_store_commit_duration_seconds_count").is_some_and(|n| n >= 1.0),
            "{text}"
        );
        assert_eq!(master.metrics.store.failures(), 0);
    }

    /// A store whose commits fail once `broken` is set, as with a lost etcd quorum.
    struct Unwritable(MemoryStore, std::sync::atomic::AtomicBool);

    #[async_trait::async_trait]
    impl Store for Unwritable {
        async fn get(
            &self,
            table: strato_store::Table,
            key: &str,
        ) -> Result<Option<Vec<u8>>, StoreError> {
            self.0.get(table, key).await
        }
        async fn list(
            &self,
            table: strato_store::Table,
            prefix: &str,
        ) -> Result<Entries, StoreError> {
            self.0.list(table, prefix).await
        }
        async fn commit(&self, term: &Term, ops: Vec<Op>) -> Result<(), StoreError> {
            if !self.1.load(std::sync::atomic::Ordering::SeqCst) {
                return self.0.commit(term, ops).await;
            }
            Err(StoreError::QuorumLost {
                message: "test".into(),
            })
        }
    }

    #[tokio::test]
    async fn a_failed_commit_is_counted() {
        let store = Arc::new(Unwritable(MemoryStore::new(), Default::default()));
        let master = crate::Master::new(
            crate::MasterConfig::default(),
            Arc::clone(&store) as Arc<dyn Store>,
            Arc::new(NoAgents),
        )
        .await
        .expect("master");
        // The ids of a first start are stored; the writes after that fail.
        store.1.store(true, std::sync::atomic::Ordering::SeqCst);
        master
            .deploy(&mut master.lock(), vec![app(1)], false)
            .expect("deploy");
        assert!(master.durable().await.is_err());
        assert_eq!(master.metrics.store.failures(), 1);
    }

    #[tokio::test]
    async fn the_cluster_gauges_keep_their_names() {
        let master = master().await;
        master.register(agent("a1"));
        master.publish();
        let text = master.metrics.encode(&master.view()).expect("encode");
        for (line, value) in [
            ("strato_agents{state=\"active\"}", 1.0),
            ("strato_agents{state=\"unreachable\"}", 0.0),
            ("strato_apps", 0.0),
            ("strato_cpus{kind=\"total\"}", 4.0),
            ("strato_mem_mebibytes{kind=\"total\"}", 4096.0),
            ("strato_disk_mebibytes{kind=\"total\"}", 1000.0),
            ("strato_tasks{state=\"running\"}", 0.0),
        ] {
            assert_eq!(sample(&text, line), Some(value), "{line}: {text}");
        }
    }
}
