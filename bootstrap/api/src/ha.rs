//! The masters' `GET /strato/v1/ha` answer ([`HaStatus`]) and what postflight and `strato status`
//! conclude from every master's answer ([`agreement`]): exactly one leader, named by every
//! master, with a quorum and every etcd member healthy. Pure, so it is tested on canned JSON.

use serde::{Deserialize, Serialize};

/// The path every master serves its view on (mutual TLS, and plain on 127.0.0.1 on the node).
pub const HA_PATH: &str = "/strato/v1/ha";

/// One master's view of leadership and of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaStatus {
    pub role: HaRole,
    /// `ip:port` of the leader this master knows, or `None` while there is none.
    pub leader: Option<String>,
    /// `etcd` (3 or more masters) or `redb` (one master).
    pub store: String,
    pub quorum: bool,
    /// The etcd members as this master sees them; empty for redb.
    #[serde(default)]
    pub members: Vec<HaMember>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HaRole {
    Leader,
    Standby,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaMember {
    pub name: String,
    pub client_url: String,
    pub healthy: bool,
}

impl HaStatus {
    /// Parse a master's answer.
    pub fn parse(json: &str) -> Result<HaStatus, String> {
        serde_json::from_str(json).map_err(|e| format!("{HA_PATH} answered {e}: {}", json.trim()))
    }

    /// What keeps this one view from being a healthy etcd master among `masters` (the
    /// cluster.yaml addresses), or `Ok` when it is: etcd with a quorum, a leader named, one
    /// healthy member per master.
    pub fn settled(&self, masters: &[String]) -> Result<(), String> {
        if self.store != "etcd" {
            return Err(format!(
                "the store is {:?}, not etcd, with {} masters",
                self.store,
                masters.len()
            ));
        }
        if !self.quorum {
            return Err("etcd has no quorum".into());
        }
        let Some(leader) = &self.leader else {
            return Err("no leader elected".into());
        };
        if leader_host(leader).is_none() {
            return Err(format!("the leader {leader:?} is not ip:port"));
        }
        let sick: Vec<&str> = self
            .members
            .iter()
            .filter(|m| !m.healthy)
            .map(|m| m.name.as_str())
            .collect();
        if !sick.is_empty() {
            return Err(format!("etcd members not healthy: {}", sick.join(", ")));
        }
        let missing: Vec<&str> = masters
            .iter()
            .filter(|m| !self.members.iter().any(|x| &x.name == *m))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(format!("not etcd members: {}", missing.join(", ")));
        }
        Ok(())
    }
}

/// The host part of `ip:port` (`[v6]:port` too).
pub fn leader_host(leader: &str) -> Option<&str> {
    let (host, port) = leader.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then_some(host)
}

