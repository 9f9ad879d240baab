//! The seam between the DNS server and whoever knows the cluster's state (the master).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, OnceLock};

use crate::names::{app_label, host_label};

/// Where the server reads the cluster's state for every query. The master implements it over its
/// in-memory state (one snapshot per change of the state, shared by the queries until the next);
/// tests use a fixed snapshot.
pub trait DnsView: Send + Sync + 'static {
    fn snapshot(&self) -> Arc<DnsSnapshot>;
}

/// What the DNS names are made from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsSnapshot {
    /// `leader.<domain>`; no record while there is none.
    pub leader: Option<Ipv4Addr>,
    /// `master.<domain>`.
    pub masters: Vec<Ipv4Addr>,
    pub tasks: Vec<DnsTask>,
    /// Running tasks by name, made at the first query of this snapshot: a query then costs its
    /// own app's tasks, not every task of the cluster.
    pub index: NameIndex,
}

/// Indexes of `DnsSnapshot::tasks`, derived from them (so two snapshots with the same tasks are
/// equal whether or not either was indexed yet).
#[derive(Debug, Clone, Default)]
pub struct NameIndex(OnceLock<Names>);

#[derive(Debug, Clone, Default)]
struct Names {
    /// `app_label` → running tasks.
    by_app: HashMap<String, Vec<usize>>,
    /// `host_label(app_label, host)` → running tasks.
    by_app_host: HashMap<String, Vec<usize>>,
}

impl PartialEq for NameIndex {
    fn eq(&self, _: &NameIndex) -> bool {
        true
    }
}

impl Eq for NameIndex {}

impl DnsSnapshot {
    fn names(&self) -> &Names {
        self.index.0.get_or_init(|| {
            let mut names = Names::default();
            for (i, task) in self.tasks.iter().enumerate().filter(|(_, t)| t.running) {
                let app = app_label(&task.app_id);
                names
                    .by_app_host
                    .entry(host_label(&app, task.host))
                    .or_default()
                    .push(i);
                names.by_app.entry(app).or_default().push(i);
            }
            names
        })
    }

    /// Running tasks of the app labelled `label` (`web-shop` for `/shop/web`).
    pub fn running_of(&self, label: &str) -> impl Iterator<Item = &DnsTask> {
        self.names()
            .by_app
            .get(label)
            .into_iter()
            .flatten()
            .map(|i| &self.tasks[*i])
    }

    /// Running tasks whose `<app>-<agent ip>` label is `label`.
    pub fn running_on(&self, label: &str) -> impl Iterator<Item = &DnsTask> {
        self.names()
            .by_app_host
            .get(label)
            .into_iter()
            .flatten()
            .map(|i| &self.tasks[*i])
    }
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
    fn snapshot(&self) -> Arc<DnsSnapshot> {
        Arc::new(self.clone())
    }
}
