//! The master's state as the DNS server sees it ([`strato_dns::DnsView`]).

use std::net::Ipv4Addr;
use std::sync::{Arc, Weak};

use strato_dns::{DnsSnapshot, DnsTask, DnsView};

use crate::master::Master;

/// Holds the master weakly so a stopped master is not kept alive by its DNS server.
pub struct MasterDnsView(pub Weak<Master>);

impl MasterDnsView {
    pub fn shared(master: &Arc<Master>) -> Arc<dyn DnsView> {
        Arc::new(MasterDnsView(Arc::downgrade(master)))
    }
}

/// `10.0.0.1` or `10.0.0.1:5050` → the address; names are skipped.
fn ipv4(text: &str) -> Option<Ipv4Addr> {
    let host = text.rsplit_once(':').map_or(text, |(host, _)| host);
    host.parse().ok()
}

impl DnsView for MasterDnsView {
    fn snapshot(&self) -> DnsSnapshot {
        let Some(master) = self.0.upgrade() else {
            return DnsSnapshot::default();
        };
        let config = master.config();
        let state = master.view();
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
        // The leader as last seen: `leader.<domain>` follows a failover within a second.
        let leader = master
            .leader_seen
            .borrow()
            .as_ref()
            .and_then(|l| ipv4(&l.mesos));
        DnsSnapshot {
            leader,
            masters: config.masters.iter().filter_map(|m| ipv4(m)).collect(),
            tasks,
        }
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
