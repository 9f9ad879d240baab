//! The seam between the DNS server and whoever knows the cluster's state (the master).

use std::net::Ipv4Addr;

/// Where the server reads the cluster's state for every query. The master implements it over its
/// in-memory state; tests use a fixed snapshot.
pub trait DnsView: Send + Sync + 'static {
    fn snapshot(&self) -> DnsSnapshot;
}

/// What the DNS names are made from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsSnapshot {
    /// `leader.<domain>`; no record while there is none.
    pub leader: Option<Ipv4Addr>,
    /// `master.<domain>`.
    pub masters: Vec<Ipv4Addr>,
    pub tasks: Vec<DnsTask>,
}

/// One Marathon task as DNS sees it. Only running tasks get records, as in Mesos-DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsTask {
    /// Marathon app id, e.g. `/group/app`.
    pub app_id: String,
    /// The agent's address.
    pub host: Ipv4Addr,
    /// Host ports, in port-definition order.
    pub ports: Vec<u16>,
    pub running: bool,
}

/// A view that always answers the same snapshot: for tests and for tools.
impl DnsView for DnsSnapshot {
    fn snapshot(&self) -> DnsSnapshot {
        self.clone()
    }
}
