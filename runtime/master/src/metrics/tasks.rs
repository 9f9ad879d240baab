//! Tasks: launches sent to agents, launches an agent refused or never answered, tasks that ended
//! as failures (the same rule as Marathon's `lastTaskFailure`, `registry.rs::end_task`), and
//! how long each reconcile pass takes (`reconcile.rs`).

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use strato_proto::TaskState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StateLabel {
    pub state: &'static str,
}

/// The terminal states `end_task` counts as failures; each starts at 0 so that `increase()` sees
/// the first one.
const FAILURE_STATES: [TaskState; 5] = [
    TaskState::Failed,
    TaskState::Error,
    TaskState::Finished,
    TaskState::Gone,
    TaskState::Lost,
];

pub(crate) struct TaskMetrics {
    launches: Counter,
    launch_errors: Counter,
    failures: Family<StateLabel, Counter>,
    reconcile: Histogram,
}

impl TaskMetrics {
    pub(crate) fn register(registry: &mut Registry) -> TaskMetrics {
        let metrics = TaskMetrics {
            launches: Counter::default(),
            launch_errors: Counter::default(),
            failures: Family::default(),
            reconcile: Histogram::new(super::SECONDS_BUCKETS),
        };
        registry.register(
            "strato_task_launches",
            "Task launches sent to agents",
            metrics.launches.clone(),
        );
        registry.register(
            "strato_task_launch_errors",
            "Task launches an agent refused or did not answer (each becomes TASK_FAILED)",
            metrics.launch_errors.clone(),
        );
        registry.register(
            "strato_task_failures",
            "Tasks that ended in a failure state without being killed, by state",
            metrics.failures.clone(),
        );
        registry.register(
            "strato_reconcile_duration_seconds",
            "One reconcile pass on the leader: agent sweep, plan (without the state lock) and \
             apply; agent calls and the wait for the store are not included",
            metrics.reconcile.clone(),
        );
        for state in FAILURE_STATES {
            drop(metrics.failures.get_or_create(&StateLabel {
                state: state.as_str(),
            }));
        }
        metrics
    }

    pub(crate) fn launched(&self) {
        self.launches.inc();
    }

    pub(crate) fn launch_failed(&self) {
        self.launch_errors.inc();
    }

    pub(crate) fn failed(&self, state: TaskState) {
        self.failures
            .get_or_create(&StateLabel {
                state: state.as_str(),
            })
            .inc();
    }

    pub(crate) fn reconciled(&self, took: Duration) {
        self.reconcile.observe(took.as_secs_f64());
    }

    #[cfg(test)]
    pub(crate) fn launches(&self) -> u64 {
        self.launches.get()
    }

    #[cfg(test)]
    pub(crate) fn failures(&self, state: TaskState) -> u64 {
        self.failures
            .get_or_create(&StateLabel {
                state: state.as_str(),
            })
            .get()
    }
}
