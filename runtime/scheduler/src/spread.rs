//! How evenly a plan spreads load: used to compare the limited planner with the exhaustive one
//! (runtime/scheduler/benches/placement.rs, runtime/scheduler/tests/placement_props.rs).

use std::collections::HashMap;

use crate::AgentView;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Spread {
    /// Most tasks on one agent.
    pub max_tasks: usize,
    /// Coefficient of variation (standard deviation / mean) of used cpus over the active
    /// agents; 0 is perfectly even.
    pub cpu_cv: f64,
}

impl Spread {
    /// Over the active `agents`, from `(agent id, cpus)` of each task.
    pub fn of<'a>(agents: &[AgentView], tasks: impl IntoIterator<Item = (&'a str, f64)>) -> Spread {
        let mut per_agent: HashMap<&str, (usize, f64)> = agents
            .iter()
            .filter(|a| a.active)
            .map(|a| (a.id.as_str(), (0, 0.0)))
            .collect();
        for (agent, cpus) in tasks {
            if let Some(entry) = per_agent.get_mut(agent) {
                entry.0 += 1;
                entry.1 += cpus;
            }
        }
        let n = per_agent.len() as f64;
        if n == 0.0 {
            return Spread::default();
        }
        let mean = per_agent.values().map(|e| e.1).sum::<f64>() / n;
        let variance = per_agent
            .values()
            .map(|e| (e.1 - mean).powi(2))
            .sum::<f64>()
            / n;
        Spread {
            max_tasks: per_agent.values().map(|e| e.0).max().unwrap_or(0),
            cpu_cv: if mean > 0.0 {
                variance.sqrt() / mean
            } else {
                0.0
            },
        }
    }
}
