//! The cluster's cloud topology, planned without talking to any cloud: resource names, machine
//! names and roles, tags, subnet range and firewall rules. Every provider builds exactly this plan,
//! so the three clouds (and the Terraform modules) agree on what a Strato cluster is.
use std::fmt;

use crate::spec::{ClusterSpec, PerRole};

/// Tag/label keys put on every resource. Lower-case with '-': valid on all three clouds.
pub const TAG_CLUSTER: &str = "strato-cluster";
pub const TAG_CLUSTER_ID: &str = "strato-cluster-id";
pub const TAG_ROLE: &str = "strato-role";

pub use strato_config::Role;

/// The instance size (or disk) `role`'s machines get.
pub fn pick<T: Clone>(role: Role, per_role: &PerRole<T>) -> T {
    match role {
        Role::Bootstrap => per_role.bootstrap.clone(),
        Role::Master => per_role.master.clone(),
        Role::Agent => per_role.agent.clone(),
        Role::PublicAgent => per_role.public_agent.clone(),
    }
}

/// Protocols a rule opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    All,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::All => "all",
        }
    }
}

/// Which machines a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    AllNodes,
    Role(Role),
}

/// One inbound firewall rule. Outbound is open everywhere (nodes download packages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Short name, unique in the cluster: `ssh`, `ui`, `internal`, `public-agents`.
    pub name: &'static str,
    pub protocol: Protocol,
    /// Inclusive port ranges; empty means every port.
    pub ports: Vec<(u16, u16)>,
    pub sources: Vec<String>,
    pub target: Target,
    /// Azure NSG priority (lower wins); unique per rule.
    pub priority: u16,
}

/// One machine to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachinePlan {
    pub name: String,
    pub role: Role,
    pub instance_type: String,
    pub disk_gib: u32,
}

/// The whole cluster, as every provider must build it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub spec: ClusterSpec,
    /// `<cluster>-net`: VPC / VNet / VPC network.
    pub network_name: String,
    pub subnet_name: String,
    pub subnet_cidr: String,
    /// Internet gateway + route (AWS); Azure and GCP give public IPs their own way out.
    pub gateway_name: String,
    pub route_table_name: String,
    pub key_name: String,
    pub rules: Vec<Rule>,
    pub machines: Vec<MachinePlan>,
}

/// Ports public agents serve to the world: HTTP, HTTPS and the service port range Marathon-LB-style
/// edge routers hand out.
pub const PUBLIC_AGENT_PORTS: [(u16, u16); 3] = [(80, 80), (443, 443), (10000, 10100)];

impl Plan {
    /// Tags for a resource of this cluster (`role` for machines).
    pub fn tags(&self, role: Option<Role>) -> Vec<(String, String)> {
        let mut tags = vec![
            (TAG_CLUSTER.to_string(), self.spec.cluster_name.clone()),
            (TAG_CLUSTER_ID.to_string(), self.spec.cluster_id.clone()),
        ];
        if let Some(role) = role {
            tags.push((TAG_ROLE.to_string(), role.label().to_string()));
        }
        tags
    }

    pub fn machines_of(&self, role: Role) -> impl Iterator<Item = &MachinePlan> {
        self.machines.iter().filter(move |m| m.role == role)
    }

    /// Name of the firewall (security group / NSG / GCP firewall) for a rule target.
    pub fn firewall_name(&self, target: Target) -> String {
        let cluster = &self.spec.cluster_name;
        match target {
            Target::AllNodes => format!("{cluster}-nodes"),
            Target::Role(role) => format!("{cluster}-{}s", role.label()),
        }
    }

    /// The firewall groups machines of `role` belong to.
    pub fn targets_for(&self, role: Role) -> Vec<Target> {
        let mut targets = vec![Target::AllNodes];
        if self.rules.iter().any(|r| r.target == Target::Role(role)) {
            targets.push(Target::Role(role));
        }
        targets
    }

    /// The distinct rule targets, in plan order.
    pub fn targets(&self) -> Vec<Target> {
        let mut out: Vec<Target> = Vec::new();
        for rule in &self.rules {
            if !out.contains(&rule.target) {
                out.push(rule.target);
            }
        }
        out
    }
}

