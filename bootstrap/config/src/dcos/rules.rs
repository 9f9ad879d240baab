//! DC/OS 1.13's validation in genconf scope (dcos/dcos gen/calc.py, gen/build_deploy/bash.py),
//! plus the list checks of its SSH scope (agent lists): the same verdict, with DC/OS's key names
//! and messages. See `docs/dcos-installer-notes.md` §Validation rules.
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::keys;
use super::Config;

const DISCOVERY: &[&str] = &["static", "master_http_loadbalancer"];
const BACKENDS: &[&str] = &[
    "static",
    "zookeeper",
    "aws_s3",
    "azure",
    "shared_filesystem",
    "agent_only_group_no_exhibitor",
];
pub(super) const LISTS: [&str; 3] = ["master_list", "agent_list", "public_agent_list"];

pub(super) fn check(c: &mut Config) {
    required(c);
    if let Some(url) = c.get("bootstrap_url") {
        if url.len() <= 1 {
            c.error(
                "bootstrap_url",
                "Should be a url (http://example.com/bar or file:///path/to/local/cache)",
            );
        } else if url.ends_with('/') {
            c.error("bootstrap_url", "Must not end in a '/'");
        }
    }
    let discovery = c.get("master_discovery");
    if let Some(d) = &discovery {
        one_of(c, "master_discovery", d, DISCOVERY);
    }
    lists(c);
    num_masters(c, discovery.as_deref());
    exhibitor(c, discovery.as_deref());
    resolvers(c);
    booleans(c);
    for key in ["dcos_version", "marathon_port", "custom_auth"] {
        if c.has(key) {
            c.error(key, format!("{key} must be calculated, but was explicitly set in the configuration. Remove it from the configuration."));
        }
    }
    if c.get("enable_ipv6").as_deref() == Some("false")
        && c.get("dcos_l4lb_enable_ipv6").as_deref() != Some("false")
        && c.has("dcos_l4lb_enable_ipv6")
    {
        c.error(
            "dcos_l4lb_enable_ipv6",
            "When enable_ipv6 is false, dcos_l4lb_enable_ipv6 must be false as well",
        );
    }
    if c.get("use_proxy").as_deref() == Some("true") {
        for key in ["http_proxy", "https_proxy"] {
            if !c.has(key) {
                c.error(key, format!("Must set {key}, no way to calculate value."));
            }
        }
    }
}

fn required(c: &mut Config) {
    let mut need = vec![
        "bootstrap_url",
        "cluster_name",
        "master_discovery",
        "exhibitor_storage_backend",
    ];
    match c.get("master_discovery").as_deref() {
        Some("static") => need.push("master_list"),
        Some("master_http_loadbalancer") => need.extend(["num_masters", "exhibitor_address"]),
        _ => {}
    }
    for key in need {
        if !c.has(key) {
            c.error(key, format!("Must set {key}, no way to calculate value."));
        }
    }
}

fn one_of(c: &mut Config, key: &str, got: &str, allowed: &[&str]) -> bool {
    if allowed.contains(&got) {
        return true;
    }
    let list = allowed
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ");
    c.error(key, format!("Must be one of {list}. Got '{got}'."));
    false
}

/// IPv4 lists: JSON list of strings, no duplicates, IPv4 only, and no address in two lists.
fn lists(c: &mut Config) {
    let mut parsed: Vec<(&str, Vec<String>)> = Vec::new();
    for key in LISTS {
        let Some(items) = c.list(key) else { continue };
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for item in &items {
            *counts.entry(item.as_str()).or_default() += 1;
        }
        if let Some((ip, n)) = counts.iter().find(|(_, n)| **n > 1) {
            c.error(
                key,
                format!("List cannot contain duplicates: {ip} appears {n} times"),
            );
        }
        let invalid: Vec<&str> = items
            .iter()
            .map(String::as_str)
            .filter(|s| s.parse::<Ipv4Addr>().is_err())
            .collect();
        if !invalid.is_empty() {
            c.error(
                key,
                format!("Invalid IPv4 addresses in list: {}", invalid.join(", ")),
            );
        }
        parsed.push((key, items));
    }
    for (i, (a, a_items)) in parsed.iter().enumerate() {
        for (b, b_items) in &parsed[i + 1..] {
            let mut both: Vec<&str> = a_items
                .iter()
                .filter(|x| b_items.contains(x))
                .map(String::as_str)
                .collect();
            both.sort_unstable();
            both.dedup();
            if !both.is_empty() {
                let message = format!("{a} and {b} cannot contain duplicates {}", both.join(", "));
                c.error(a, message.clone());
                c.error(b, message);
            }
        }
    }
}

