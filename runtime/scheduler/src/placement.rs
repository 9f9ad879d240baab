//! Picking agents for new tasks: role acceptance (`acceptedResourceRoles`), free cpus/mem/disk,
//! host ports and constraints; among the feasible agents probed, the one with fewest tasks of the
//! app, then the most free memory (spreads apps, fills evenly).
//!
//! Agents are probed in a shuffled order (seeded by the app id: same input, same plan) from a
//! cursor that carries over between the app's tasks, and only [`Limit`] feasible ones are scored
//! per task, so a placement costs a few probes instead of a scan of every agent. An agent that
//! can never take another task of the app this round (out of resources or ports, or refused by a
//! constraint whose counts only grow) leaves the app's candidate list for good, so full agents are
//! not probed again.

use strato_runtime_types::{App, TaskRecord};

use crate::app_constraints::{AppConstraints, Verdict};
use crate::cluster::Cluster;
use crate::constraints::Prepared;
use crate::limit::Limit;
use crate::ports::assign_host_ports;
use crate::rng::{seed_of, SplitMix64};

pub use crate::cluster::{slots, AgentSlot};

/// Room for one task of the app (not counting constraints and concrete ports).
fn fits(slot: &AgentSlot, app: &App, ports: usize) -> bool {
    slot.cpus + 1e-9 >= app.cpus
        && slot.mem + 1e-9 >= app.mem
        && slot.disk + 1e-9 >= app.disk
        && slot.free_port_count() >= ports
}

/// One app's round: its candidates in probe order and what scoring needs.
struct Round<'a, 'f> {
    app: &'a App,
    requested: Vec<u32>,
    constraints: AppConstraints<'f>,
    /// The app's active tasks per slot index.
    on_agent: Vec<u32>,
    /// Slot indexes in probe order; [`DROPPED`] marks one that can take no more of the app.
    candidates: Vec<u32>,
    dropped: usize,
    cursor: usize,
    limit: usize,
}

const DROPPED: u32 = u32::MAX;

impl Round<'_, '_> {
    fn verdict(&self, slots: &[AgentSlot], agent: usize) -> Verdict {
        match slots.get(agent) {
            Some(slot) if fits(slot, self.app, self.requested.len()) => {
                self.constraints.verdict(agent)
            }
            _ => Verdict::Never,
        }
    }

    /// Fewer of the app's tasks, then more free memory.
    fn better(&self, slots: &[AgentSlot], a: usize, b: usize) -> bool {
        let (mine, theirs) = (self.on_agent[a], self.on_agent[b]);
        mine < theirs || (mine == theirs && slots[a].mem > slots[b].mem)
    }

    /// Probes from the cursor until `limit` feasible agents were seen (or every candidate was)
    /// and returns the best of them. Positions do not move during a pick (dropped candidates are
    /// only marked), so one pass sees each candidate once.
    fn pick(&mut self, slots: &[AgentSlot]) -> Option<usize> {
        if self.dropped * 2 > self.candidates.len() {
            self.compact();
        }
        let len = self.candidates.len();
        let mut best: Option<usize> = None;
        let (mut found, mut probed) = (0, 0);
        while found < self.limit && probed < len {
            if self.cursor >= len {
                self.cursor = 0;
            }
            let position = self.cursor;
            self.cursor += 1;
            probed += 1;
            let agent = self.candidates[position];
            if agent == DROPPED {
                continue;
            }
            let agent = agent as usize;
            match self.verdict(slots, agent) {
                Verdict::Never => {
                    self.candidates[position] = DROPPED;
                    self.dropped += 1;
                }
                Verdict::NotNow => {}
                Verdict::Fits => {
                    found += 1;
                    if best.is_none_or(|b| self.better(slots, agent, b)) {
                        best = Some(agent);
                    }
                }
            }
        }
        best
    }

    fn drop_candidate(&mut self, agent: usize) {
        if let Some(entry) = self.candidates.iter_mut().find(|a| **a as usize == agent) {
            *entry = DROPPED;
            self.dropped += 1;
        }
    }

    /// Removes dropped candidates, keeping the order and the cursor's place in it.
    fn compact(&mut self) {
        let cursor = self.cursor.min(self.candidates.len());
        self.cursor = self.candidates[..cursor]
            .iter()
            .filter(|&&a| a != DROPPED)
            .count();
        self.candidates.retain(|&a| a != DROPPED);
        self.dropped = 0;
    }
}

/// Places up to `count` tasks of `app`, consuming the chosen slots' capacity. `app_tasks` are
/// the app's tasks (inactive ones are ignored). Returns `(agent id, host ports)` per placed task.
pub fn place(
    app: &App,
    count: u32,
    cluster: &mut Cluster,
    app_tasks: &[&TaskRecord],
    limit: Limit,
) -> Vec<(String, Vec<u16>)> {
    let prepared: Vec<Prepared> = app
        .constraints
        .iter()
        .filter_map(|c| Prepared::new(c))
        .collect();
    for c in &prepared {
        cluster.fields.ensure(&cluster.slots, c.field());
    }
    let mut on_agent = vec![0u32; cluster.slots.len()];
    let mut counted = Vec::new();
    for task in app_tasks.iter().filter(|t| t.is_active()) {
        if let Some(agent) = cluster.slot_of(&task.agent_id) {
            on_agent[agent] += 1;
            if !task.kill_requested {
                counted.push(agent);
            }
        }
    }
    let Cluster { slots, fields, .. } = cluster;
    let roles = app.accepted_roles();
    let needs_containers = app.docker_image().is_some();
    let mut round = Round {
        app,
        requested: app.requested_host_ports(),
        constraints: AppConstraints::new(&prepared, fields, &counted),
        on_agent,
        candidates: Vec::new(),
        dropped: 0,
        cursor: 0,
        limit: limit.resolve(slots.len()),
    };
    round.candidates = (0..slots.len())
        .filter(|&i| {
            let slot = &slots[i];
            roles.contains(&slot.role)
                && (slot.containers || !needs_containers)
                && round.verdict(slots, i) != Verdict::Never
        })
        .map(|i| i as u32)
        .collect();
    SplitMix64::new(seed_of(&app.id)).shuffle(&mut round.candidates);
    let mut out = Vec::new();
    while out.len() < count as usize {
        let Some(agent) = round.pick(slots) else {
            break;
        };
        let slot = &mut slots[agent];
        let Some(ports) = assign_host_ports(
            &round.requested,
            app.require_ports,
            &slot.port_ranges,
            &slot.used_ports,
        ) else {
            // Its used ports only grow: no later task of the app fits there either.
            round.drop_candidate(agent);
            continue;
        };
        slot.cpus -= app.cpus;
        slot.mem -= app.mem;
        slot.disk -= app.disk;
        slot.used_ports.extend(ports.iter().copied());
        round.on_agent[agent] += 1;
        round.constraints.record(agent);
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

    fn place(
        app: &App,
        count: u32,
        slots: &mut Vec<AgentSlot>,
        app_tasks: &[&TaskRecord],
    ) -> Vec<(String, Vec<u16>)> {
        let mut cluster = Cluster::from_slots(std::mem::take(slots));
        let placed = super::place(app, count, &mut cluster, app_tasks, Limit::default());
        *slots = cluster.slots;
        placed
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
