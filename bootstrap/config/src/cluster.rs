//! [`Cluster`]: the whole of `cluster.yaml`, and the roles a host can have.
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Cloud, Gateway, Hardware, Host, Network, Runtime, Ssh};

/// One cluster, as described by `cluster.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// The cluster's name: lower-case letters, digits and `-`, starting with a letter, at most 63
    /// characters (it becomes part of DNS names and cloud resource names).
    pub cluster_name: String,
    /// Where nodes fetch their install files: a host address, or `local` for the machine running
    /// `strato`. May be left out only when `cloud` is set (`strato cloud create` fills it in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<Bootstrap>,
    /// How `strato` reaches every host; a host entry may override `user`, `port` and `key_path`.
    #[serde(default)]
    pub ssh: Ssh,
    /// 1, 3, 5, 7 or 9 masters (a quorum needs an odd number). May be empty only when `cloud` is set.
    #[serde(default)]
    pub masters: Vec<Host>,
    /// Private agents: they run apps. May be empty (the masters then run nothing).
    #[serde(default)]
    pub agents: Vec<Host>,
    /// Public agents: agents reachable from outside, for load balancers and edge apps.
    #[serde(default)]
    pub public_agents: Vec<Host>,
    /// The hardware each node must have (checked by preflight).
    #[serde(default)]
    pub hardware: Hardware,
    #[serde(default)]
    pub network: Network,
    #[serde(default, skip_serializing_if = "Runtime::is_unset")]
    pub runtime: Runtime,
    /// The gateway (Admin Router) on every master: HTTPS with a login.
    #[serde(default, skip_serializing_if = "Gateway::is_default")]
    pub gateway: Gateway,
    /// Cloud machines for `strato cloud create`; absent for machines you already have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<Cloud>,
}

/// Where nodes fetch their install files from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// The machine running `strato` serves the files itself.
    Local,
    /// A separate bootstrap host (IP address or host name).
    Host(String),
}

impl Bootstrap {
    pub const LOCAL: &'static str = "local";

    /// Read the `bootstrap:` value; any text other than `local` is an address (checked later).
    pub fn parse(text: &str) -> Bootstrap {
        if text == Self::LOCAL {
            Bootstrap::Local
        } else {
            Bootstrap::Host(text.to_string())
        }
    }
}

impl fmt::Display for Bootstrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bootstrap::Local => f.write_str(Self::LOCAL),
            Bootstrap::Host(address) => f.write_str(address),
        }
    }
}

impl Serialize for Bootstrap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Bootstrap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Bootstrap::parse(&s))
    }
}

impl JsonSchema for Bootstrap {
    fn schema_name() -> String {
        "Bootstrap".into()
    }

    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        let mut schema = String::json_schema(gen).into_object();
        schema.metadata().description =
            Some("`local`, or the IP address or host name of the bootstrap host".into());
        schema.into()
    }
}

/// The part a node plays in the cluster: the one role type of the whole toolkit (config, job
/// API, preflight ports, cloud machines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Bootstrap,
    Master,
    Agent,
    PublicAgent,
}

impl Role {
    /// Every role, in install order.
    pub const ALL: [Role; 4] = [
        Role::Bootstrap,
        Role::Master,
        Role::Agent,
        Role::PublicAgent,
    ];

    /// The `cluster.yaml` key listing hosts of this role.
    pub fn key(self) -> &'static str {
        match self {
            Role::Bootstrap => "bootstrap",
            Role::Master => "masters",
            Role::Agent => "agents",
            Role::PublicAgent => "public_agents",
        }
    }

    /// The machine form (`public_agent`): JSON, the argument `install.sh` takes, tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Bootstrap => "bootstrap",
            Role::Master => "master",
            Role::Agent => "agent",
            Role::PublicAgent => "public_agent",
        }
    }

    /// The DNS-label form (`public-agent`): machine names and cloud tags, valid on every cloud.
    pub fn label(self) -> &'static str {
        match self {
            Role::Bootstrap => "bootstrap",
            Role::Master => "master",
            Role::Agent => "agent",
            Role::PublicAgent => "public-agent",
        }
    }

    /// The role a [`Role::label`] names.
    pub fn from_label(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.label() == value)
    }
}

/// The human form (`public agent`), for messages.
impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Bootstrap => "bootstrap",
            Role::Master => "master",
            Role::Agent => "agent",
            Role::PublicAgent => "public agent",
        })
    }
}

impl Cluster {
    /// The valid master counts: an odd number for a quorum, as in DC/OS.
    pub const MASTER_COUNTS: [usize; 5] = [1, 3, 5, 7, 9];

    /// The hosts of one node role (not `Bootstrap`, which is not a list).
    pub fn hosts(&self, role: Role) -> &[Host] {
        match role {
            Role::Master => &self.masters,
            Role::Agent => &self.agents,
            Role::PublicAgent => &self.public_agents,
            Role::Bootstrap => &[],
        }
    }

    /// Every node with its role, masters first (the order deploy uses).
    pub fn nodes(&self) -> impl Iterator<Item = (Role, &Host)> {
        [Role::Master, Role::Agent, Role::PublicAgent]
            .into_iter()
            .flat_map(move |role| self.hosts(role).iter().map(move |h| (role, h)))
    }

    /// One line for humans: `demo: 1 master, 2 agents, 0 public agents` (for a cloud cluster whose
    /// machines do not exist yet: `… to create on aws`).
    pub fn summary(&self) -> String {
        fn count(n: usize, one: &str, many: &str) -> String {
            format!("{n} {}", if n == 1 { one } else { many })
        }
        let (masters, agents, public_agents, tail) = match &self.cloud {
            Some(cloud) if self.masters.is_empty() => {
                let c = cloud.counts;
                let tail = format!(" to create on {}", cloud.provider);
                (c.masters, c.agents, c.public_agents, tail)
            }
            _ => (
                self.masters.len(),
                self.agents.len(),
                self.public_agents.len(),
                String::new(),
            ),
        };
        format!(
            "{}: {}, {}, {}{tail}",
            self.cluster_name,
            count(masters, "master", "masters"),
            count(agents, "agent", "agents"),
            count(public_agents, "public agent", "public agents"),
        )
    }
}
