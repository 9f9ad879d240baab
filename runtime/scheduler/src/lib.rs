//! Marathon's scheduling decisions as pure functions: given the apps, their tasks and the agents,
//! [`plan`] says which tasks to launch where (with host ports) and which to kill. The master owns
//! all I/O and calls this on every reconcile tick.
//!
//! Pipeline per app: health ([`health`]) marks tasks to replace → [`deployment`] decides how many
//! to launch and which to kill (scale, rolling upgrade by `upgradeStrategy`, new tasks gated by
//! health and [`readiness`]) → [`backoff`] and
//! dependencies gate launches → [`placement`] picks agents honouring roles, resources,
//! [`constraints`] and [`ports`], scoring a [`Limit`] of shuffled feasible agents per task.
//!
//! A converged app costs one pass over its own tasks: the agents' capacity and the constraint
//! indexes ([`cluster`], [`fields`]) are built only once some app needs a launch.

mod app_constraints;
pub mod backoff;
pub mod cluster;
pub mod constraints;
pub mod deployment;
pub mod env;
pub mod fields;
pub mod health;
pub mod limit;
pub mod placement;
pub mod ports;
pub mod readiness;
mod rng;
pub mod spread;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use strato_proto::Resources;
use strato_runtime_types::{App, TaskRecord};

pub use cluster::AgentSlot;
pub use deployment::KillReason;
pub use limit::Limit;

/// An agent as the scheduler sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentView {
    pub id: String,
    pub hostname: String,
    pub role: String,
    pub attributes: BTreeMap<String, String>,
    pub resources: Resources,
    /// Registered and heartbeating; inactive agents get no launches.
    pub active: bool,
    /// It runs a container engine: only such agents get tasks of apps with a Docker image.
    pub containers: bool,
}

/// One app and what gates its launches.
#[derive(Debug, Clone)]
pub struct AppInput<'a> {
    pub app: &'a App,
    /// Backoff: no replacement launch before this time (Unix ms).
    pub launch_not_before: Option<u64>,
    /// Every app in `dependencies` is converged.
    pub dependencies_ready: bool,
    /// Ids of the app's new tasks still waiting for a readiness check (see [`readiness`]).
    pub not_ready: BTreeSet<String>,
}

pub struct PlanInput<'a> {
    pub now: u64,
    pub agents: &'a [AgentView],
    pub apps: Vec<AppInput<'a>>,
    /// Every active task (tasks of unknown apps are the master's to kill).
    pub tasks: Vec<&'a TaskRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    pub app_id: String,
    pub agent_id: String,
    pub host_ports: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Kill {
    pub task_id: String,
    pub reason: KillReason,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub launches: Vec<Launch>,
    pub kills: Vec<Kill>,
    /// Apps whose tasks match their definition (counts, versions, health).
    pub converged: Vec<String>,
    /// Apps that want more tasks than could be placed now: app id → missing count.
    pub unplaced: BTreeMap<String, u32>,
}

/// Decides one reconcile round.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    plan_with(input, Limit::default())
}

/// [`plan`] scoring `limit` candidate agents per placement ([`Limit::All`]: every feasible one).
pub fn plan_with(input: &PlanInput<'_>, limit: Limit) -> Plan {
    let mut by_app: HashMap<&str, Vec<&TaskRecord>> = HashMap::with_capacity(input.apps.len());
    for task in &input.tasks {
        by_app.entry(task.app_id.as_str()).or_default().push(task);
    }
    let mut cluster: Option<cluster::Cluster> = None;
    let mut out = Plan::default();
    for entry in &input.apps {
        let app = entry.app;
        let tasks: &[&TaskRecord] = by_app.get(app.id.as_str()).map_or(&[], Vec::as_slice);
        let decision = deployment::app_plan(app, tasks, input.now, &entry.not_ready);
        for (task_id, reason) in decision.kill {
            out.kills.push(Kill { task_id, reason });
        }
        if decision.converged {
            out.converged.push(app.id.clone());
        }
        let gated =
            !entry.dependencies_ready || entry.launch_not_before.is_some_and(|t| t > input.now);
        if decision.launch == 0 || gated {
            if decision.launch > 0 {
                out.unplaced.insert(app.id.clone(), decision.launch);
            }
            continue;
        }
        let cluster =
            cluster.get_or_insert_with(|| cluster::Cluster::new(input.agents, &input.tasks));
        let placed = placement::place(app, decision.launch, cluster, tasks, limit);
        let missing = decision.launch - u32::try_from(placed.len()).unwrap_or(u32::MAX);
        if missing > 0 {
            out.unplaced.insert(app.id.clone(), missing);
        }
        for (agent_id, host_ports) in placed {
            out.launches.push(Launch {
                app_id: app.id.clone(),
                agent_id,
                host_ports,
            });
        }
    }
    out
}
