//! Marathon scheduling: deployments, placement, constraints, health-driven replacement, backoff. Pure: plans, does not act
