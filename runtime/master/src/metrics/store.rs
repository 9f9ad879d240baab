//! The store: how long each commit of the single writer takes (`writer.rs`; one commit may carry
//! several merged writes), and commits that failed (each steps the leader down).

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone)]
pub(crate) struct StoreMetrics {
    commit: Histogram,
    failures: Counter,
}

impl StoreMetrics {
    pub(crate) fn register(registry: &mut Registry) -> StoreMetrics {
        let metrics = StoreMetrics {
            commit: Histogram::new(super::SECONDS_BUCKETS),
            failures: Counter::default(),
        };
        registry.register(
            "strato_store_commit_duration_seconds",
            "Time of one commit to the state store (redb or etcd), successful or not",
            metrics.commit.clone(),
        );
        registry.register(
            "strato_store_commit_failures",
            "Commits to the state store that failed (the leader steps down after one)",
            metrics.failures.clone(),
        );
        metrics
    }

    pub(crate) fn committed(&self, took: Duration, ok: bool) {
        self.commit.observe(took.as_secs_f64());
        if !ok {
            self.failures.inc();
        }
    }

    #[cfg(test)]
    pub(crate) fn failures(&self) -> u64 {
        self.failures.get()
    }
}
