//! [`Hardware`]: the minimum CPU, memory and disk each node must have, per role. Preflight compares
//! hosts against [`Hardware::requirement`]; cloud validation compares instance types against it.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Role;

/// `hardware: production | minimal | {cpus, memory_gib, disk_gib}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Hardware {
    /// `production` or `minimal`.
    Profile(Profile),
    /// The same explicit minimum for every node.
    Custom(Resources),
}

/// A named hardware profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// DC/OS's documented minimum: masters 4 CPUs / 32 GiB / 120 GiB, agents and the bootstrap
    /// host 2 CPUs / 16 GiB / 60 GiB.
    #[default]
    Production,
    /// What Strato's own runtime needs to start and run a few small apps: 1 CPU / 1 GiB / 5 GiB on
    /// every node. For laptops, CI and trials, not for real workloads.
    Minimal,
}

/// CPU, memory and disk of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// Logical CPUs (at least 1).
    #[schemars(range(min = 1))]
    pub cpus: u32,
    /// Memory in GiB (at least 1).
    #[schemars(range(min = 1))]
    pub memory_gib: u32,
    /// Free disk in GiB for `/var/lib/strato` (at least 1).
    #[schemars(range(min = 1))]
    pub disk_gib: u32,
}

impl Resources {
    pub const fn new(cpus: u32, memory_gib: u32, disk_gib: u32) -> Self {
        Resources {
            cpus,
            memory_gib,
            disk_gib,
        }
    }

    /// Whether `self` (what a host has) meets `need` in every dimension.
    pub fn satisfies(&self, need: &Resources) -> bool {
        self.cpus >= need.cpus
            && self.memory_gib >= need.memory_gib
            && self.disk_gib >= need.disk_gib
    }
}

/// DC/OS 1.13 system requirements (docs: installing/production/system-requirements).
pub const PRODUCTION_MASTER: Resources = Resources::new(4, 32, 120);
/// DC/OS 1.13 system requirements for private and public agents.
pub const PRODUCTION_AGENT: Resources = Resources::new(2, 16, 60);
/// DC/OS 1.13 system requirements for the bootstrap node.
pub const PRODUCTION_BOOTSTRAP: Resources = Resources::new(2, 16, 60);
/// Strato's runtime (master or agent process, DNS, store) fits in well under 1 GiB of memory and a
/// few GiB of disk for the bundle, state and logs; one CPU is enough to schedule and run it.
pub const MINIMAL_NODE: Resources = Resources::new(1, 1, 5);

impl Default for Hardware {
    fn default() -> Self {
        Hardware::Profile(Profile::Production)
    }
}

impl Hardware {
    pub const PROFILE_NAMES: [&'static str; 2] = ["production", "minimal"];

    /// The minimum a host of `role` must have under this setting.
    pub fn requirement(&self, role: Role) -> Resources {
        match self {
            Hardware::Custom(r) => *r,
            Hardware::Profile(Profile::Minimal) => MINIMAL_NODE,
            Hardware::Profile(Profile::Production) => match role {
                Role::Master => PRODUCTION_MASTER,
                Role::Agent | Role::PublicAgent => PRODUCTION_AGENT,
                Role::Bootstrap => PRODUCTION_BOOTSTRAP,
            },
        }
    }

    pub fn parse_profile(text: &str) -> Option<Hardware> {
        match text {
            "production" => Some(Hardware::Profile(Profile::Production)),
            "minimal" => Some(Hardware::Profile(Profile::Minimal)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_matches_the_documented_profiles() {
        let prod = Hardware::default();
        assert_eq!(prod.requirement(Role::Master), Resources::new(4, 32, 120));
        assert_eq!(
            prod.requirement(Role::PublicAgent),
            Resources::new(2, 16, 60)
        );
        let minimal = Hardware::parse_profile("minimal").expect("known profile");
        assert_eq!(minimal.requirement(Role::Master), Resources::new(1, 1, 5));
        let custom = Hardware::Custom(Resources::new(8, 64, 500));
        assert_eq!(custom.requirement(Role::Agent), Resources::new(8, 64, 500));
        assert!(Resources::new(4, 32, 120).satisfies(&PRODUCTION_MASTER));
        assert!(!Resources::new(4, 31, 500).satisfies(&PRODUCTION_MASTER));
    }

    #[test]
    fn hardware_serializes_as_a_word_or_a_mapping() {
        assert_eq!(
            yaml_serde::to_string(&Hardware::default()).expect("yaml"),
            "production\n"
        );
        let custom: Hardware =
            yaml_serde::from_str("{cpus: 2, memory_gib: 4, disk_gib: 20}").expect("mapping");
        assert_eq!(custom, Hardware::Custom(Resources::new(2, 4, 20)));
    }
}
