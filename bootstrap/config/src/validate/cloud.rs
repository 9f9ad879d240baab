//! The `cloud` section: provider-specific keys, image family, CIDRs, counts and disk sizes.
//! Instance-size checks against the hardware profile belong here too (see issue 5).
use super::Ctx;
use crate::cloud::Provider;
use crate::files::{resolve, FileState};
use crate::{field, Cloud, Cluster, Role};

pub(super) fn check(cloud: &Cloud, cluster: &Cluster, ctx: &mut Ctx) {
    provider_keys(cloud, ctx);
    if !Cloud::OS_FAMILIES.contains(&cloud.os.as_str()) {
        let names: Vec<&str> = Cloud::OS_FAMILIES.to_vec();
        ctx.error("cloud.os", crate::decode::one_of(&cloud.os, &names));
    }
    if cloud.image.as_deref() == Some("") {
        ctx.error(
            "cloud.image",
            "must not be empty (leave it out to look up `os`)",
        );
    }
    let key = resolve(&cloud.ssh_public_key, ctx.base, ctx.files.home().as_deref());
    if !matches!(ctx.files.state(&key), FileState::File { .. }) {
        ctx.error(
            "cloud.ssh_public_key",
            format!(
                "public key `{}` does not exist",
                cloud.ssh_public_key.display()
            ),
        );
    }
    if cloud.admin_cidrs.is_empty() {
        ctx.error(
            "cloud.admin_cidrs",
            "list at least one network allowed to reach SSH and the dashboard",
        );
    }
    for (i, cidr) in cloud.admin_cidrs.iter().enumerate() {
        let at = format!("cloud.admin_cidrs[{i}]");
        match field::cidr(cidr) {
            Err(e) => ctx.error(&at, e),
            Ok(()) if cidr.ends_with("/0") => ctx.warn(
                &at,
                format!("`{cidr}` opens SSH and the dashboard to the whole internet"),
            ),
            Ok(()) => {}
        }
    }
    if !Cluster::MASTER_COUNTS.contains(&cloud.counts.masters) {
        ctx.error(
            "cloud.counts.masters",
            format!("must be 1, 3, 5, 7 or 9, got {}", cloud.counts.masters),
        );
    }
    let types = &cloud.instance_types;
    for (name, value) in [
        ("bootstrap", &types.bootstrap),
        ("master", &types.master),
        ("agent", &types.agent),
        ("public_agent", &types.public_agent),
    ] {
        if value.trim().is_empty() {
            ctx.error(&format!("cloud.instance_types.{name}"), "must not be empty");
        }
    }
    disks(cloud, cluster, ctx);
    instance_sizes(cloud, cluster, ctx);
}