/// Every master's view together (`(address, view)`, one per master of cluster.yaml; a master
/// that did not answer has no entry and counts as a problem): `Ok(leader)` when exactly one
/// master says it leads, every master names it, and it is that master; otherwise every problem.
pub fn agreement(masters: &[String], views: &[(String, HaStatus)]) -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    for m in masters {
        if !views.iter().any(|(host, _)| host == m) {
            problems.push(format!("{m}: no answer from {HA_PATH}"));
        }
    }
    let leaders: Vec<&str> = views
        .iter()
        .filter(|(_, v)| v.role == HaRole::Leader)
        .map(|(host, _)| host.as_str())
        .collect();
    match leaders.len() {
        0 => problems.push("no master says it is the leader".into()),
        1 => {}
        _ => problems.push(format!(
            "{} masters say they lead: {}",
            leaders.len(),
            leaders.join(", ")
        )),
    }
    let named: Vec<(&str, Option<&str>)> = views
        .iter()
        .map(|(host, v)| (host.as_str(), v.leader.as_deref()))
        .collect();
    let first = named.first().and_then(|(_, l)| *l);
    if named.iter().any(|(_, l)| *l != first) {
        let list: Vec<String> = named
            .iter()
            .map(|(h, l)| format!("{h} names {}", l.unwrap_or("none")))
            .collect();
        problems.push(format!(
            "masters disagree on the leader: {}",
            list.join(", ")
        ));
    }
    if let ([leader], Some(named)) = (leaders.as_slice(), first) {
        if leader_host(named) != Some(*leader) {
            problems.push(format!(
                "{leader} says it leads, but the masters name {named}"
            ));
        }
    }
    match (problems.is_empty(), first) {
        (true, Some(leader)) => Ok(leader.to_string()),
        (true, None) => Err(vec!["no leader elected".into()]),
        (false, _) => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTERS: [&str; 3] = ["10.0.0.5", "10.0.0.6", "10.0.0.7"];

    fn masters() -> Vec<String> {
        MASTERS.iter().map(|m| m.to_string()).collect()
    }

    /// A master's answer as the runtime serves it.
    fn answer(role: &str, leader: &str, sick: Option<&str>) -> String {
        let members: Vec<String> = MASTERS
            .iter()
            .map(|m| {
                format!(
                    r#"{{"name":"{m}","client_url":"https://{m}:2379","healthy":{}}}"#,
                    sick != Some(*m)
                )
            })
            .collect();
        let leader = if leader.is_empty() {
            "null".to_string()
        } else {
            format!("\"{leader}\"")
        };
        format!(
            r#"{{"role":"{role}","leader":{leader},"store":"etcd","quorum":true,"members":[{}]}}"#,
            members.join(",")
        )
    }

    fn views(answers: &[(&str, String)]) -> Vec<(String, HaStatus)> {
        answers
            .iter()
            .map(|(h, json)| (h.to_string(), HaStatus::parse(json).expect("parses")))
            .collect()
    }

    #[test]
    fn one_leader_named_by_every_master_is_agreement() {
        let v = views(&[
            ("10.0.0.5", answer("standby", "10.0.0.6:5050", None)),
            ("10.0.0.6", answer("leader", "10.0.0.6:5050", None)),
            ("10.0.0.7", answer("standby", "10.0.0.6:5050", None)),
        ]);
        assert_eq!(agreement(&masters(), &v), Ok("10.0.0.6:5050".to_string()));
        for (_, view) in &v {
            assert_eq!(view.settled(&masters()), Ok(()));
        }
    }

    #[test]
    fn two_leaders_a_disagreement_or_a_silent_master_fail_naming_them() {
        let two = views(&[
            ("10.0.0.5", answer("leader", "10.0.0.5:5050", None)),
            ("10.0.0.6", answer("leader", "10.0.0.6:5050", None)),
            ("10.0.0.7", answer("standby", "10.0.0.6:5050", None)),
        ]);
        let problems = agreement(&masters(), &two).expect_err("split brain");
        assert!(
            problems
                .iter()
                .any(|p| p == "2 masters say they lead: 10.0.0.5, 10.0.0.6"),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p
                    .starts_with("masters disagree on the leader: 10.0.0.5 names 10.0.0.5:5050")),
            "{problems:?}"
        );

        let silent = views(&[
            ("10.0.0.5", answer("standby", "10.0.0.6:5050", None)),
            ("10.0.0.6", answer("leader", "10.0.0.6:5050", None)),
        ]);
        assert_eq!(
            agreement(&masters(), &silent),
            Err(vec!["10.0.0.7: no answer from /strato/v1/ha".to_string()])
        );

        let wrong = views(&[
            ("10.0.0.5", answer("leader", "10.0.0.6:5050", None)),
            ("10.0.0.6", answer("standby", "10.0.0.6:5050", None)),
            ("10.0.0.7", answer("standby", "10.0.0.6:5050", None)),
        ]);
        assert_eq!(
            agreement(&masters(), &wrong),
            Err(vec![
                "10.0.0.5 says it leads, but the masters name 10.0.0.6:5050".to_string()
            ])
        );

        let none = views(&[
            ("10.0.0.5", answer("standby", "", None)),
            ("10.0.0.6", answer("standby", "", None)),
            ("10.0.0.7", answer("standby", "", None)),
        ]);
        assert_eq!(
            agreement(&masters(), &none),
            Err(vec!["no master says it is the leader".to_string()])
        );
    }

    #[test]
    fn a_view_is_settled_only_with_quorum_a_leader_and_every_member_healthy() {
        let sick =
            HaStatus::parse(&answer("standby", "10.0.0.6:5050", Some("10.0.0.7"))).expect("parses");
        assert_eq!(
            sick.settled(&masters()),
            Err("etcd members not healthy: 10.0.0.7".into())
        );
        let mut v = HaStatus::parse(&answer("standby", "", None)).expect("parses");
        assert_eq!(v.settled(&masters()), Err("no leader elected".into()));
        v.leader = Some("10.0.0.6:5050".into());
        v.quorum = false;
        assert_eq!(v.settled(&masters()), Err("etcd has no quorum".into()));
        let redb = HaStatus::parse(r#"{"role":"leader","leader":"10.0.0.5:5050","store":"redb","quorum":true,"members":[]}"#).expect("parses");
        assert!(redb
            .settled(&masters())
            .expect_err("not etcd")
            .contains("redb"));
        let mut few = HaStatus::parse(&answer("leader", "10.0.0.5:5050", None)).expect("parses");
        few.members.pop();
        assert_eq!(
            few.settled(&masters()),
            Err("not etcd members: 10.0.0.7".into())
        );
        assert!(HaStatus::parse("404 page not found").is_err());
    }

    #[test]
    fn the_leader_host_is_the_address_before_the_port() {
        assert_eq!(leader_host("10.0.0.5:5050"), Some("10.0.0.5"));
        assert_eq!(leader_host("[fd00::1]:5050"), Some("fd00::1"));
        assert_eq!(leader_host("10.0.0.5"), None);
    }
}
