//! Renders the answers as a commented `cluster.yaml`. Written as text, not serialized, so every key
//! carries a comment saying what it is for and what else it accepts.
use std::fmt::Write as _;

use super::questions::{is_cloud, platform, split_list, Draft, Key};

/// The text of cluster.yaml for validated answers.
pub fn render(draft: &Draft) -> String {
    let get = |key: Key| draft.get(&key).map(String::as_str).unwrap_or_default();
    let name = get(Key::Name);
    let cloud = is_cloud(draft);
    let mut y = String::new();
    let mut line = |text: &str| {
        y.push_str(text);
        y.push('\n');
    };

    line(&format!(
        "# Strato cluster `{name}`, written by `strato init`."
    ));
    line("# Check it with `strato validate`; render the node files with `strato genconf`.");
    line("# `strato config schema` prints the JSON Schema of this file (for editor completion).");
    line("");
    line("# The cluster's name: lower-case letters, digits and `-`. Used in DNS and cloud resource names.");
    line(&format!("cluster_name: {}", scalar(name)));
    line("");
    line(
        "# Where nodes download their install files: a host's address, or `local` for the machine",
    );
    line("# running `strato`.");
    if cloud {
        line("# Left out: `strato cloud create` makes a bootstrap machine and fills this in.");
        line("# bootstrap: 10.0.0.5");
    } else {
        line(&format!("bootstrap: {}", scalar(get(Key::Bootstrap))));
    }
    line("");
    line("# How `strato` logs in to every node. A host may override user, port and key_path:");
    line("#   masters: [{address: 10.0.0.10, user: rocky, port: 2222}]");
    line("# Also: use_agent, known_hosts (tofu | strict | off), bastion, parallelism, *_timeout_seconds.");
    line("ssh:");
    line(&format!("  user: {}", scalar(get(Key::SshUser))));
    line(&format!("  port: {}", get(Key::SshPort)));
    line(&format!("  key_path: {}", scalar(get(Key::SshKey))));
    line("");
    if cloud {
        line("# The machines' addresses are filled in by `strato cloud create` (see `cloud.counts`).");
        line("masters: []");
        line("agents: []");
        line("public_agents: []");
    } else {
        line("# Masters run the scheduler, the Marathon API and DNS: 1, 3, 5, 7 or 9 of them");
        line("# (an odd number keeps a quorum).");
        host_list(&mut line, "masters", get(Key::Masters));
        line("# Agents run your apps.");
        host_list(&mut line, "agents", get(Key::Agents));
        line("# Public agents are agents reachable from outside: load balancers, edge apps.");
        host_list(&mut line, "public_agents", get(Key::PublicAgents));
    }
    line("");
    line("# What every node must have, checked by `strato preflight`:");
    line("#   production: DC/OS's minimum (masters 4 CPU, 32 GiB RAM, 120 GiB disk; agents 2 CPU,");
    line("#               16 GiB, 60 GiB)");
    line("#   minimal:    what the runtime itself needs (1 CPU, 1 GiB, 5 GiB), for labs and tests");
    line("#   or your own: {cpus: 4, memory_gib: 32, disk_gib: 120}");
    line(&format!("hardware: {}", get(Key::Hardware)));
    line("");
    line("network:");
    line("  # Upstream DNS servers for names outside the cluster, IP or IP:PORT.");
    line(&format!(
        "  resolvers: {}",
        flow_list(&split_list(get(Key::Resolvers)))
    ));
    line("  # How each node finds the address it announces: `route` (the source address of its");
    line(
        "  # route to the masters), an interface name (eth0), or the path of a script printing it.",
    );
    line("  ip_detect: route");
    line("  # DNS domain inside the cluster: <app>.marathon.<domain>, leader.<domain>.");
    line(&format!(
        "  domain: {}",
        strato_config::Network::DEFAULT_DOMAIN
    ));
    line("");
    line("# Which runtime the nodes run. By default the version built with this `strato` and its bundle.");
    line("# runtime:");
    line("#   version: 0.1.0");
    line("#   bundle: ./strato-runtime.tar.gz");
    if cloud {
        line("");
        cloud_section(&mut line, draft);
    }
    y
}