/// Each provider's location keys are required, and the other providers' keys are mistakes.
fn provider_keys(cloud: &Cloud, ctx: &mut Ctx) {
    let given = [
        ("region", cloud.region.is_some()),
        ("location", cloud.location.is_some()),
        ("resource_group", cloud.resource_group.is_some()),
        ("project", cloud.project.is_some()),
        ("zone", cloud.zone.is_some()),
    ];
    let wanted: &[&str] = match cloud.provider {
        Provider::Aws => &["region"],
        Provider::Azure => &["location", "resource_group"],
        Provider::Gcp => &["project", "zone"],
    };
    let provider = cloud.provider;
    for (name, is_set) in given {
        let needs = wanted
            .iter()
            .map(|w| format!("`cloud.{w}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        match (wanted.contains(&name), is_set) {
            (true, false) => {
                ctx.error("cloud.provider", format!("{provider} needs `cloud.{name}`"))
            }
            (false, true) => ctx.error(
                "cloud.provider",
                format!("{provider} does not use `cloud.{name}`; it needs {needs}"),
            ),
            _ => {}
        }
    }
}

/// Disks must hold what the hardware profile asks for.
fn disks(cloud: &Cloud, cluster: &Cluster, ctx: &mut Ctx) {
    let checks = [
        ("master", cloud.disk_gib.master, Role::Master),
        ("agent", cloud.disk_gib.agent, Role::Agent),
    ];
    for (name, size, role) in checks {
        let need = cluster.hardware.requirement(role).disk_gib;
        if size < need {
            ctx.error(
                &format!("cloud.disk_gib.{name}"),
                format!(
                    "{size} GiB is below the {need} GiB the hardware profile requires for a {role}"
                ),
            );
        }
    }
}

/// vCPUs and memory (GiB) of common general-purpose sizes per provider. Sizes not listed are
/// accepted: the provider refuses unknown ones at create time; this only catches known ones that
/// are too small for the hardware profile before any machine is paid for.
const KNOWN_SIZES: &[(Provider, &str, u32, f32)] = &[
    (Provider::Aws, "t3.medium", 2, 4.0),
    (Provider::Aws, "t3.large", 2, 8.0),
    (Provider::Aws, "t3.xlarge", 4, 16.0),
    (Provider::Aws, "t3.2xlarge", 8, 32.0),
    (Provider::Aws, "m5.large", 2, 8.0),
    (Provider::Aws, "m5.xlarge", 4, 16.0),
    (Provider::Aws, "m5.2xlarge", 8, 32.0),
    (Provider::Aws, "m5.4xlarge", 16, 64.0),
    (Provider::Aws, "m6i.large", 2, 8.0),
    (Provider::Aws, "m6i.xlarge", 4, 16.0),
    (Provider::Aws, "m6i.2xlarge", 8, 32.0),
    (Provider::Aws, "m7i.large", 2, 8.0),
    (Provider::Aws, "m7i.xlarge", 4, 16.0),
    (Provider::Aws, "m7i.2xlarge", 8, 32.0),
    (Provider::Aws, "r5.large", 2, 16.0),
    (Provider::Aws, "r5.xlarge", 4, 32.0),
    (Provider::Aws, "c5.large", 2, 4.0),
    (Provider::Aws, "c5.xlarge", 4, 8.0),
    (Provider::Aws, "c5.2xlarge", 8, 16.0),
    (Provider::Azure, "Standard_B2s", 2, 4.0),
    (Provider::Azure, "Standard_B2ms", 2, 8.0),
    (Provider::Azure, "Standard_B4ms", 4, 16.0),
    (Provider::Azure, "Standard_D2s_v3", 2, 8.0),
    (Provider::Azure, "Standard_D4s_v3", 4, 16.0),
    (Provider::Azure, "Standard_D8s_v3", 8, 32.0),
    (Provider::Azure, "Standard_D2s_v5", 2, 8.0),
    (Provider::Azure, "Standard_D4s_v5", 4, 16.0),
    (Provider::Azure, "Standard_D8s_v5", 8, 32.0),
    (Provider::Azure, "Standard_E4s_v5", 4, 32.0),
    (Provider::Gcp, "e2-medium", 2, 4.0),
    (Provider::Gcp, "e2-standard-2", 2, 8.0),
    (Provider::Gcp, "e2-standard-4", 4, 16.0),
    (Provider::Gcp, "e2-standard-8", 8, 32.0),
    (Provider::Gcp, "e2-highmem-4", 4, 32.0),
    (Provider::Gcp, "n1-standard-2", 2, 7.5),
    (Provider::Gcp, "n1-standard-4", 4, 15.0),
    (Provider::Gcp, "n1-standard-8", 8, 30.0),
    (Provider::Gcp, "n2-standard-2", 2, 8.0),
    (Provider::Gcp, "n2-standard-4", 4, 16.0),
    (Provider::Gcp, "n2-standard-8", 8, 32.0),
];

/// Known instance types must meet the hardware profile's CPU and memory for their role. Memory
/// gets 10 % slack: clouds sell "16 GB" sizes (n1-standard-4: 15 GiB) for 16 GiB needs.
fn instance_sizes(cloud: &Cloud, cluster: &Cluster, ctx: &mut Ctx) {
    let types = &cloud.instance_types;
    for (key, value, role) in [
        ("bootstrap", &types.bootstrap, Role::Bootstrap),
        ("master", &types.master, Role::Master),
        ("agent", &types.agent, Role::Agent),
        ("public_agent", &types.public_agent, Role::PublicAgent),
    ] {
        let known = KNOWN_SIZES
            .iter()
            .find(|(p, name, _, _)| *p == cloud.provider && name.eq_ignore_ascii_case(value));
        let Some(&(_, name, cpus, memory)) = known else {
            continue;
        };
        let need = cluster.hardware.requirement(role);
        if cpus < need.cpus || memory < need.memory_gib as f32 * 0.9 {
            ctx.error(
                &format!("cloud.instance_types.{key}"),
                format!(
                    "{name} has {cpus} vCPU / {memory} GiB; the hardware profile needs {} vCPU / {} GiB for a {role}",
                    need.cpus, need.memory_gib
                ),
            );
        }
    }
}
