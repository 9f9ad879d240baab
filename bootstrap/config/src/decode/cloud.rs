//! Decode the `cloud` section (its meaning is checked in `validate::cloud`).
use std::path::PathBuf;

use super::sections::one_of;
use super::Decoder;
use crate::cloud::{Counts, DiskGib, InstanceTypes, Provider};
use crate::yaml::Node;
use crate::Cloud;

const KEYS: &[&str] = &[
    "provider",
    "region",
    "location",
    "resource_group",
    "project",
    "zone",
    "os",
    "image",
    "ssh_public_key",
    "admin_cidrs",
    "instance_types",
    "counts",
    "disk_gib",
];

/// Best effort: missing or malformed keys are reported and left empty so the remaining checks still
/// run. A bad `provider` is reported and stands in as `aws`; the provider-specific checks report
/// under `cloud.provider`, so they stay quiet for it.
pub(crate) fn cloud(d: &mut Decoder, node: &Node, key: &str) -> Option<Cloud> {
    let f = d.fields(
        node,
        key,
        KEYS,
        &[("public_key", "ssh_public_key"), ("cidrs", "admin_cidrs")],
    )?;
    let opt = |d: &mut Decoder, name: &str| f.get(name).and_then(|n| d.string(n, &f.path(name)));
    let provider = d.require(&f, "provider").and_then(|n| {
        let text = d.string(n, &f.path("provider"))?;
        let parsed = Provider::parse(&text);
        if parsed.is_none() {
            d.error(n.mark, &f.path("provider"), one_of(&text, &Provider::NAMES));
        }
        parsed
    });
    let region = opt(d, "region");
    let location = opt(d, "location");
    let resource_group = opt(d, "resource_group");
    let project = opt(d, "project");
    let zone = opt(d, "zone");
    let os = d.require(&f, "os").and_then(|n| d.string(n, &f.path("os")));
    let image = opt(d, "image");
    let ssh_public_key = d
        .require(&f, "ssh_public_key")
        .and_then(|n| d.string(n, &f.path("ssh_public_key")));
    let admin_cidrs = d
        .require(&f, "admin_cidrs")
        .and_then(|n| d.strings(n, &f.path("admin_cidrs")));
    let instance_types = d
        .require(&f, "instance_types")
        .and_then(|n| instance_types(d, n, &f.path("instance_types")));
    let counts = d
        .require(&f, "counts")
        .and_then(|n| counts(d, n, &f.path("counts")));
    let disk_gib = f
        .get("disk_gib")
        .map_or_else(DiskGib::default, |n| disk_gib(d, n, &f.path("disk_gib")));
    Some(Cloud {
        provider: provider.unwrap_or(Provider::Aws),
        region,
        location,
        resource_group,
        project,
        zone,
        os: os.unwrap_or_default(),
        image,
        ssh_public_key: PathBuf::from(ssh_public_key.unwrap_or_default()),
        admin_cidrs: admin_cidrs.unwrap_or_default(),
        instance_types: instance_types.unwrap_or_else(|| InstanceTypes {
            bootstrap: String::new(),
            master: String::new(),
            agent: String::new(),
            public_agent: String::new(),
        }),
        counts: counts.unwrap_or(Counts {
            masters: 1,
            agents: 0,
            public_agents: 0,
        }),
        disk_gib,
    })
}

fn instance_types(d: &mut Decoder, node: &Node, key: &str) -> Option<InstanceTypes> {
    let names = ["bootstrap", "master", "agent", "public_agent"];
    let f = d.fields(
        node,
        key,
        &names,
        &[
            ("masters", "master"),
            ("agents", "agent"),
            ("public_agents", "public_agent"),
        ],
    )?;
    let mut get = |name: &str| d.require(&f, name).and_then(|n| d.string(n, &f.path(name)));
    let (bootstrap, master, agent, public_agent) = (
        get("bootstrap"),
        get("master"),
        get("agent"),
        get("public_agent"),
    );
    Some(InstanceTypes {
        bootstrap: bootstrap.unwrap_or_default(),
        master: master.unwrap_or_default(),
        agent: agent.unwrap_or_default(),
        public_agent: public_agent.unwrap_or_default(),
    })
}

fn counts(d: &mut Decoder, node: &Node, key: &str) -> Option<Counts> {
    let f = d.fields(
        node,
        key,
        &["masters", "agents", "public_agents"],
        &[
            ("master", "masters"),
            ("agent", "agents"),
            ("public_agent", "public_agents"),
        ],
    )?;
    let masters = d
        .require(&f, "masters")
        .and_then(|n| d.number(n, &f.path("masters"), 0, 1000));
    let mut get = |name: &str| {
        f.get(name)
            .and_then(|n| d.number(n, &f.path(name), 0, 1000))
            .unwrap_or(0)
    };
    let (agents, public_agents) = (get("agents"), get("public_agents"));
    Some(Counts {
        masters: masters.unwrap_or(1) as usize,
        agents: agents as usize,
        public_agents: public_agents as usize,
    })
}

fn disk_gib(d: &mut Decoder, node: &Node, key: &str) -> DiskGib {
    let mut disk = DiskGib::default();
    let Some(f) = d.fields(
        node,
        key,
        &["master", "agent"],
        &[("masters", "master"), ("agents", "agent")],
    ) else {
        return disk;
    };
    let max = 65536;
    if let Some(v) = f
        .get("master")
        .and_then(|n| d.number(n, &f.path("master"), 1, max))
    {
        disk.master = v as u32;
    }
    if let Some(v) = f
        .get("agent")
        .and_then(|n| d.number(n, &f.path("agent"), 1, max))
    {
        disk.agent = v as u32;
    }
    disk
}
