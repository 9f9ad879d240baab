//! Cluster name, bootstrap, master count, and each address: valid and in one role only.
use std::collections::HashMap;

use super::Ctx;
use crate::{field, Bootstrap, Cluster, Role};

pub(super) fn check(cluster: &Cluster, ctx: &mut Ctx) {
    if let Err(e) = field::cluster_name(&cluster.cluster_name) {
        ctx.error("cluster_name", e);
    }
    if let Some(Bootstrap::Host(address)) = &cluster.bootstrap {
        if let Err(e) = field::address(address) {
            ctx.error("bootstrap", format!("{e} (or `local`)"));
        }
    }
    master_count(cluster, ctx);
    etcd_masters(cluster, ctx);
    bootstrap_is_a_node(cluster, ctx);
    addresses(cluster, ctx);
}

fn master_count(cluster: &Cluster, ctx: &mut Ctx) {
    let n = cluster.masters.len();
    // A `cloud` section that failed to decode was reported already; it still means "no hosts yet".
    if n == 0 && (cluster.cloud.is_some() || ctx.positions.find("cloud") != ctx.positions.find(""))
    {
        return; // `strato cloud create` fills them in
    }
    if !Cluster::MASTER_COUNTS.contains(&n) {
        ctx.error(
            "masters",
            format!("must list 1, 3, 5, 7 or 9 masters (an odd number keeps a quorum), found {n}"),
        );
    }
    if let Some(cloud) = &cluster.cloud {
        if n > 0 && n != cloud.counts.masters {
            ctx.error(
                "masters",
                format!(
                    "lists {n} masters but cloud.counts.masters is {}",
                    cloud.counts.masters
                ),
            );
        }
    }
}

/// 3 or more masters run etcd, whose members are named and reached by their node's IPv4 address
/// (`templates/systemd/strato-etcd.service.tera`): each master must be given as one, and no two
/// on the same address (one etcd member per machine).
fn etcd_masters(cluster: &Cluster, ctx: &mut Ctx) {
    if cluster.masters.len() < 3 {
        return;
    }
    let mut seen: HashMap<std::net::Ipv4Addr, (String, u16)> = HashMap::new();
    for (i, host) in cluster.masters.iter().enumerate() {
        let at = format!("masters[{i}]");
        let Ok(ip) = host.address.parse::<std::net::Ipv4Addr>() else {
            if field::address(&host.address).is_ok() {
                ctx.error(
                    &at,
                    format!(
                        "with 3 or more masters each must be an IPv4 address (etcd names and reaches \
                         its members by the node's IP); `{}` is not one",
                        host.address
                    ),
                );
            }
            continue;
        };
        let port = cluster.ssh.for_host(host).port;
        match seen.get(&ip) {
            // The same address and port is reported as listed twice (`addresses`).
            Some((_, first_port)) if *first_port == port => {}
            Some((first_at, _)) => ctx.error(
                &at,
                format!(
                    "`{ip}` is also {first_at}: with 3 or more masters each needs an address of its \
                     own (one etcd member per machine)"
                ),
            ),
            None => {
                seen.insert(ip, (at, port));
            }
        }
    }
}

/// Each address must be valid, and each (address, SSH port) may appear once across all roles. One
/// exception: in a one-master cluster the master may also be listed as an agent (an all-in-one
/// node that also runs apps, as `examples/cluster-local.yaml`). Different ports on one address are
/// different machines (containers or port-forwarded VMs behind one IP).
fn addresses(cluster: &Cluster, ctx: &mut Ctx) {
    let mut seen: HashMap<(String, u16), (Role, String)> = HashMap::new();
    let all_in_one = cluster.masters.len() == 1;
    for role in [Role::Master, Role::Agent, Role::PublicAgent] {
        for (i, host) in cluster.hosts(role).iter().enumerate() {
            let at = format!("{}[{i}]", role.key());
            if let Err(e) = field::address(&host.address) {
                ctx.error(&at, e);
                continue;
            }
            if host.user.as_deref() == Some("") {
                ctx.error(&format!("{at}.user"), "must not be empty");
            }
            if let Some(name) = &host.hostname {
                if role == Role::Master {
                    ctx.error(
                        &format!("{at}.hostname"),
                        "only agents and public agents take a hostname (their tasks' host)",
                    );
                } else if let Err(why) = field::hostname(name) {
                    ctx.error(
                        &format!("{at}.hostname"),
                        format!("`{name}` is not a valid host name: {why}"),
                    );
                }
            }
            let port = cluster.ssh.for_host(host).port;
            let id = (host.address.to_ascii_lowercase(), port);
            match seen.get(&id) {
                None => {
                    seen.insert(id, (role, at));
                }
                Some((Role::Master, _)) if role == Role::Agent && all_in_one => {}
                Some((first_role, first_at)) if *first_role == role => {
                    let message = format!("`{}` is listed twice (also {first_at})", host.address);
                    ctx.error(&at, message);
                }
                Some((first_role, first_at)) => {
                    let message = format!(
                        "`{}` is already {} {first_role} ({first_at}); a host has one role",
                        host.address,
                        article(*first_role)
                    );
                    ctx.error(&at, message);
                }
            }
        }
    }
}

/// DC/OS required a separate bootstrap host. Strato's bootstrap server can share a node (it only
/// serves files), but the node then carries both loads and a reinstall of it stops the server.
fn bootstrap_is_a_node(cluster: &Cluster, ctx: &mut Ctx) {
    let Some(Bootstrap::Host(address)) = &cluster.bootstrap else {
        return;
    };
    let shared = cluster
        .nodes()
        .enumerate()
        .find(|(_, (_, h))| h.address.eq_ignore_ascii_case(address));
    if let Some((_, (role, _))) = shared {
        ctx.warn(
            "bootstrap",
            format!("`{address}` is also {} {role}; fine for a trial, but keep the bootstrap host separate in production", article(role)),
        );
    }
}

fn article(role: Role) -> &'static str {
    if role == Role::Agent {
        "an"
    } else {
        "a"
    }
}
