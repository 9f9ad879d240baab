//! Agents: heartbeats received, and agents marked unreachable because none came within
//! `agent_timeout_seconds` (`registry.rs::sweep_agents`; their tasks become TASK_LOST).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

pub(crate) struct AgentMetrics {
    heartbeats: Counter,
    unreachable: Counter,
}

impl AgentMetrics {
    pub(crate) fn register(registry: &mut Registry) -> AgentMetrics {
        let metrics = AgentMetrics {
            heartbeats: Counter::default(),
            unreachable: Counter::default(),
        };
        registry.register(
            "strato_agent_heartbeats",
            "Heartbeats received from registered agents",
            metrics.heartbeats.clone(),
        );
        registry.register(
            "strato_agents_marked_unreachable",
            "Agents marked unreachable after missing heartbeats for agent_timeout_seconds",
            metrics.unreachable.clone(),
        );
        metrics
    }

    pub(crate) fn heartbeat(&self) {
        self.heartbeats.inc();
    }

    pub(crate) fn marked_unreachable(&self, agents: usize) {
        self.unreachable
            .inc_by(u64::try_from(agents).unwrap_or(u64::MAX));
    }

    #[cfg(test)]
    pub(crate) fn unreachable(&self) -> u64 {
        self.unreachable.get()
    }

    #[cfg(test)]
    pub(crate) fn heartbeats(&self) -> u64 {
        self.heartbeats.get()
    }
}