fn host_list(line: &mut impl FnMut(&str), key: &str, text: &str) {
    let hosts = split_list(text);
    if hosts.is_empty() {
        line(&format!("{key}: []"));
        return;
    }
    line(&format!("{key}:"));
    for host in hosts {
        line(&format!("  - {}", scalar(&host)));
    }
}

/// Machine sizes per provider and profile. `production` sizes meet DC/OS's minimum per role.
fn instance_types(provider: &str, production: bool) -> [&'static str; 4] {
    match (provider, production) {
        ("aws", true) => ["m5.xlarge", "m5.2xlarge", "m5.xlarge", "m5.xlarge"],
        ("aws", false) => ["t3.medium", "t3.medium", "t3.medium", "t3.medium"],
        ("azure", true) => [
            "Standard_D4s_v3",
            "Standard_D8s_v3",
            "Standard_D4s_v3",
            "Standard_D4s_v3",
        ],
        ("azure", false) => [
            "Standard_B2s",
            "Standard_B2s",
            "Standard_B2s",
            "Standard_B2s",
        ],
        (_, true) => [
            "n2-standard-4",
            "n2-standard-8",
            "n2-standard-4",
            "n2-standard-4",
        ],
        (_, false) => ["e2-medium", "e2-medium", "e2-medium", "e2-medium"],
    }
}

fn cloud_section(line: &mut impl FnMut(&str), draft: &Draft) {
    let get = |key: Key| draft.get(&key).map(String::as_str).unwrap_or_default();
    let provider = platform(draft);
    let production = get(Key::Hardware) == "production";
    line("# Machines for `strato cloud create` (then `strato deploy`); `strato cloud destroy` removes them.");
    line("cloud:");
    line(&format!("  provider: {provider}"));
    for (key, yaml) in [
        (Key::Region, "region"),
        (Key::Location, "location"),
        (Key::ResourceGroup, "resource_group"),
        (Key::Project, "project"),
        (Key::Zone, "zone"),
    ] {
        if let Some(value) = draft.get(&key) {
            line(&format!("  {yaml}: {}", scalar(value)));
        }
    }
    let families = strato_config::Cloud::OS_FAMILIES.join(", ");
    line(&format!("  # The node image family: {families}."));
    line("  # Or set `image:` to an explicit image id.");
    line("  os: rocky-9");
    line("  # Installed for the SSH user on every machine.");
    line(&format!(
        "  ssh_public_key: {}",
        scalar(&format!("{}.pub", get(Key::SshKey)))
    ));
    line("  # Who may reach SSH and the dashboard.");
    line(&format!(
        "  admin_cidrs: {}",
        flow_list(&split_list(get(Key::AdminCidrs)))
    ));
    let [bootstrap, master, agent, public_agent] = instance_types(provider, production);
    line(&format!(
        "  # Machine sizes, chosen to meet the `{}` hardware profile.",
        get(Key::Hardware)
    ));
    line("  instance_types:");
    let mut types = String::new();
    for (role, size) in [
        ("bootstrap", bootstrap),
        ("master", master),
        ("agent", agent),
        ("public_agent", public_agent),
    ] {
        let _ = writeln!(types, "    {role}: {size}");
    }
    line(types.trim_end_matches('\n'));
    line("  counts:");
    line(&format!("    masters: {}", get(Key::Masters)));
    line(&format!("    agents: {}", get(Key::Agents)));
    line(&format!("    public_agents: {}", get(Key::PublicAgents)));
    line("  # Root disk sizes in GiB.");
    let (master_disk, agent_disk) = if production { (120, 60) } else { (30, 30) };
    line(&format!(
        "  disk_gib: {{master: {master_disk}, agent: {agent_disk}}}"
    ));
}

/// A YAML scalar: plain when unambiguous, else double-quoted (JSON quoting is valid YAML).
fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "yes" | "no" | "true" | "false" | "on" | "off" | "null" | "y" | "n"
        )
        && text.parse::<f64>().is_err();
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).expect("strings serialize")
    }
}

fn flow_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| scalar(i)).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_quotes_what_yaml_would_misread() {
        assert_eq!(scalar("10.0.0.1"), "10.0.0.1");
        assert_eq!(scalar("demo"), "demo");
        assert_eq!(scalar("~/.ssh/id_ed25519"), "\"~/.ssh/id_ed25519\"");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("1.5"), "\"1.5\"");
        assert_eq!(scalar("fe80::1"), "\"fe80::1\"");
    }
}
