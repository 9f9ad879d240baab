//! Decode the `ssh`, `hardware`, `network` and `runtime` sections; unset keys keep their defaults.
use std::path::PathBuf;

use super::{Decoder, Fields};
use crate::hardware::Resources;
use crate::ssh::Bastion;
use crate::yaml::{Node, Value};
use crate::{Hardware, IpDetect, KnownHosts, Network, Runtime, Ssh};

const SSH_KEYS: &[&str] = &[
    "user",
    "port",
    "key_path",
    "use_agent",
    "known_hosts",
    "bastion",
    "parallelism",
    "connect_timeout_seconds",
    "command_timeout_seconds",
    "job_timeout_seconds",
];
const SSH_HINTS: &[(&str, &str)] = &[
    ("key", "key_path"),
    ("private_key", "key_path"),
    ("identity_file", "key_path"),
    ("jump_host", "bastion"),
    ("timeout", "command_timeout_seconds"),
];

/// Seconds: at least one, at most a week.
const MAX_SECONDS: u64 = 7 * 24 * 3600;

fn seconds(d: &mut Decoder, f: &Fields, name: &str, default: u64) -> u64 {
    f.get(name)
        .and_then(|n| d.number(n, &f.path(name), 1, MAX_SECONDS))
        .unwrap_or(default)
}

pub(crate) fn ssh(d: &mut Decoder, node: &Node, key: &str) -> Ssh {
    let mut ssh = Ssh::default();
    let Some(f) = d.fields(node, key, SSH_KEYS, SSH_HINTS) else {
        return ssh;
    };
    if let Some(user) = f.get("user").and_then(|n| d.string(n, &f.path("user"))) {
        ssh.user = user;
    }
    if let Some(port) = f
        .get("port")
        .and_then(|n| d.number(n, &f.path("port"), 1, 65535))
    {
        ssh.port = port as u16;
    }
    ssh.key_path = f
        .get("key_path")
        .and_then(|n| d.string(n, &f.path("key_path")))
        .map(PathBuf::from);
    if let Some(b) = f
        .get("use_agent")
        .and_then(|n| d.boolean(n, &f.path("use_agent")))
    {
        ssh.use_agent = b;
    }
    if let Some(n) = f.get("known_hosts") {
        let path = f.path("known_hosts");
        if let Some(text) = d.string(n, &path) {
            match KnownHosts::parse(&text) {
                Some(policy) => ssh.known_hosts = policy,
                None => d.error(n.mark, &path, one_of(&text, &KnownHosts::NAMES)),
            }
        }
    }
    ssh.bastion = f
        .get("bastion")
        .and_then(|n| bastion(d, n, &f.path("bastion")));
    let max = Ssh::MAX_PARALLELISM as u64;
    if let Some(p) = f
        .get("parallelism")
        .and_then(|n| d.number(n, &f.path("parallelism"), 1, max))
    {
        ssh.parallelism = p as usize;
    }
    ssh.connect_timeout_seconds = seconds(
        d,
        &f,
        "connect_timeout_seconds",
        ssh.connect_timeout_seconds,
    );
    ssh.command_timeout_seconds = seconds(
        d,
        &f,
        "command_timeout_seconds",
        ssh.command_timeout_seconds,
    );
    ssh.job_timeout_seconds = seconds(d, &f, "job_timeout_seconds", ssh.job_timeout_seconds);
    ssh
}

fn bastion(d: &mut Decoder, node: &Node, key: &str) -> Option<Bastion> {
    let f = d.fields(
        node,
        key,
        &["address", "port", "user", "key_path"],
        &[("host", "address")],
    )?;
    let address = d
        .require(&f, "address")
        .and_then(|n| d.string(n, &f.path("address")))?;
    Some(Bastion {
        address,
        port: f
            .get("port")
            .and_then(|n| d.number(n, &f.path("port"), 1, 65535))
            .map(|p| p as u16),
        user: f.get("user").and_then(|n| d.string(n, &f.path("user"))),
        key_path: f
            .get("key_path")
            .and_then(|n| d.string(n, &f.path("key_path")))
            .map(PathBuf::from),
    })
}

pub(crate) fn one_of(got: &str, names: &[&str]) -> String {
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match super::closest(got, names.iter().copied()) {
        Some(best) => format!("must be one of {list}, got `{got}`; did you mean `{best}`?"),
        None => format!("must be one of {list}, got `{got}`"),
    }
}