/// Plan the cluster described by `spec`.
pub fn plan(spec: &ClusterSpec) -> Plan {
    let cluster = &spec.cluster_name;
    let mut machines = vec![machine(
        spec,
        Role::Bootstrap,
        format!("{cluster}-bootstrap"),
    )];
    for (role, count) in [
        (Role::Master, spec.counts.masters),
        (Role::Agent, spec.counts.agents),
        (Role::PublicAgent, spec.counts.public_agents),
    ] {
        machines.extend(
            (1..=count).map(|i| machine(spec, role, format!("{cluster}-{}-{i}", role.label()))),
        );
    }
    let rules = vec![
        Rule {
            name: "ssh",
            protocol: Protocol::Tcp,
            ports: vec![(22, 22)],
            sources: spec.admin_cidrs.clone(),
            target: Target::AllNodes,
            priority: 100,
        },
        Rule {
            name: "internal",
            protocol: Protocol::All,
            ports: vec![],
            sources: vec![spec.network_cidr.clone()],
            target: Target::AllNodes,
            priority: 110,
        },
        Rule {
            name: "ui",
            protocol: Protocol::Tcp,
            ports: vec![(80, 80), (443, 443)],
            sources: spec.admin_cidrs.clone(),
            target: Target::Role(Role::Master),
            priority: 120,
        },
        Rule {
            name: "public-agents",
            protocol: Protocol::Tcp,
            ports: PUBLIC_AGENT_PORTS.to_vec(),
            sources: vec!["0.0.0.0/0".to_string()],
            target: Target::Role(Role::PublicAgent),
            priority: 130,
        },
    ];
    Plan {
        spec: spec.clone(),
        network_name: format!("{cluster}-net"),
        subnet_name: format!("{cluster}-subnet"),
        subnet_cidr: first_subnet(&spec.network_cidr),
        gateway_name: format!("{cluster}-igw"),
        route_table_name: format!("{cluster}-routes"),
        key_name: format!("{cluster}-key"),
        rules,
        machines,
    }
}

fn machine(spec: &ClusterSpec, role: Role, name: String) -> MachinePlan {
    MachinePlan {
        name,
        role,
        instance_type: pick(role, &spec.instance_types),
        disk_gib: pick(role, &spec.disk_gib),
    }
}

/// The first /24 of the network (10.0.0.0/16 → 10.0.1.0/24; a /24 network is used whole).
fn first_subnet(network_cidr: &str) -> String {
    match crate::spec::parse_cidr(network_cidr) {
        Ok((addr, prefix)) if prefix < 24 => {
            let o = addr.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2].saturating_add(1))
        }
        _ => network_cidr.to_string(),
    }
}

