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
