//! Constraint fields indexed once per plan: each agent's value of a field (`hostname` or an
//! attribute) as a small integer, so constraint checks compare integers and count tasks in
//! vectors instead of looking strings up in maps (runtime/scheduler/src/constraints.rs has the
//! string-level rules these indexes must agree with).

use std::collections::HashMap;

use crate::cluster::AgentSlot;
use crate::constraints::field_value;

/// One field's values over the active agents.
#[derive(Debug, Clone, Default)]
pub struct FieldIndex {
    /// Distinct values, by id.
    pub values: Vec<String>,
    /// Per agent (slot index): the id of its value, `None` when it lacks the attribute.
    pub of_agent: Vec<Option<u32>>,
    /// Per value id: the agents (slot indexes) that have it.
    pub agents: Vec<Vec<u32>>,
}

impl FieldIndex {
    pub fn build(slots: &[AgentSlot], field: &str) -> FieldIndex {
        let mut index = FieldIndex::default();
        let mut ids: HashMap<&str, u32> = HashMap::new();
        for (agent, slot) in slots.iter().enumerate() {
            let id = field_value(slot, field).map(|value| {
                *ids.entry(value).or_insert_with(|| {
                    index.values.push(value.to_string());
                    index.agents.push(Vec::new());
                    (index.values.len() - 1) as u32
                })
            });
            if let Some(id) = id {
                if let Some(list) = index.agents.get_mut(id as usize) {
                    list.push(agent as u32);
                }
            }
            index.of_agent.push(id);
        }
        index
    }

    /// The value id of agent `agent`.
    pub fn value_of(&self, agent: usize) -> Option<u32> {
        self.of_agent.get(agent).copied().flatten()
    }
}

/// Field indexes built on first use and shared by every app of one plan.
#[derive(Debug, Default)]
pub struct FieldCache {
    fields: HashMap<String, FieldIndex>,
}

/// `hostname` and `@hostname` are one field; `@rack` is the attribute `rack`.
fn canonical(field: &str) -> &str {
    match field {
        "hostname" | "@hostname" => "hostname",
        other => other.trim_start_matches('@'),
    }
}

impl FieldCache {
    pub fn ensure(&mut self, slots: &[AgentSlot], field: &str) {
        let key = canonical(field);
        if !self.fields.contains_key(key) {
            self.fields
                .insert(key.to_string(), FieldIndex::build(slots, key));
        }
    }

    /// The index of `field` if [`FieldCache::ensure`] built it.
    pub fn get(&self, field: &str) -> Option<&FieldIndex> {
        self.fields.get(canonical(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_agents_by_value() {
        let mut a = AgentSlot::for_test("h1");
        a.attributes.insert("rack".into(), "r1".into());
        let mut b = AgentSlot::for_test("h2");
        b.attributes.insert("rack".into(), "r1".into());
        let c = AgentSlot::for_test("h3");
        let index = FieldIndex::build(&[a, b, c], "rack");
        assert_eq!(index.values, vec!["r1".to_string()]);
        assert_eq!(index.of_agent, vec![Some(0), Some(0), None]);
        assert_eq!(index.agents, vec![vec![0, 1]]);
        let mut cache = FieldCache::default();
        cache.ensure(&[AgentSlot::for_test("h1")], "@hostname");
        assert_eq!(cache.get("hostname").map(|f| f.values.len()), Some(1));
    }
}