fn num_masters(c: &mut Config, discovery: Option<&str>) {
    let count_message = |n: &str| format!("Must have 1, 3, 5, 7, or 9 masters. Found {n}");
    match discovery {
        Some("static") => {
            if c.has("num_masters") {
                c.error("num_masters", "num_masters must be calculated, but was explicitly set in the configuration. Remove it from the configuration.");
            } else if let Some(masters) = c.list_quiet("master_list") {
                if !matches!(masters.len(), 1 | 3 | 5 | 7 | 9) {
                    c.error("num_masters", count_message(&masters.len().to_string()));
                }
            }
        }
        Some("master_http_loadbalancer") => {
            if let Some(n) = c.get("num_masters") {
                if !matches!(n.as_str(), "1" | "3" | "5" | "7" | "9") {
                    c.error("num_masters", count_message(&n));
                }
            }
        }
        _ => {}
    }
}

fn exhibitor(c: &mut Config, discovery: Option<&str>) {
    let Some(backend) = c.get("exhibitor_storage_backend") else {
        return;
    };
    if !one_of(c, "exhibitor_storage_backend", &backend, BACKENDS) {
        return;
    }
    if discovery == Some("master_http_loadbalancer") && backend == "static" {
        let message = "When master_discovery is not static, exhibitor_storage_backend must be non-static. Having a fixed list of master hosts doesn't make sense for a dynamic master discovery.";
        c.error("master_discovery", message);
        c.error("exhibitor_storage_backend", message);
    }
    let need: &[&str] = match backend.as_str() {
        "zookeeper" => &["exhibitor_zk_hosts", "exhibitor_zk_path"],
        "aws_s3" => &[
            "aws_region",
            "s3_bucket",
            "s3_prefix",
            "exhibitor_explicit_keys",
        ],
        "azure" => &["exhibitor_azure_account_name", "exhibitor_azure_prefix"],
        "shared_filesystem" => &["exhibitor_fs_config_dir"],
        _ => &[],
    };
    for key in need {
        if !c.has(key) {
            c.error(key, format!("Must set {key}, no way to calculate value."));
        }
    }
    if backend == "zookeeper" {
        if c.get("exhibitor_zk_hosts")
            .is_some_and(|h| h.starts_with("zk://"))
        {
            c.error(
                "exhibitor_zk_hosts",
                "Must be of the form `host:port,host:port', not start with zk://",
            );
        }
        if c.get("exhibitor_zk_path")
            .is_some_and(|p| !p.starts_with('/'))
        {
            c.error("exhibitor_zk_path", "Must be of the form /path/to/znode");
        }
    }
    if backend == "aws_s3" {
        if c.get("s3_prefix").is_some_and(|p| p.ends_with('/')) {
            c.error("s3_prefix", "Must be a file path and cannot end in a /");
        }
        if c.get("exhibitor_explicit_keys").as_deref() == Some("true")
            && !c.has("aws_access_key_id")
        {
            c.error(
                "aws_access_key_id",
                "Must set aws_access_key_id, no way to calculate value.",
            );
        }
    }
}

/// `ipv4[:port]` entries, no duplicates; `[]` is allowed.
fn resolvers(c: &mut Config) {
    let Some(items) = c.list("resolvers") else {
        return;
    };
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for item in &items {
        *counts.entry(item.as_str()).or_default() += 1;
    }
    if let Some((ip, n)) = counts.iter().find(|(_, n)| **n > 1) {
        c.error(
            "resolvers",
            format!("List cannot contain duplicates: {ip} appears {n} times"),
        );
    }
    let mut invalid = Vec::new();
    for item in &items {
        let (ip, port) = match item.split_once(':') {
            Some((ip, port)) => (ip, Some(port)),
            None => (item.as_str(), None),
        };
        if ip.parse::<Ipv4Addr>().is_err() {
            invalid.push(item.as_str());
        } else if let Some(port) = port {
            match port.parse::<i64>() {
                Ok(1..=65535) => {}
                Ok(_) => c.error("resolvers", "Must be between 1 and 65535 inclusive"),
                Err(_) => c.error(
                    "resolvers",
                    format!("Must be an integer but got a str: {port}"),
                ),
            }
        }
    }
    if !invalid.is_empty() {
        c.error(
            "resolvers",
            format!("Invalid IPv4 addresses in list: {}", invalid.join(", ")),
        );
    }
}

fn booleans(c: &mut Config) {
    for key in keys::BOOLEANS {
        if let Some(value) = c.get(key) {
            if value != "true" && value != "false" {
                c.error(
                    key,
                    format!("Must be one of 'true', 'false'. Got '{value}'."),
                );
            }
        }
    }
}
