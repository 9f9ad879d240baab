//! The one seam between Strato and a cloud: [`CloudProvider`], and what it reports.
use std::fmt;
use std::future::Future;

use async_trait::async_trait;

use crate::error::Result;
use crate::topology::{Plan, Role};

/// What a machine is doing, normalised across clouds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MachineState {
    Pending,
    Running,
    Stopping,
    Stopped,
    Terminated,
    Other(String),
}

impl fmt::Display for MachineState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MachineState::Pending => f.write_str("pending"),
            MachineState::Running => f.write_str("running"),
            MachineState::Stopping => f.write_str("stopping"),
            MachineState::Stopped => f.write_str("stopped"),
            MachineState::Terminated => f.write_str("terminated"),
            MachineState::Other(s) => f.write_str(s),
        }
    }
}

/// One machine of the cluster as the cloud sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub name: String,
    pub role: Role,
    /// The cloud's id (instance id, VM resource id, instance self link).
    pub id: String,
    pub state: MachineState,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
}

impl Machine {
    /// The address the operator's machine reaches it at: public when there is one.
    pub fn address(&self) -> Option<&str> {
        self.public_ip.as_deref().or(self.private_ip.as_deref())
    }

    /// The address written into cluster.yaml for `strato deploy`. The operator reaches only the
    /// bootstrap host (public address); the bootstrap host runs the SSH fan-out and the nodes talk
    /// to each other inside the network, where the firewall allows all traffic between nodes and
    /// SSH from outside only from `admin_cidrs`: so nodes are listed by private address.
    pub fn deploy_address(&self) -> Option<&str> {
        match self.role {
            Role::Bootstrap => self.address(),
            _ => self.private_ip.as_deref().or(self.public_ip.as_deref()),
        }
    }
}

/// Kinds of resources, in creation order; destroy walks them backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResourceKind {
    ResourceGroup,
    Network,
    Gateway,
    Subnet,
    RouteTable,
    Firewall,
    SshKey,
    PublicIp,
    NetworkInterface,
    Machine,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::ResourceGroup => "resource group",
            ResourceKind::Network => "network",
            ResourceKind::Gateway => "internet gateway",
            ResourceKind::Subnet => "subnet",
            ResourceKind::RouteTable => "route table",
            ResourceKind::Firewall => "firewall",
            ResourceKind::SshKey => "ssh key",
            ResourceKind::PublicIp => "public ip",
            ResourceKind::NetworkInterface => "network interface",
            ResourceKind::Machine => "machine",
        }
    }
}

/// A resource the provider made, found, or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub kind: ResourceKind,
    pub name: String,
    pub id: String,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.id.is_empty() || self.id == self.name {
            write!(f, "{} {}", self.kind.as_str(), self.name)
        } else {
            write!(f, "{} {} ({})", self.kind.as_str(), self.name, self.id)
        }
    }
}

/// The result of `create`: what was made now, what was already there, and the machines.
#[derive(Debug, Clone, Default)]
pub struct CreateReport {
    pub created: Vec<Resource>,
    pub existing: Vec<Resource>,
    pub machines: Vec<Machine>,
}

impl CreateReport {
    /// Note one resource `ensure_<kind>` returned: made now, or already there.
    pub(crate) fn note(&mut self, kind: ResourceKind, name: &str, id: &str, created: bool) {
        let r = Resource {
            kind,
            name: name.to_string(),
            id: id.to_string(),
        };
        if created {
            self.created.push(r);
        } else {
            self.existing.push(r);
        }
    }
}

/// The step every provider takes per resource: use the one `found`, else make it with `create`.
/// Returns the resource and whether it was made now, so `create` is safe to repeat.
pub(crate) async fn found_or_create<T, Fut>(
    found: Option<T>,
    create: impl FnOnce() -> Fut,
) -> Result<(T, bool)>
where
    Fut: Future<Output = Result<T>>,
{
    match found {
        Some(existing) => Ok((existing, false)),
        None => Ok((create().await?, true)),
    }
}

/// The result of `destroy`: deleted resources and those that could not be deleted, with why.
#[derive(Debug, Clone, Default)]
pub struct DestroyReport {
    pub deleted: Vec<Resource>,
    pub failed: Vec<(Resource, String)>,
}

impl DestroyReport {
    /// Record one `delete_<kind>` outcome: deleted, or left behind with why.
    pub(crate) fn record<T, E: fmt::Display>(
        &mut self,
        kind: ResourceKind,
        name: &str,
        id: &str,
        result: Result<T, E>,
    ) {
        let r = Resource {
            kind,
            name: name.to_string(),
            id: id.to_string(),
        };
        match result {
            Ok(_) => self.deleted.push(r),
            Err(e) => self.failed.push((r, e.to_string())),
        }
    }
}

/// One cloud. Implementations find their resources by the plan's tags, so every call is safe to
/// repeat: `create` makes only what is missing, `destroy` deletes only what is tagged.
#[async_trait]
pub trait CloudProvider: Send + Sync {
    /// `aws`, `azure` or `gcp`.
    fn name(&self) -> &'static str;
    /// Make every resource of `plan` that does not exist yet, and wait until the machines run.
    async fn create(&self, plan: &Plan) -> Result<CreateReport>;
    /// The cluster's machines (not yet deleted), in plan order where names match.
    async fn status(&self, plan: &Plan) -> Result<Vec<Machine>>;
    /// Delete everything tagged with the cluster's id, in reverse dependency order, continuing past
    /// failures so the report names everything left behind.
    async fn destroy(&self, plan: &Plan) -> Result<DestroyReport>;
}

/// Sort machines into plan order (bootstrap, masters, agents, public agents; by name within).
pub fn sort_machines(machines: &mut [Machine]) {
    machines.sort_by(|a, b| {
        a.role
            .cmp(&b.role)
            .then_with(|| natural_key(&a.name).cmp(&natural_key(&b.name)))
    });
}

/// `x-master-10` after `x-master-9`.
fn natural_key(name: &str) -> (String, u64) {
    let digits: String = name
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let stem = name[..name.len() - digits.len()].to_string();
    (stem, digits.parse().unwrap_or(0))
}
