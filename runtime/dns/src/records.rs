//! Answers for names inside the cluster's domain, computed from one [`DnsSnapshot`].

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use hickory_proto::rr::rdata::{A, SOA, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::names::{classify, host_label, Target, FRAMEWORK};
use crate::view::DnsSnapshot;

/// Short, because answers come from live state rather than a periodic refresh (Mesos-DNS uses 60 s
/// with a 60 s refresh; a local cluster changes within seconds).
pub const TTL: u32 = 5;

/// The outcome of a lookup inside the domain.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Records for the answer section, plus glue for the additional section.
    Records {
        answers: Vec<Record>,
        additionals: Vec<Record>,
    },
    /// The name exists but has no records of the asked type.
    NoData,
    /// The name does not exist.
    NxDomain,
}

/// Looks `name` up in `snapshot`; `None` when the name is outside `domain`.
pub fn lookup(
    snapshot: &DnsSnapshot,
    domain: &str,
    name: &Name,
    rtype: RecordType,
) -> Option<Answer> {
    let target = classify(&name.to_ascii(), domain)?;
    let hosts = match &target {
        Target::Apex => {
            return Some(if rtype == RecordType::SOA {
                Answer::Records {
                    answers: vec![soa(domain)],
                    additionals: vec![],
                }
            } else {
                Answer::NoData
            })
        }
        Target::Leader => snapshot.leader.into_iter().collect(),
        Target::Masters => snapshot
            .masters
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        Target::App(label) => app_hosts(snapshot, label),
        Target::AppAgent(label) => agent_hosts(snapshot, label),
        Target::Service { app, proto } => {
            return Some(service(snapshot, domain, name, app, proto, rtype));
        }
        Target::Unknown => Vec::new(),
    };
    if hosts.is_empty() {
        return Some(Answer::NxDomain);
    }
    if rtype != RecordType::A && rtype != RecordType::ANY {
        return Some(Answer::NoData);
    }
    let answers = hosts
        .into_iter()
        .map(|ip| a_record(name.clone(), ip))
        .collect();
    Some(Answer::Records {
        answers,
        additionals: vec![],
    })
}

/// The zone's SOA, sent in the authority section of negative answers so resolvers cache them.
pub fn soa(domain: &str) -> Record {
    let zone = zone_name(domain);
    let mname =
        Name::from_ascii(format!("ns1.{}", zone.to_ascii())).unwrap_or_else(|_| zone.clone());
    let rname =
        Name::from_ascii(format!("root.ns1.{}", zone.to_ascii())).unwrap_or_else(|_| zone.clone());
    Record::from_rdata(
        zone,
        TTL,
        RData::SOA(SOA::new(mname, rname, 1, 60, 30, 86_400, TTL)),
    )
}

/// `<domain>.` as a fully qualified name (falls back to the root for an invalid domain, which
/// [`crate::serve`] rejects before it gets here).
pub fn zone_name(domain: &str) -> Name {
    let fqdn = format!("{}.", domain.trim_end_matches('.'));
    Name::from_ascii(fqdn).unwrap_or_else(|_| Name::root())
}

fn a_record(name: Name, ip: Ipv4Addr) -> Record {
    Record::from_rdata(name, TTL, RData::A(A(ip)))
}

