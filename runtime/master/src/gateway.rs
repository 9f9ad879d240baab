//! The master as the gateway sees it ([`strato_gateway::Directory`]): services by their
//! `DCOS_SERVICE_*` labels, revoked tokens, DNS records and node health, all read from the
//! published state (never the lock).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Weak};

use serde_json::{json, Value};
use strato_gateway::{Claims, Directory, Metadata, ServiceLookup};

use crate::dns_view::MasterDnsView;
use crate::master::Master;
use crate::state::State;

/// The labels DC/OS's Admin Router reads to route `/service/<name>/`.
pub const SERVICE_NAME: &str = "DCOS_SERVICE_NAME";
pub const SERVICE_PORT_INDEX: &str = "DCOS_SERVICE_PORT_INDEX";
pub const SERVICE_SCHEME: &str = "DCOS_SERVICE_SCHEME";

/// Holds the master weakly, as the DNS view does.
pub struct MasterDirectory(pub Weak<Master>);

impl MasterDirectory {
    pub fn shared(master: &Arc<Master>) -> Arc<dyn Directory> {
        Arc::new(MasterDirectory(Arc::downgrade(master)))
    }
}

/// `10.0.0.1:5051` or `10.0.0.1` → the address.
fn ip_of(address: &str) -> Option<IpAddr> {
    address
        .parse::<SocketAddr>()
        .map(|a| a.ip())
        .or_else(|_| address.parse::<IpAddr>())
        .ok()
}

/// The service's backends in `state`.
pub fn lookup(state: &State, name: &str) -> ServiceLookup {
    let Some(app) = state
        .apps
        .values()
        .find(|app| app.labels.get(SERVICE_NAME).map(String::as_str) == Some(name))
    else {
        return ServiceLookup::Unknown;
    };
    let scheme = app
        .labels
        .get(SERVICE_SCHEME)
        .map_or("http", |s| s.as_str());
    if !scheme.eq_ignore_ascii_case("http") {
        return ServiceLookup::Unsupported(format!(
            "{SERVICE_SCHEME}={scheme}: the gateway reaches services over http only"
        ));
    }
    let index = match app.labels.get(SERVICE_PORT_INDEX) {
        None => 0,
        Some(text) => match text.trim().parse::<usize>() {
            Ok(index) => index,
            Err(_) => {
                return ServiceLookup::Unsupported(format!(
                    "{SERVICE_PORT_INDEX}={text} is not a port index"
                ))
            }
        },
    };
    let checks = app.health_checks.len();
    let backends: Vec<SocketAddr> = state
        .tasks
        .values()
        .filter(|t| t.app_id == app.id && t.is_running() && !t.kill_requested)
        .filter(|t| checks == 0 || t.health_state(checks) == Some(true))
        .filter_map(|t| {
            let agent = state.agents.get(&t.agent_id).filter(|a| a.active)?;
            let ip = ip_of(&agent.info.address)?;
            Some(SocketAddr::new(ip, *t.ports.get(index)?))
        })
        .collect();
    if backends.is_empty() {
        ServiceLookup::NoHealthyTask
    } else {
        ServiceLookup::Found(backends)
    }
}

impl Directory for MasterDirectory {
    fn service(&self, name: &str) -> ServiceLookup {
        match self.0.upgrade() {
            Some(master) => lookup(&master.view(), name),
            None => ServiceLookup::Unknown,
        }
    }

    fn revoked(&self, claims: &Claims) -> bool {
        // A stopped master answers nothing anyway; refuse rather than wave through.
        let Some(master) = self.0.upgrade() else {
            return true;
        };
        let state = master.view();
        state.revocations.tokens.contains_key(&claims.jti)
            || state
                .revocations
                .users
                .get(&claims.uid)
                .is_some_and(|until| claims.iat <= *until)
    }

    fn mesos_dns(&self, path: &str) -> Option<Value> {
        let master = self.0.upgrade()?;
        let snapshot = strato_dns::DnsView::snapshot(&MasterDnsView::new(&master));
        strato_dns::http_api::answer(&snapshot, &master.config().dns_domain, path)
    }

    fn node_health(&self) -> Value {
        let role = match self.0.upgrade() {
            Some(master) if master.is_leader() => "leader",
            Some(_) => "standby",
            None => "stopped",
        };
        json!({
            "units": [{
                "id": "strato-master.service",
                "name": "Strato master",
                "health": i32::from(role == "stopped"),
                "description": format!("Marathon, Mesos endpoints and DNS ({role})"),
            }],
            "node_role": "master",
            "dcos_version": strato_runtime_types::version::runtime_version(),
        })
    }

    fn nodes(&self) -> Value {
        let Some(master) = self.0.upgrade() else {
            return json!({"nodes": []});
        };
        let state = master.view();
        let mut nodes: Vec<Value> = master
            .config()
            .masters
            .iter()
            .map(|m| json!({"host_ip": m, "role": "master", "health": 0}))
            .collect();
        nodes.extend(state.agents.values().map(|a| {
            json!({
                "host_ip": ip_of(&a.info.address).map(|ip| ip.to_string()).unwrap_or_default(),
                "hostname": a.info.hostname,
                "role": if a.info.role == strato_proto::ROLE_PUBLIC { "agent_public" } else { "agent" },
                "health": i32::from(!a.active),
                "version": a.info.version,
            })
        }));
        json!({"nodes": nodes})
    }

    fn metadata(&self) -> Metadata {
        let master = self.0.upgrade();
        Metadata {
            cluster_id: master
                .as_ref()
                .map(|m| m.view().cluster_id.clone())
                .unwrap_or_default(),
            public_ip: master
                .as_ref()
                .map(|m| m.config().advertise_ip.clone())
                .unwrap_or_default(),
            version: strato_runtime_types::version::runtime_version(),
        }
    }
}
