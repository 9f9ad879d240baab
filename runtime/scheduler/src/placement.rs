//! Picking agents for new tasks: role acceptance (`acceptedResourceRoles`), free cpus/mem/disk,
//! host ports and constraints; among feasible agents the one with fewest tasks of the app, then
//! the most free memory (spreads apps, fills evenly).

use std::collections::{BTreeMap, BTreeSet};

use strato_proto::PortRange;
use strato_runtime_types::{App, TaskRecord};

use crate::constraints::{allows, field_value, group_min, Prepared};
use crate::ports::assign_host_ports;
use crate::AgentView;

/// An agent's free capacity during one planning round.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSlot {
    pub id: String,
    pub hostname: String,
    pub role: String,
    pub attributes: BTreeMap<String, String>,
    pub cpus: f64,
    pub mem: f64,
    pub disk: f64,
    pub port_ranges: Vec<PortRange>,
    pub used_ports: BTreeSet<u16>,
    /// Active tasks per app id on this agent.
    pub tasks_per_app: BTreeMap<String, usize>,
    /// It runs a container engine.
    pub containers: bool,
}

impl AgentSlot {
    #[cfg(test)]
    pub(crate) fn for_test(hostname: &str) -> AgentSlot {
        AgentSlot {
            id: hostname.into(),
            hostname: hostname.into(),
            role: "*".into(),
            attributes: BTreeMap::new(),
            cpus: 4.0,
            mem: 4096.0,
            disk: 10_000.0,
            port_ranges: vec![PortRange {
                begin: 31000,
                end: 32000,
            }],
            used_ports: BTreeSet::new(),
            tasks_per_app: BTreeMap::new(),
            containers: false,
        }
    }
}

/// Free capacity of every active agent after subtracting its active tasks.
pub fn slots(agents: &[AgentView], tasks: &[&TaskRecord]) -> Vec<AgentSlot> {
    let mut slots: Vec<AgentSlot> = agents
        .iter()
        .filter(|a| a.active)
        .map(|a| AgentSlot {
            id: a.id.clone(),
            hostname: a.hostname.clone(),
            role: a.role.clone(),
            attributes: a.attributes.clone(),
            cpus: a.resources.cpus,
            mem: a.resources.mem,
            disk: a.resources.disk,
            port_ranges: a.resources.ports.clone(),
            used_ports: BTreeSet::new(),
            tasks_per_app: BTreeMap::new(),
            containers: a.containers,
        })
        .collect();
    let index: BTreeMap<String, usize> = slots
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.clone(), i))
        .collect();
    for task in tasks.iter().filter(|t| t.is_active()) {
        if let Some(&i) = index.get(&task.agent_id) {
            let slot = &mut slots[i];
            slot.cpus -= task.cpus;
            slot.mem -= task.mem;
            slot.disk -= task.disk;
            slot.used_ports.extend(task.ports.iter().copied());
            *slot.tasks_per_app.entry(task.app_id.clone()).or_default() += 1;
        }
    }
    slots
}

