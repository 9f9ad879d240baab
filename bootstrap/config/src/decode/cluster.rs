//! Decode the top level of cluster.yaml.
use super::{cloud, gateway, host, sections, Decoder};
use crate::yaml::{Node, Value};
use crate::{Bootstrap, Cluster, Gateway, Hardware, Network, Runtime, Ssh};

const KEYS: &[&str] = &[
    "cluster_name",
    "bootstrap",
    "ssh",
    "masters",
    "agents",
    "public_agents",
    "hardware",
    "network",
    "runtime",
    "gateway",
    "cloud",
];

/// Keys people put at the top level that live elsewhere, and DC/OS names.
const HINTS: &[(&str, &str)] = &[
    ("user", "ssh.user"),
    ("port", "ssh.port"),
    ("key_path", "ssh.key_path"),
    ("resolvers", "network.resolvers"),
    ("ip_detect", "network.ip_detect"),
    ("domain", "network.domain"),
    ("version", "runtime.version"),
    ("master_list", "masters"),
    ("agent_list", "agents"),
    ("public_agent_list", "public_agents"),
    ("bootstrap_url", "bootstrap"),
    ("ssh_user", "ssh.user"),
    ("ssh_port", "ssh.port"),
    ("ssh_key_path", "ssh.key_path"),
    ("name", "cluster_name"),
];

/// The best-effort model: every key that decoded, defaults for the rest. `None` only when the file
/// is not a mapping at all.
pub(crate) fn cluster(d: &mut Decoder, root: &Node) -> Option<Cluster> {
    if root.value == Value::Null {
        d.error(
            root.mark,
            "",
            "the file is empty; start from examples/cluster.yaml or `strato init`",
        );
        return None;
    }
    let f = d.fields(root, "", KEYS, HINTS)?;
    let cluster_name = d
        .require(&f, "cluster_name")
        .and_then(|n| d.string(n, "cluster_name"));
    let cloud = f.get("cloud").and_then(|n| cloud::cloud(d, n, "cloud"));
    let has_cloud = f.get("cloud").is_some();
    let bootstrap = match f.get("bootstrap") {
        Some(n) => d.string(n, "bootstrap").map(|s| Bootstrap::parse(&s)),
        None if has_cloud => None,
        None => {
            d.error(
                f.mark,
                "bootstrap",
                "missing required key (an address, or `local`)",
            );
            None
        }
    };
    let mut hosts = |role: &str| match f.get(role) {
        Some(n) => host::hosts(d, n, role),
        None if role == "masters" && !has_cloud => {
            d.error(
                f.mark,
                "masters",
                "missing required key (1, 3, 5, 7 or 9 addresses)",
            );
            Vec::new()
        }
        None => Vec::new(),
    };
    let masters = hosts("masters");
    let agents = hosts("agents");
    let public_agents = hosts("public_agents");
    Some(Cluster {
        cluster_name: cluster_name.unwrap_or_default(),
        bootstrap,
        ssh: f
            .get("ssh")
            .map_or_else(Ssh::default, |n| sections::ssh(d, n, "ssh")),
        masters,
        agents,
        public_agents,
        hardware: f
            .get("hardware")
            .map_or_else(Hardware::default, |n| sections::hardware(d, n, "hardware")),
        network: f
            .get("network")
            .map_or_else(Network::default, |n| sections::network(d, n, "network")),
        runtime: f
            .get("runtime")
            .map_or_else(Runtime::default, |n| sections::runtime(d, n, "runtime")),
        gateway: f
            .get("gateway")
            .map_or_else(Gateway::default, |n| gateway::decode(d, n, "gateway")),
        cloud,
    })
}
