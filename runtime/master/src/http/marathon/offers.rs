//! Why an app waiting in `/v2/queue` does not start: each active agent checked against what the
//! app asks for, counted by Marathon's reject reasons (`processedOffersSummary`), plus one line a
//! person can read. An agent is one "offer" here, as Mesos offered each agent's free resources.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use strato_runtime_types::App;

use crate::state::State;

/// Marathon's reasons, in its order, and ours for an agent without a container engine.
const REASONS: [&str; 7] = [
    "UnfulfilledRole",
    "NoContainerEngine",
    "InsufficientCpus",
    "InsufficientMemory",
    "InsufficientDisk",
    "InsufficientPorts",
    "UnfulfilledConstraint",
];

/// What active tasks hold on each agent: cpus, mem, disk, host ports.
pub struct Usage(BTreeMap<String, (f64, f64, f64, usize)>);

/// One pass over the tasks for a whole `/v2/queue` answer.
pub fn usage(state: &State) -> Usage {
    let mut used: BTreeMap<String, (f64, f64, f64, usize)> = BTreeMap::new();
    for task in state
        .tasks
        .values()
        .filter(|t| t.is_active() && !t.kill_requested)
    {
        let entry = used.entry(task.agent_id.clone()).or_default();
        entry.0 += task.cpus;
        entry.1 += task.mem;
        entry.2 += task.disk;
        entry.3 += task.ports.len();
    }
    Usage(used)
}

/// The first reason `agent` cannot take one more task of `app`, if any (constraints are the
/// scheduler's to judge: an agent that passes everything here may still fail one).
fn rejection(used: &Usage, app: &App, agent: &crate::state::AgentEntry) -> Option<usize> {
    let info = &agent.info;
    if !app.accepted_roles().contains(&info.role) {
        return Some(0);
    }
    if app.docker_image().is_some() && info.container_engine.is_none() {
        return Some(1);
    }
    let (cpus, mem, disk, ports) = used.0.get(&info.id).copied().unwrap_or_default();
    let resources = &info.resources;
    if resources.cpus - cpus + 1e-9 < app.cpus {
        return Some(2);
    }
    if resources.mem - mem + 1e-9 < app.mem {
        return Some(3);
    }
    if resources.disk - disk + 1e-9 < app.disk {
        return Some(4);
    }
    let range: usize = resources
        .ports
        .iter()
        .map(|r| usize::from(r.end.saturating_sub(r.begin)) + 1)
        .sum();
    if range.saturating_sub(ports) < app.port_count() {
        return Some(5);
    }
    None
}

/// `processedOffersSummary` and a sentence for `app`.
pub fn summary(state: &State, used: &Usage, app: &App) -> (Value, String) {
    let agents: Vec<_> = state.agents.values().filter(|a| a.active).collect();
    let mut declined = [0usize; REASONS.len()];
    let mut fitting = 0;
    for agent in &agents {
        match rejection(used, app, agent) {
            Some(reason) => declined[reason] += 1,
            None => fitting += 1,
        }
    }
    let processed = agents.len();
    let rejects: Vec<Value> = REASONS
        .iter()
        .zip(declined)
        .map(|(reason, n)| json!({"reason": reason, "declined": n, "processed": processed}))
        .collect();
    let summary = json!({
        "processedOffersCount": processed,
        "unusedOffersCount": processed - fitting,
        "rejectSummaryLastOffers": rejects,
        "rejectSummaryLaunchAttempt": rejects,
    });
    let text = if processed == 0 {
        "No agent is registered".to_string()
    } else if fitting > 0 {
        format!(
            "{fitting} of {processed} agents have room: waiting for the scheduler (constraints, \
             backoff or a deployment step)"
        )
    } else {
        let why: Vec<String> = REASONS
            .iter()
            .zip(declined)
            .filter(|(_, n)| *n > 0)
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        format!(
            "No agent can run it now: {} (of {processed} agents)",
            why.join(", ")
        )
    };
    (summary, text)
}
