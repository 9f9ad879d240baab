//! The cluster's figures as gauges, read from the published state at each scrape (the names
//! `/metrics` has always served): agents by state, apps, deployments, tasks by state, and cpus,
//! memory and disk on active agents.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use strato_proto::TaskState;

use crate::state::State;

/// What the gauges and Marathon's JSON form show.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Figures {
    pub agents_active: usize,
    pub agents_inactive: usize,
    pub apps: usize,
    pub deployments: usize,
    pub tasks_running: usize,
    /// Staging and starting.
    pub tasks_staging: usize,
    pub cpus_total: f64,
    pub cpus_used: f64,
    pub mem_total: f64,
    pub mem_used: f64,
    pub disk_total: f64,
    pub disk_used: f64,
}

/// Totals over active agents; used is what active (not yet ended) tasks reserve.
pub(crate) fn figures(state: &State) -> Figures {
    let mut f = Figures {
        apps: state.apps.len(),
        deployments: state.deployments.len(),
        ..Figures::default()
    };
    for agent in state.agents.values() {
        if agent.active {
            f.agents_active += 1;
            f.cpus_total += agent.info.resources.cpus;
            f.mem_total += agent.info.resources.mem;
            f.disk_total += agent.info.resources.disk;
        } else {
            f.agents_inactive += 1;
        }
    }
    for task in state.tasks.values().filter(|t| t.is_active()) {
        f.cpus_used += task.cpus;
        f.mem_used += task.mem;
        f.disk_used += task.disk;
        match task.state {
            TaskState::Running => f.tasks_running += 1,
            TaskState::Staging | TaskState::Starting => f.tasks_staging += 1,
            _ => {}
        }
    }
    f
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

type FloatGauge = Gauge<f64, AtomicU64>;

pub(crate) struct ClusterGauges {
    agents: Family<StateLabel, Gauge>,
    apps: Gauge,
    deployments: Gauge,
    tasks: Family<StateLabel, Gauge>,
    cpus: Family<KindLabel, FloatGauge>,
    mem: Family<KindLabel, FloatGauge>,
    disk: Family<KindLabel, FloatGauge>,
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl ClusterGauges {
    pub(crate) fn register(registry: &mut Registry) -> ClusterGauges {
        let gauges = ClusterGauges {
            agents: Family::default(),
            apps: Gauge::default(),
            deployments: Gauge::default(),
            tasks: Family::default(),
            cpus: Family::default(),
            mem: Family::default(),
            disk: Family::default(),
        };
        registry.register(
            "strato_agents",
            "Registered agents by state",
            gauges.agents.clone(),
        );
        registry.register("strato_apps", "Marathon apps", gauges.apps.clone());
        registry.register(
            "strato_deployments",
            "Running deployments",
            gauges.deployments.clone(),
        );
        registry.register(
            "strato_tasks",
            "Active tasks by state",
            gauges.tasks.clone(),
        );
        registry.register("strato_cpus", "Cpus on active agents", gauges.cpus.clone());
        registry.register(
            "strato_mem_mebibytes",
            "Memory on active agents",
            gauges.mem.clone(),
        );
        registry.register(
            "strato_disk_mebibytes",
            "Disk on active agents",
            gauges.disk.clone(),
        );
        gauges
    }

    /// Sets every gauge from `state` (atomic stores: concurrent scrapes write the same values).
    pub(crate) fn set(&self, state: &State) {
        let f = figures(state);
        let state_label = |state| StateLabel { state };
        let kind = |kind| KindLabel { kind };
        self.agents
            .get_or_create(&state_label("active"))
            .set(count(f.agents_active));
        self.agents
            .get_or_create(&state_label("unreachable"))
            .set(count(f.agents_inactive));
        self.apps.set(count(f.apps));
        self.deployments.set(count(f.deployments));
        self.tasks
            .get_or_create(&state_label("running"))
            .set(count(f.tasks_running));
        self.tasks
            .get_or_create(&state_label("staging"))
            .set(count(f.tasks_staging));
        for (family, total, used) in [
            (&self.cpus, f.cpus_total, f.cpus_used),
            (&self.mem, f.mem_total, f.mem_used),
            (&self.disk, f.disk_total, f.disk_used),
        ] {
            family.get_or_create(&kind("total")).set(total);
            family.get_or_create(&kind("used")).set(used);
        }
    }
}