/// Hosts of the app's running tasks, each once, in a stable order.
fn app_hosts(snapshot: &DnsSnapshot, label: &str) -> Vec<Ipv4Addr> {
    running(snapshot, label)
        .map(|t| t.host)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// `<label>.marathon.slave` names the app's agents; `<label>-<ip>.marathon.slave` one of them.
fn agent_hosts(snapshot: &DnsSnapshot, label: &str) -> Vec<Ipv4Addr> {
    let by_app = app_hosts(snapshot, label);
    if !by_app.is_empty() {
        return by_app;
    }
    snapshot
        .running_on(label)
        .map(|t| t.host)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn running<'a>(
    snapshot: &'a DnsSnapshot,
    label: &'a str,
) -> impl Iterator<Item = &'a crate::DnsTask> + 'a {
    snapshot.running_of(label)
}

/// SRV records, one per running task and port, targeting `<app>-<ip>.marathon.slave.<domain>`
/// with the matching A records as glue. Ports are TCP ports (Marathon's default protocol), so
/// `_udp` names exist but hold no records.
fn service(
    snapshot: &DnsSnapshot,
    domain: &str,
    name: &Name,
    app: &str,
    proto: &str,
    rtype: RecordType,
) -> Answer {
    let tasks: Vec<_> = running(snapshot, app).collect();
    if tasks.is_empty() || (proto != "tcp" && proto != "udp") {
        return Answer::NxDomain;
    }
    if proto != "tcp" || (rtype != RecordType::SRV && rtype != RecordType::ANY) {
        return Answer::NoData;
    }
    let mut answers = Vec::new();
    let mut glue = BTreeSet::new();
    for task in tasks {
        let target = format!(
            "{}.{FRAMEWORK}.slave.{}.",
            host_label(app, task.host),
            domain.trim_end_matches('.')
        );
        let Ok(target) = Name::from_ascii(&target) else {
            continue;
        };
        for &port in &task.ports {
            let srv = SRV::new(0, 1, port, target.clone());
            answers.push(Record::from_rdata(name.clone(), TTL, RData::SRV(srv)));
        }
        glue.insert((target, task.host));
    }
    if answers.is_empty() {
        return Answer::NoData;
    }
    let additionals = glue.into_iter().map(|(n, ip)| a_record(n, ip)).collect();
    Answer::Records {
        answers,
        additionals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DnsTask;

    fn snapshot() -> DnsSnapshot {
        DnsSnapshot {
            leader: Some(Ipv4Addr::new(10, 0, 0, 1)),
            masters: vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)],
            tasks: vec![
                DnsTask {
                    app_id: "/prod/web".into(),
                    host: Ipv4Addr::new(10, 0, 1, 1),
                    ports: vec![31000, 31001],
                    running: true,
                },
                DnsTask {
                    app_id: "/prod/web".into(),
                    host: Ipv4Addr::new(10, 0, 1, 2),
                    ports: vec![31005],
                    running: true,
                },
                DnsTask {
                    app_id: "/prod/web".into(),
                    host: Ipv4Addr::new(10, 0, 1, 3),
                    ports: vec![31009],
                    running: false,
                },
            ],
            ..Default::default()
        }
    }

    fn name(s: &str) -> Name {
        Name::from_ascii(s).expect("name")
    }

    fn ips(answer: Option<Answer>) -> Vec<Ipv4Addr> {
        match answer {
            Some(Answer::Records { answers, .. }) => answers
                .iter()
                .filter_map(|r| match &r.data {
                    RData::A(a) => Some(a.0),
                    _ => None,
                })
                .collect(),
            other => panic!("expected records, got {other:?}"),
        }
    }

    #[test]
    fn app_names_answer_hosts_of_running_tasks_only() {
        let got = lookup(
            &snapshot(),
            "strato",
            &name("web-prod.marathon.strato."),
            RecordType::A,
        );
        assert_eq!(
            ips(got),
            vec![Ipv4Addr::new(10, 0, 1, 1), Ipv4Addr::new(10, 0, 1, 2)]
        );
    }

    #[test]
    fn srv_lists_every_port_of_every_running_task_with_glue() {
        let got = lookup(
            &snapshot(),
            "strato",
            &name("_web-prod._tcp.marathon.strato."),
            RecordType::SRV,
        );
        let Some(Answer::Records {
            answers,
            additionals,
        }) = got
        else {
            panic!("no records: {got:?}")
        };
        let mut ports: Vec<u16> = answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(s) => Some(s.port),
                _ => None,
            })
            .collect();
        ports.sort_unstable();
        assert_eq!(ports, vec![31000, 31001, 31005]);
        assert_eq!(additionals.len(), 2);
    }

    #[test]
    fn leader_and_masters() {
        let s = snapshot();
        assert_eq!(
            ips(lookup(&s, "strato", &name("leader.strato."), RecordType::A)),
            vec![Ipv4Addr::new(10, 0, 0, 1)]
        );
        assert_eq!(
            ips(lookup(&s, "strato", &name("master.strato."), RecordType::A)).len(),
            2
        );
    }

    #[test]
    fn unknown_names_in_the_domain_do_not_exist_and_outside_names_are_not_ours() {
        let s = snapshot();
        assert_eq!(
            lookup(&s, "strato", &name("nope.marathon.strato."), RecordType::A),
            Some(Answer::NxDomain)
        );
        assert_eq!(
            lookup(&s, "strato", &name("x.y.strato."), RecordType::A),
            Some(Answer::NxDomain)
        );
        assert_eq!(
            lookup(&s, "strato", &name("example.com."), RecordType::A),
            None
        );
    }

    #[test]
    fn other_types_on_existing_names_are_empty_not_missing() {
        let got = lookup(
            &snapshot(),
            "strato",
            &name("web-prod.marathon.strato."),
            RecordType::AAAA,
        );
        assert_eq!(got, Some(Answer::NoData));
    }
}
