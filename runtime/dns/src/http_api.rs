//! Mesos-DNS's HTTP API, which DC/OS served at `/mesos_dns/` (the gateway does): the same
//! answers as the DNS server, as JSON, computed from one [`DnsSnapshot`] by `records::lookup`.

use std::collections::BTreeMap;

use hickory_proto::rr::{Name, RData, RecordType};
use serde_json::{json, Value};

use crate::names::{app_label, FRAMEWORK};
use crate::records::{lookup, Answer};
use crate::view::DnsSnapshot;

/// The answer for `path` (`/v1/version`, `/v1/enumerate`, `/v1/hosts/{name}`,
/// `/v1/services/{name}`); `None` for any other path.
pub fn answer(snapshot: &DnsSnapshot, domain: &str, path: &str) -> Option<Value> {
    let path = path.trim_end_matches('/');
    if path == "/v1/version" {
        return Some(json!({
            "Service": "strato-dns",
            "URL": "",
            "Version": env!("CARGO_PKG_VERSION"),
        }));
    }
    if path == "/v1/enumerate" {
        return Some(enumerate(snapshot, domain));
    }
    if let Some(name) = path.strip_prefix("/v1/hosts/") {
        return Some(hosts(snapshot, domain, name));
    }
    if let Some(name) = path.strip_prefix("/v1/services/") {
        return Some(services(snapshot, domain, name));
    }
    None
}

fn fqdn(name: &str) -> Option<Name> {
    Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).ok()
}

/// `[{"host", "ip"}]`; Mesos-DNS answers one empty pair for an unknown name.
fn hosts(snapshot: &DnsSnapshot, domain: &str, name: &str) -> Value {
    let found: Vec<Value> = fqdn(name)
        .and_then(|n| lookup(snapshot, domain, &n, RecordType::A))
        .map(|answer| match answer {
            Answer::Records { answers, .. } => answers
                .iter()
                .filter_map(|r| match &r.data {
                    RData::A(a) => Some(json!({"host": name, "ip": a.0.to_string()})),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    if found.is_empty() {
        return json!([{"host": "", "ip": ""}]);
    }
    Value::Array(found)
}

/// `[{"service", "host", "ip", "port"}]`, one per SRV record; one empty entry when none.
fn services(snapshot: &DnsSnapshot, domain: &str, name: &str) -> Value {
    let found: Vec<Value> = fqdn(name)
        .and_then(|n| lookup(snapshot, domain, &n, RecordType::SRV))
        .map(|answer| match answer {
            Answer::Records {
                answers,
                additionals,
            } => {
                let glue: BTreeMap<String, String> = additionals
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::A(a) => Some((r.name.to_ascii(), a.0.to_string())),
                        _ => None,
                    })
                    .collect();
                answers
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::SRV(srv) => {
                            let host = srv.target.to_ascii();
                            Some(json!({
                                "service": name,
                                "ip": glue.get(&host).cloned().unwrap_or_default(),
                                "host": host,
                                "port": srv.port.to_string(),
                            }))
                        }
                        _ => None,
                    })
                    .collect()
            }
            _ => Vec::new(),
        })
        .unwrap_or_default();
    if found.is_empty() {
        return json!([{"service": "", "host": "", "ip": "", "port": ""}]);
    }
    Value::Array(found)
}

/// Every app's A records, grouped as Mesos-DNS groups them under its framework.
fn enumerate(snapshot: &DnsSnapshot, domain: &str) -> Value {
    let domain = domain.trim_end_matches('.');
    let mut apps: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for task in snapshot.tasks.iter().filter(|t| t.running) {
        let label = app_label(&task.app_id);
        apps.entry(task.app_id.clone()).or_default().push(json!({
            "name": format!("{label}.{FRAMEWORK}.{domain}."),
            "host": task.host.to_string(),
            "rtype": "A",
        }));
    }
    let tasks: Vec<Value> = apps
        .into_iter()
        .map(|(id, records)| json!({"name": app_label(&id), "id": id, "records": records}))
        .collect();
    json!({"frameworks": [{"name": FRAMEWORK, "tasks": tasks}]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DnsTask;
    use std::net::Ipv4Addr;

    fn snapshot() -> DnsSnapshot {
        DnsSnapshot {
            leader: Some(Ipv4Addr::new(10, 0, 0, 1)),
            masters: vec![Ipv4Addr::new(10, 0, 0, 1)],
            tasks: vec![DnsTask {
                app_id: "/web".into(),
                host: Ipv4Addr::new(10, 0, 1, 1),
                ports: vec![31000],
                running: true,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn hosts_services_and_enumerate_answer_as_mesos_dns() {
        let s = snapshot();
        assert_eq!(
            answer(&s, "strato", "/v1/hosts/web.marathon.strato"),
            Some(json!([{"host": "web.marathon.strato", "ip": "10.0.1.1"}]))
        );
        assert_eq!(
            answer(&s, "strato", "/v1/hosts/nothing.marathon.strato"),
            Some(json!([{"host": "", "ip": ""}]))
        );
        let srv = answer(&s, "strato", "/v1/services/_web._tcp.marathon.strato").expect("srv");
        assert_eq!(srv[0]["port"], "31000");
        assert_eq!(srv[0]["ip"], "10.0.1.1");
        let all = answer(&s, "strato", "/v1/enumerate").expect("enumerate");
        assert_eq!(all["frameworks"][0]["tasks"][0]["id"], "/web");
        assert_eq!(answer(&s, "strato", "/v1/other"), None);
    }
}