/// Places up to `count` tasks of `app`, consuming the chosen slots' capacity.
/// Returns `(agent id, host ports)` per placed task.
pub fn place(
    app: &App,
    count: u32,
    slots: &mut [AgentSlot],
    app_tasks: &[&TaskRecord],
) -> Vec<(String, Vec<u16>)> {
    let roles = app.accepted_roles();
    let needs_containers = app.docker_image().is_some();
    let requested = app.requested_host_ports();
    let constraints: Vec<Prepared> = app
        .constraints
        .iter()
        .filter_map(|c| Prepared::new(c))
        .collect();
    // Per constraint: the app's active tasks counted by field value.
    let by_id: BTreeMap<&str, usize> = slots
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut placed_values: Vec<BTreeMap<String, usize>> = constraints
        .iter()
        .map(|c| {
            let mut counts = BTreeMap::new();
            for task in app_tasks
                .iter()
                .filter(|t| t.is_active() && !t.kill_requested)
            {
                if let Some(value) = by_id
                    .get(task.agent_id.as_str())
                    .and_then(|&i| field_value(&slots[i], c.field()))
                {
                    *counts.entry(value.to_string()).or_insert(0) += 1;
                }
            }
            counts
        })
        .collect();
    let all_values: Vec<Vec<String>> = constraints
        .iter()
        .map(|c| {
            let set: BTreeSet<String> = slots
                .iter()
                .filter_map(|s| field_value(s, c.field()).map(str::to_string))
                .collect();
            set.into_iter().collect()
        })
        .collect();
    let mut out = Vec::new();
    for _ in 0..count {
        let mins: Vec<usize> = placed_values
            .iter()
            .zip(&all_values)
            .map(|(placed, values)| group_min(placed, values))
            .collect();
        let mut best: Option<(usize, Vec<u16>)> = None;
        for (i, slot) in slots.iter().enumerate() {
            if !roles.contains(&slot.role)
                || (needs_containers && !slot.containers)
                || slot.cpus + 1e-9 < app.cpus
                || slot.mem + 1e-9 < app.mem
                || slot.disk + 1e-9 < app.disk
            {
                continue;
            }
            let better = match &best {
                None => true,
                Some((b, _)) => {
                    let (mine, theirs) = (
                        slot.tasks_per_app.get(&app.id),
                        slots[*b].tasks_per_app.get(&app.id),
                    );
                    mine < theirs || (mine == theirs && slot.mem > slots[*b].mem)
                }
            };
            if !better
                || !constraints
                    .iter()
                    .enumerate()
                    .all(|(c, constraint)| allows(constraint, slot, &placed_values[c], mins[c]))
            {
                continue;
            }
            if let Some(ports) = assign_host_ports(
                &requested,
                app.require_ports,
                &slot.port_ranges,
                &slot.used_ports,
            ) {
                best = Some((i, ports));
            }
        }
        let Some((i, ports)) = best else { break };
        let slot = &mut slots[i];
        slot.cpus -= app.cpus;
        slot.mem -= app.mem;
        slot.disk -= app.disk;
        slot.used_ports.extend(ports.iter().copied());
        *slot.tasks_per_app.entry(app.id.clone()).or_default() += 1;
        for (c, constraint) in constraints.iter().enumerate() {
            if let Some(value) = field_value(slot, constraint.field()) {
                *placed_values[c].entry(value.to_string()).or_insert(0) += 1;
            }
        }
        out.push((slot.id.clone(), ports));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(cpus: f64, constraints: &[&[&str]]) -> App {
        App {
            id: "/a".into(),
            cpus,
            mem: 64.0,
            constraints: constraints
                .iter()
                .map(|c| c.iter().map(|s| s.to_string()).collect())
                .collect(),
            ..App::default()
        }
    }

    #[test]
    fn spreads_tasks_over_agents() {
        let mut slots = vec![AgentSlot::for_test("h1"), AgentSlot::for_test("h2")];
        let placed = place(&app(0.5, &[]), 4, &mut slots, &[]);
        let on_h1 = placed.iter().filter(|(a, _)| a == "h1").count();
        assert_eq!((placed.len(), on_h1), (4, 2));
    }

    #[test]
    fn stops_when_cpus_run_out() {
        let mut slots = vec![AgentSlot::for_test("h1")];
        assert_eq!(place(&app(1.5, &[]), 5, &mut slots, &[]).len(), 2);
    }

    #[test]
    fn unique_hostname_places_one_per_agent() {
        let mut slots = vec![AgentSlot::for_test("h1"), AgentSlot::for_test("h2")];
        assert_eq!(
            place(&app(0.1, &[&["hostname", "UNIQUE"]]), 3, &mut slots, &[]).len(),
            2
        );
    }

    #[test]
    fn default_roles_skip_public_agents_and_slave_public_uses_them() {
        let mut public = AgentSlot::for_test("pub");
        public.role = strato_proto::ROLE_PUBLIC.into();
        let mut slots = vec![public.clone()];
        assert!(place(&app(0.1, &[]), 1, &mut slots, &[]).is_empty());
        let mut edge = app(0.1, &[]);
        edge.accepted_resource_roles = Some(vec!["slave_public".into()]);
        let mut slots = vec![public];
        assert_eq!(place(&edge, 1, &mut slots, &[]).len(), 1);
    }

    #[test]
    fn ports_are_not_reused_on_one_agent() {
        let mut slots = vec![AgentSlot::for_test("h1")];
        let placed = place(&app(0.1, &[]), 2, &mut slots, &[]);
        assert_ne!(placed[0].1, placed[1].1);
    }
}
