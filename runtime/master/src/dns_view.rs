//! The master's state as the DNS server sees it ([`strato_dns::DnsView`]).

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use strato_dns::{DnsSnapshot, DnsTask, DnsView};

use crate::master::Master;
use crate::state::State;

/// Holds the master weakly so a stopped master is not kept alive by its DNS server. The snapshot
/// is made at most once per published copy of the state (and leader), in a large cluster at
/// most once per `DNS_REFRESH`, and shared by every query until then: at 100,000 tasks a query
/// would otherwise copy them all.
pub struct MasterDnsView {
    master: Weak<Master>,
    /// The state copy and leader the cached snapshot was made from.
    cache: Mutex<Option<Cached>>,
}

/// A snapshot, and the state copy, leader and time it was made from.
struct Cached {
    state: Arc<State>,
    leader: Option<Ipv4Addr>,
    made: Instant,
    snapshot: Arc<DnsSnapshot>,
}

impl MasterDnsView {
    pub fn new(master: &Arc<Master>) -> MasterDnsView {
        MasterDnsView {
            master: Arc::downgrade(master),
            cache: Mutex::new(None),
        }
    }

    pub fn shared(master: &Arc<Master>) -> Arc<dyn DnsView> {
        Arc::new(MasterDnsView::new(master))
    }
}

/// The most a DNS answer lags the state in a large cluster (TTLs are 5 s,
/// `runtime/dns/src/records.rs`).
const DNS_REFRESH: Duration = Duration::from_secs(1);
/// Tasks from which a snapshot is reused for up to `DNS_REFRESH` after the state changed.
const LARGE: usize = 10_000;

/// `10.0.0.1` or `10.0.0.1:5050` → the address; names are skipped.
fn ipv4(text: &str) -> Option<Ipv4Addr> {
    let host = text.rsplit_once(':').map_or(text, |(host, _)| host);
    host.parse().ok()
}

fn make(master: &Master, state: &State, leader: Option<Ipv4Addr>) -> DnsSnapshot {
    let tasks = state
        .tasks
        .values()
        // Job runs' tasks have no Marathon name to answer for.
        .filter(|t| t.is_active() && !t.is_job())
        .filter_map(|t| {
            let agent = state.agents.get(&t.agent_id)?;
            Some(DnsTask {
                app_id: t.app_id.clone(),
                host: ipv4(&agent.info.address)?,
                ports: t.ports.clone(),
                running: t.is_running() && agent.active && !t.kill_requested,
            })
        })
        .collect();
    DnsSnapshot {
        leader,
        masters: master
            .config()
            .masters
            .iter()
            .filter_map(|m| ipv4(m))
            .collect(),
        tasks,
        ..Default::default()
    }
}

impl DnsView for MasterDnsView {
    fn snapshot(&self) -> Arc<DnsSnapshot> {
        let Some(master) = self.master.upgrade() else {
            return Arc::default();
        };
        let state = master.view();
        // The leader as last seen: `leader.<domain>` follows a failover within a second.
        let leader = master
            .leader_seen
            .borrow()
            .as_ref()
            .and_then(|l| ipv4(&l.mesos));
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(Cached {
            state: seen,
            leader: seen_leader,
            made,
            snapshot,
        }) = cache.as_ref()
        {
            // The same copy; or, for a large cluster, one made less than `DNS_REFRESH` ago:
            // under a stream of status updates the state is copied 20 times a second, and a
            // snapshot of 100,000 tasks for each would be most of what DNS does (Mesos-DNS
            // refreshed every 60 s). A smaller one is made again at once (a few ms), so a name
            // answers as soon as the API shows its task running.
            let large = snapshot.tasks.len() >= LARGE;
            let fresh = Arc::ptr_eq(seen, &state) || (large && made.elapsed() < DNS_REFRESH);
            if fresh && *seen_leader == leader {
                return Arc::clone(snapshot);
            }
        }
        let snapshot = Arc::new(make(&master, &state, leader));
        *cache = Some(Cached {
            state,
            leader,
            made: Instant::now(),
            snapshot: Arc::clone(&snapshot),
        });
        snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_or_without_ports_parse() {
        assert_eq!(ipv4("10.0.0.1:5050"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(ipv4("10.0.0.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(ipv4("node-1"), None);
    }
}