pub(crate) fn hardware(d: &mut Decoder, node: &Node, key: &str) -> Hardware {
    if let Value::Str { text, .. } = &node.value {
        return Hardware::parse_profile(text).unwrap_or_else(|| {
            let message = one_of(text, &Hardware::PROFILE_NAMES);
            d.error(
                node.mark,
                key,
                format!("{message} (or a mapping {{cpus, memory_gib, disk_gib}})"),
            );
            Hardware::default()
        });
    }
    if !matches!(node.value, Value::Map(_)) {
        let found = node.value.kind();
        d.error(
            node.mark,
            key,
            format!(
                "expected `production`, `minimal` or {{cpus, memory_gib, disk_gib}}, found {found}"
            ),
        );
        return Hardware::default();
    }
    let Some(f) = d.fields(
        node,
        key,
        &["cpus", "memory_gib", "disk_gib"],
        &[
            ("memory", "memory_gib"),
            ("disk", "disk_gib"),
            ("cpu", "cpus"),
        ],
    ) else {
        return Hardware::default();
    };
    let mut get = |name: &str, max: u64| {
        d.require(&f, name)
            .and_then(|n| d.number(n, &f.path(name), 1, max))
            .map(|v| v as u32)
    };
    match (
        get("cpus", 4096),
        get("memory_gib", 65536),
        get("disk_gib", 1 << 20),
    ) {
        (Some(cpus), Some(memory_gib), Some(disk_gib)) => Hardware::Custom(Resources {
            cpus,
            memory_gib,
            disk_gib,
        }),
        _ => Hardware::default(),
    }
}

pub(crate) fn network(d: &mut Decoder, node: &Node, key: &str) -> Network {
    let mut network = Network::default();
    let hints = [
        ("dns", "resolvers"),
        ("ip_detect_filename", "ip_detect"),
        ("dns_domain", "domain"),
    ];
    let Some(f) = d.fields(node, key, &["resolvers", "ip_detect", "domain"], &hints) else {
        return network;
    };
    if let Some(r) = f
        .get("resolvers")
        .and_then(|n| d.strings(n, &f.path("resolvers")))
    {
        network.resolvers = r;
    }
    if let Some(text) = f
        .get("ip_detect")
        .and_then(|n| d.string(n, &f.path("ip_detect")))
    {
        network.ip_detect = IpDetect::parse(&text);
    }
    if let Some(domain) = f.get("domain").and_then(|n| d.string(n, &f.path("domain"))) {
        network.domain = domain;
    }
    network
}

pub(crate) fn runtime(d: &mut Decoder, node: &Node, key: &str) -> Runtime {
    let Some(f) = d.fields(
        node,
        key,
        &[
            "version",
            "bundle",
            "task_user",
            "container_engine",
            "agent_timeout_seconds",
            "allow_privileged_containers",
            "container_parameters",
        ],
        &[
            ("containerizer", "container_engine"),
            ("engine", "container_engine"),
        ],
    ) else {
        return Runtime::default();
    };
    let task_user = f.get("task_user").and_then(|n| {
        let path = f.path("task_user");
        let text = d.string(n, &path)?;
        match crate::field::user_name(&text) {
            Ok(()) => Some(text),
            Err(message) => {
                d.error(n.mark, &path, message);
                None
            }
        }
    });
    let container_engine = f.get("container_engine").and_then(|n| {
        let path = f.path("container_engine");
        let text = d.string(n, &path)?;
        let engine = crate::runtime::ContainerEngine::parse(&text);
        if engine.is_none() {
            d.error(
                n.mark,
                &path,
                format!("{text:?} is not a container engine: docker, podman or none"),
            );
        }
        engine
    });
    let agent_timeout_seconds = f
        .get("agent_timeout_seconds")
        .and_then(|n| d.number(n, &f.path("agent_timeout_seconds"), 10, 3600));
    let allow_privileged_containers = f
        .get("allow_privileged_containers")
        .and_then(|n| d.boolean(n, &f.path("allow_privileged_containers")))
        .unwrap_or(false);
    let container_parameters = f
        .get("container_parameters")
        .and_then(|n| {
            let path = f.path("container_parameters");
            let names = d.strings(n, &path)?;
            let wrong: Vec<&String> = names
                .iter()
                .filter(|p| !strato_proto::DOCKER_PARAMETERS.contains(&p.as_str()))
                .collect();
            if let Some(first) = wrong.first() {
                d.error(
                    n.mark,
                    &path,
                    format!(
                        "'{first}' is not a Docker parameter Strato passes to the engine (it \
                         can: {})",
                        strato_proto::DOCKER_PARAMETERS.join(", ")
                    ),
                );
                return None;
            }
            Some(names)
        })
        .unwrap_or_default();
    Runtime {
        task_user,
        container_engine,
        agent_timeout_seconds,
        allow_privileged_containers,
        container_parameters,
        version: f
            .get("version")
            .and_then(|n| d.string(n, &f.path("version"))),
        bundle: f
            .get("bundle")
            .and_then(|n| d.string(n, &f.path("bundle")))
            .map(PathBuf::from),
    }
}
