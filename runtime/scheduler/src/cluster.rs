//! The agents' free capacity during one plan, with the indexes placement looks things up in.
//! Built only when some app needs a launch, so a converged re-plan never pays for it
//! (runtime/scheduler/src/lib.rs).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use strato_proto::PortRange;
use strato_runtime_types::TaskRecord;

use crate::fields::FieldCache;
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
            containers: false,
        }
    }

    /// Host ports still free: a cheap bound checked before picking concrete ports.
    pub fn free_port_count(&self) -> usize {
        let offered: usize = self
            .port_ranges
            .iter()
            .map(|r| usize::from(r.end.saturating_sub(r.begin)) + usize::from(r.end >= r.begin))
            .sum();
        offered.saturating_sub(self.used_ports.len())
    }
}

/// Free capacity of every active agent after subtracting its active tasks.
pub fn slots(agents: &[AgentView], tasks: &[&TaskRecord]) -> Vec<AgentSlot> {
    Cluster::new(agents, tasks).slots
}

/// Slots plus lookups by agent id and by constraint field.
#[derive(Debug, Default)]
pub struct Cluster {
    pub slots: Vec<AgentSlot>,
    pub by_id: HashMap<String, usize>,
    pub fields: FieldCache,
}

impl Cluster {
    pub fn new(agents: &[AgentView], tasks: &[&TaskRecord]) -> Cluster {
        let slots = agents
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
                containers: a.containers,
            })
            .collect();
        let mut cluster = Cluster::from_slots(slots);
        for task in tasks.iter().filter(|t| t.is_active()) {
            if let Some(slot) = cluster.slot_of(&task.agent_id) {
                let slot = &mut cluster.slots[slot];
                slot.cpus -= task.cpus;
                slot.mem -= task.mem;
                slot.disk -= task.disk;
                slot.used_ports.extend(task.ports.iter().copied());
            }
        }
        cluster
    }

    pub fn from_slots(slots: Vec<AgentSlot>) -> Cluster {
        let by_id = slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        Cluster {
            slots,
            by_id,
            fields: FieldCache::default(),
        }
    }

    /// The slot index of an active agent.
    pub fn slot_of(&self, agent_id: &str) -> Option<usize> {
        self.by_id.get(agent_id).copied()
    }
}
