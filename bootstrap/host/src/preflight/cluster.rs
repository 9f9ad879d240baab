//! Checks across all hosts: a value that must be unique in the cluster (detected IP, hostname,
//! machine-id) and clocks that agree. Cloned VM images are the usual cause of duplicates.

use std::collections::BTreeMap;

use crate::facts::Facts;

use super::{names, CheckResult, Status, Waivers};

/// Clocks further than this from the cluster's median fail (k0sctl's limit).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 30;

/// A cluster-wide result for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCheck {
    /// The host's name as given to [`check_cluster`].
    pub host: String,
    pub result: CheckResult,
}

/// Uniqueness and clock checks over every host's facts, four results per host, waivers
/// applied. Pure. Hosts whose fact is unknown get a WARN for that check.
pub fn check_cluster(hosts: &[(&str, &Facts)], waivers: &Waivers) -> Vec<HostCheck> {
    let detected_ip = |f: &Facts| {
        f.ip_detect
            .as_ref()
            .map(|d| d.output.trim().to_string())
            .filter(|s| !s.is_empty() && !s.contains('\n'))
    };
    let mut out = Vec::new();
    out.extend(unique(hosts, names::UNIQUE_IP, "detected IP", detected_ip));
    out.extend(unique(hosts, names::UNIQUE_HOSTNAME, "hostname", |f| {
        f.hostname.clone()
    }));
    out.extend(unique(hosts, names::UNIQUE_MACHINE_ID, "machine-id", |f| {
        f.machine_id.clone()
    }));
    out.extend(clock_skew(hosts));
    for hc in out.iter_mut() {
        waivers.apply(std::slice::from_mut(&mut hc.result));
    }
    out
}

fn unique(
    hosts: &[(&str, &Facts)],
    name: &str,
    what: &str,
    value: impl Fn(&Facts) -> Option<String>,
) -> Vec<HostCheck> {
    let mut owners: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (host, facts) in hosts {
        if let Some(v) = value(facts) {
            owners.entry(v).or_default().push(host);
        }
    }
    let required = format!("{what} unique in the cluster");
    hosts
        .iter()
        .map(|(host, facts)| {
            let result = match value(facts) {
                None => CheckResult::new(
                    name,
                    Status::Warn,
                    "unknown",
                    &required,
                    format!("no {what} to compare"),
                ),
                Some(v) => {
                    let others: Vec<&str> =
                        owners[&v].iter().copied().filter(|h| h != host).collect();
                    if others.is_empty() {
                        CheckResult::new(name, Status::Pass, v, &required, "")
                    } else {
                        CheckResult::new(
                            name,
                            Status::Fail,
                            v,
                            &required,
                            format!("same {what} as {}", others.join(", ")),
                        )
                    }
                }
            };
            HostCheck {
                host: host.to_string(),
                result,
            }
        })
        .collect()
}

fn clock_skew(hosts: &[(&str, &Facts)]) -> Vec<HostCheck> {
    let mut clocks: Vec<i64> = hosts.iter().filter_map(|(_, f)| f.epoch_seconds).collect();
    clocks.sort_unstable();
    let median = clocks.get(clocks.len() / 2).copied();
    let required = format!("within {MAX_CLOCK_SKEW_SECONDS} s of the cluster median");
    hosts
        .iter()
        .map(|(host, f)| {
            let result = match (f.epoch_seconds, median) {
                (Some(t), Some(m)) => {
                    let skew = t - m;
                    let measured = format!("{skew:+} s");
                    if skew.abs() <= MAX_CLOCK_SKEW_SECONDS {
                        CheckResult::new(names::CLOCK_SKEW, Status::Pass, measured, &required, "")
                    } else {
                        CheckResult::new(
                            names::CLOCK_SKEW,
                            Status::Fail,
                            measured,
                            &required,
                            "this host's clock is off: synchronise it (chronyd, systemd-timesyncd)",
                        )
                    }
                }
                _ => CheckResult::new(
                    names::CLOCK_SKEW,
                    Status::Warn,
                    "unknown",
                    &required,
                    "could not read the clock",
                ),
            };
            HostCheck {
                host: host.to_string(),
                result,
            }
        })
        .collect()
}