impl fmt::Display for Plan {
    /// The `--dry-run` listing: what `create` would make, in creation order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.spec;
        writeln!(
            f,
            "cluster {} (id {}) on {} {}",
            s.cluster_name,
            s.cluster_id,
            s.provider.as_str(),
            describe_location(&s.location)
        )?;
        writeln!(f, "  network   {} {}", self.network_name, s.network_cidr)?;
        writeln!(f, "  subnet    {} {}", self.subnet_name, self.subnet_cidr)?;
        writeln!(
            f,
            "  internet  {} (public address per machine, default route)",
            self.gateway_name
        )?;
        for rule in &self.rules {
            let ports = if rule.ports.is_empty() {
                "all ports".to_string()
            } else {
                rule.ports
                    .iter()
                    .map(|(a, b)| {
                        if a == b {
                            a.to_string()
                        } else {
                            format!("{a}-{b}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let target = match rule.target {
                Target::AllNodes => "all nodes".to_string(),
                Target::Role(role) => format!("{}s", role.label()),
            };
            writeln!(
                f,
                "  firewall  {:<14} {} {} from {} to {}",
                rule.name,
                rule.protocol.as_str(),
                ports,
                rule.sources.join(","),
                target
            )?;
        }
        writeln!(
            f,
            "  ssh key   {} ({})",
            self.key_name,
            s.ssh_public_key_path.display()
        )?;
        for m in &self.machines {
            writeln!(
                f,
                "  machine   {:<24} {:<13} {} {} GiB, {}",
                m.name,
                m.role.label(),
                m.instance_type,
                m.disk_gib,
                s.image.as_deref().unwrap_or(&s.os)
            )?;
        }
        write!(
            f,
            "  tags      {}={} {}={}",
            TAG_CLUSTER, s.cluster_name, TAG_CLUSTER_ID, s.cluster_id
        )
    }
}

pub fn describe_location(location: &crate::spec::Location) -> String {
    use crate::spec::Location;
    match location {
        Location::Aws { region } => format!("region {region}"),
        Location::Azure {
            location,
            resource_group,
            ..
        } => format!("location {location}, resource group {resource_group}"),
        Location::Gcp { project, zone } => format!("project {project}, zone {zone}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ClusterSpec, Counts, Location, PerRole, ProviderKind};

    fn spec(masters: u32, agents: u32, public_agents: u32) -> ClusterSpec {
        ClusterSpec {
            cluster_name: "demo".into(),
            cluster_id: "0a1b2c3d".into(),
            ssh_user: "ops".into(),
            provider: ProviderKind::Aws,
            location: Location::Aws {
                region: "eu-west-1".into(),
            },
            os: "rocky-9".into(),
            image: None,
            ssh_public_key_path: "id.pub".into(),
            ssh_public_key: "ssh-ed25519 AAAA".into(),
            admin_cidrs: vec!["203.0.113.0/24".into()],
            network_cidr: "10.0.0.0/16".into(),
            instance_types: PerRole {
                bootstrap: "b".into(),
                master: "m".into(),
                agent: "a".into(),
                public_agent: "p".into(),
            },
            counts: Counts {
                masters,
                agents,
                public_agents,
            },
            disk_gib: PerRole {
                bootstrap: 60,
                master: 120,
                agent: 60,
                public_agent: 60,
            },
        }
    }

    #[test]
    fn machines_are_named_per_role_with_their_sizes() {
        let plan = plan(&spec(3, 2, 0));
        let names: Vec<&str> = plan.machines.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "demo-bootstrap",
                "demo-master-1",
                "demo-master-2",
                "demo-master-3",
                "demo-agent-1",
                "demo-agent-2"
            ]
        );
        let m = &plan.machines[1];
        assert_eq!(
            (m.role, m.instance_type.as_str(), m.disk_gib),
            (Role::Master, "m", 120)
        );
        assert_eq!(plan.subnet_cidr, "10.0.1.0/24");
    }

    #[test]
    fn only_admins_reach_ssh_and_ui_and_the_world_only_public_agents() {
        let plan = plan(&spec(1, 1, 1));
        for rule in &plan.rules {
            let world = rule.sources.iter().any(|s| s == "0.0.0.0/0");
            assert_eq!(
                world,
                rule.target == Target::Role(Role::PublicAgent),
                "{rule:?}"
            );
        }
        let ssh = plan
            .rules
            .iter()
            .find(|r| r.name == "ssh")
            .expect("ssh rule");
        assert_eq!(
            (ssh.ports.clone(), ssh.sources.clone(), ssh.target),
            (
                vec![(22, 22)],
                vec!["203.0.113.0/24".to_string()],
                Target::AllNodes
            )
        );
        // From outside the cluster's network a master opens SSH and the gateway (HTTPS 443,
        // HTTP 80 redirecting), to admins only: nothing else of the control plane.
        let mut outside: Vec<(u16, u16)> = plan
            .rules
            .iter()
            .filter(|r| r.sources != vec![plan.spec.network_cidr.clone()])
            .filter(|r| matches!(r.target, Target::AllNodes | Target::Role(Role::Master)))
            .inspect(|r| assert_eq!(r.sources, vec!["203.0.113.0/24".to_string()], "{r:?}"))
            .flat_map(|r| r.ports.clone())
            .collect();
        outside.sort_unstable();
        assert_eq!(outside, vec![(22, 22), (80, 80), (443, 443)]);
        assert_eq!(plan.targets_for(Role::Agent), vec![Target::AllNodes]);
        assert_eq!(
            plan.targets_for(Role::PublicAgent),
            vec![Target::AllNodes, Target::Role(Role::PublicAgent)]
        );
        assert_eq!(
            plan.firewall_name(Target::Role(Role::PublicAgent)),
            "demo-public-agents"
        );
        let mut priorities: Vec<u16> = plan.rules.iter().map(|r| r.priority).collect();
        priorities.dedup();
        assert_eq!(
            priorities.len(),
            plan.rules.len(),
            "Azure needs unique priorities"
        );
    }
}
