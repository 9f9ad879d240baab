//! How many feasible agents placement scores per task. Nomad's limit iterator scores only a few
//! random feasible nodes (two for batch jobs, `ceil(log2(nodes))` for services), and Sparrow
//! showed two random choices already give near-optimal load; `All` is the exhaustive scorer,
//! kept to measure what the limit costs in spread (runtime/scheduler/benches/placement.rs).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Limit {
    /// `max(2, ceil(log2(agents)))` candidates, as Nomad does for services.
    #[default]
    Log2Agents,
    /// This many candidates (at least one).
    Candidates(usize),
    /// Every feasible agent, every task: O(agents) per placement.
    All,
}

impl Limit {
    /// Candidates to score per placement on a cluster of `agents`.
    pub fn resolve(self, agents: usize) -> usize {
        match self {
            Limit::All => usize::MAX,
            Limit::Candidates(n) => n.max(1),
            Limit::Log2Agents => {
                let log2 = usize::BITS - agents.saturating_sub(1).leading_zeros();
                (log2 as usize).max(2)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_of_agents_with_a_floor_of_two() {
        assert_eq!(Limit::Log2Agents.resolve(0), 2);
        assert_eq!(Limit::Log2Agents.resolve(3), 2);
        assert_eq!(Limit::Log2Agents.resolve(1_000), 10);
        assert_eq!(Limit::Log2Agents.resolve(1_024), 10);
        assert_eq!(Limit::Log2Agents.resolve(10_000), 14);
        assert_eq!(Limit::Candidates(0).resolve(10), 1);
    }
}
