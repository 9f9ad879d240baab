//! Jobs (`jobs/lifecycle.rs`): runs started (by the API or a schedule) and runs finished, by
//! outcome.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Outcome {
    status: &'static str,
}

pub(crate) struct JobMetrics {
    started: Counter,
    finished: Family<Outcome, Counter>,
}

impl JobMetrics {
    pub(crate) fn register(registry: &mut Registry) -> JobMetrics {
        let metrics = JobMetrics {
            started: Counter::default(),
            finished: Family::default(),
        };
        registry.register(
            "strato_job_runs_started",
            "Job runs started, by the API or a schedule",
            metrics.started.clone(),
        );
        // Both outcomes show from the start, at 0.
        for status in ["SUCCESS", "FAILED"] {
            let _ = metrics.finished.get_or_create(&Outcome { status });
        }
        registry.register(
            "strato_job_runs_finished",
            "Job runs finished, by status (SUCCESS or FAILED)",
            metrics.finished.clone(),
        );
        metrics
    }

    pub(crate) fn run_started(&self) {
        self.started.inc();
    }

    pub(crate) fn run_finished(&self, success: bool) {
        let status = if success { "SUCCESS" } else { "FAILED" };
        self.finished.get_or_create(&Outcome { status }).inc();
    }
}
