//! Map a DC/OS config that passed DC/OS's checks onto a [`Cluster`]; report what is dropped
//! (warnings) and what Strato cannot honour (errors, "refused").
use std::path::Path;

use super::keys;
use super::{host_path, Config};
use crate::{check_model, Bootstrap, Cluster, Files, Host, IpDetect, Ssh};

/// DC/OS's default login user from 1.12.5 on.
const DCOS_SSH_USER: &str = "centos";
const DCOS_SSH_KEY: &str = "genconf/ssh_key";

pub(super) fn convert(c: &mut Config, cwd: &Path, files: &dyn Files) -> Option<Cluster> {
    let cluster_name = name(c);
    let bootstrap = bootstrap(c)?;
    if c.get("use_proxy").as_deref() == Some("true") {
        c.error(
            "use_proxy",
            "refused: Strato nodes do not go through an HTTP proxy yet; remove use_proxy to import",
        );
    }
    if c.get("master_discovery").as_deref() == Some("master_http_loadbalancer") {
        c.warn(
            "master_discovery",
            "master_http_loadbalancer is not used: Strato nodes find masters from `masters`",
        );
    }
    let backend = c.get("exhibitor_storage_backend");
    if backend.as_deref().is_some_and(|b| b != "static") {
        c.warn("exhibitor_storage_backend", "not used: Strato's masters keep the cluster state themselves; the exhibitor settings are dropped");
    }
    let hosts = |c: &mut Config, key: &str| -> Vec<Host> {
        c.list_quiet(key)
            .unwrap_or_default()
            .into_iter()
            .map(Host::new)
            .collect()
    };
    let masters = hosts(c, "master_list");
    if masters.is_empty() {
        c.error(
            "master_list",
            "refused: Strato needs the master addresses; list them in master_list",
        );
    }
    let mut cluster = Cluster {
        cluster_name,
        bootstrap: Some(bootstrap),
        ssh: ssh(c, cwd),
        masters,
        agents: hosts(c, "agent_list"),
        public_agents: hosts(c, "public_agent_list"),
        hardware: Default::default(),
        network: Default::default(),
        runtime: Default::default(),
        gateway: Default::default(),
        cloud: None,
    };
    if let Some(resolvers) = c.list_quiet("resolvers") {
        cluster.network.resolvers = resolvers;
    }
    warn_dropped(c);
    verify(c, &cluster, cwd, files);
    Some(cluster)
}

fn name(c: &mut Config) -> String {
    let given = c.get("cluster_name").unwrap_or_default();
    let mut slug = String::new();
    for ch in given.chars() {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_end_matches('-').to_string();
    if !slug.starts_with(|ch: char| ch.is_ascii_lowercase()) {
        slug.insert_str(0, "dcos-");
    }
    slug.truncate(crate::field::MAX_CLUSTER_NAME);
    let slug = slug.trim_end_matches('-').to_string();
    if slug != given {
        c.warn(
            "cluster_name",
            format!("`{given}` is not a valid Strato cluster name; using `{slug}`"),
        );
    }
    slug
}

fn bootstrap(c: &mut Config) -> Option<Bootstrap> {
    let url = c.get("bootstrap_url")?;
    if url.starts_with("file://") {
        return Some(Bootstrap::Local);
    }
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    let host =
        rest.map(|r| r.split('/').next().unwrap_or_default())
            .map(
                |authority| match authority.strip_prefix('[').and_then(|a| a.split_once(']')) {
                    Some((v6, _)) => v6.to_string(),
                    None => authority.split(':').next().unwrap_or_default().to_string(),
                },
            );
    match host.filter(|h| !h.is_empty()) {
        Some(host) => {
            if rest.is_some_and(|r| r.contains(':') || r.contains('/')) {
                c.warn("bootstrap_url", format!("only the host `{host}` is kept; strato-bootstrap serves on its own port and paths"));
            }
            Some(Bootstrap::Host(host))
        }
        None => {
            c.error("bootstrap_url", format!("refused: cannot tell the bootstrap host from `{url}` (expected http://HOST:PORT or file:///PATH)"));
            None
        }
    }
}

fn ssh(c: &mut Config, cwd: &Path) -> Ssh {
    let mut ssh = Ssh {
        user: c.get("ssh_user").unwrap_or_else(|| DCOS_SSH_USER.into()),
        ..Ssh::default()
    };
    let number = |c: &mut Config, key: &str, max: u64| -> Option<u64> {
        let text = c.get(key)?;
        match text.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Some(n),
            _ => {
                c.error(
                    key,
                    format!("refused: `{text}` is not a whole number between 1 and {max}"),
                );
                None
            }
        }
    };
    if let Some(port) = number(c, "ssh_port", 65535) {
        ssh.port = port as u16;
    }
    if let Some(p) = number(c, "ssh_parallelism", Ssh::MAX_PARALLELISM as u64) {
        ssh.parallelism = p as usize;
    }
    if let Some(t) = number(c, "process_timeout", 7 * 24 * 3600) {
        ssh.command_timeout_seconds = t;
    }
    let key = c.get("ssh_key_path").unwrap_or_else(|| DCOS_SSH_KEY.into());
    ssh.key_path = Some(host_path(&key, cwd));
    ssh
}

/// Checked keys whose fate `convert` already reports (or that are refused).
const SAID_ELSEWHERE: &[&str] = &["master_discovery", "exhibitor_storage_backend", "use_proxy"];

fn warn_dropped(c: &mut Config) {
    let present: Vec<String> = c.values.keys().cloned().collect();
    for key in present {
        if keys::ENTERPRISE.contains(&key.as_str()) {
            c.warn(&key, "DC/OS Enterprise setting; not used by Strato");
        } else if keys::OTHER.contains(&key.as_str()) && key != "ip_detect_public_filename" {
            c.warn(&key, "accepted by DC/OS; not used by Strato");
        } else if key == "ip_detect_public_filename" {
            c.warn(
                &key,
                "not used: Strato nodes announce one address, from network.ip_detect",
            );
        } else if keys::CHECKED.contains(&key.as_str()) && !SAID_ELSEWHERE.contains(&key.as_str()) {
            c.warn(&key, "checked as DC/OS does; not used by Strato");
        }
    }
}

/// The converted cluster must pass `strato validate`. A missing or too-open SSH key is only a
/// warning here (it is fixed on the machine, not in the file); anything else is refused.
fn verify(c: &mut Config, cluster: &Cluster, cwd: &Path, files: &dyn Files) {
    // The ip-detect script is copied after conversion; its existence was checked already.
    let mut probe = cluster.clone();
    probe.network.ip_detect = IpDetect::Route;
    for d in check_model(&probe, "cluster.yaml", cwd, files).0 {
        let dcos_key = match d.key.split(['.', '[']).next().unwrap_or_default() {
            "masters" => "master_list",
            "agents" => "agent_list",
            "public_agents" => "public_agent_list",
            "ssh" if d.key == "ssh.key_path" => "ssh_key_path",
            "ssh" => "ssh_user",
            "network" => "resolvers",
            "bootstrap" => "bootstrap_url",
            other => other,
        }
        .to_string();
        if d.key == "ssh.key_path" || !d.is_error() {
            c.warn(
                &dcos_key,
                format!("{} (fix it before `strato deploy`)", d.message),
            );
        } else {
            c.error(
                &dcos_key,
                format!(
                    "refused: the converted cluster.yaml would be invalid: {}: {}",
                    d.key, d.message
                ),
            );
        }
    }
}
