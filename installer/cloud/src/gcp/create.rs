//! `create` on GCP: find each resource by name, make the missing ones, in dependency order.
use google_cloud_compute_v1::model::{Firewall, Instance, Network, Subnetwork};
use serde_json::{json, Value};

use super::{description, exists, finish, model, network_tag, source_image, Gcp};
use crate::error::Result;
use crate::provider::ResourceKind::{Firewall as Rules, Machine, Network as Net, Subnet};
use crate::provider::{found_or_create, CloudProvider, CreateReport};
use crate::topology::{MachinePlan, Plan, Protocol, Rule};

pub async fn run(gcp: &Gcp, plan: &Plan) -> Result<CreateReport> {
    let image = source_image(plan)?;
    let mut report = CreateReport::default();
    // GCE names are the ids.
    let mut note = |kind, (name, created): (String, bool)| {
        report.note(kind, &name, &name, created);
        name
    };
    note(Net, ensure_network(gcp, plan).await?);
    note(Subnet, ensure_subnet(gcp, plan).await?);
    for rule in &plan.rules {
        note(Rules, ensure_firewall(gcp, plan, rule).await?);
    }
    let existing = gcp.list_instances(plan).await?;
    let mut launched = Vec::new();
    for m in &plan.machines {
        let found = existing.iter().any(|i| i["name"] == m.name.as_str());
        let made = found_or_create(found.then(|| m.name.clone()), || {
            launch(gcp, plan, m, &image)
        });
        let (name, created) = made.await?;
        if created {
            launched.push(name.clone());
        }
        note(Machine, (name, created));
    }
    gcp.wait_running(&launched).await?;
    report.machines = gcp.status(plan).await?;
    Ok(report)
}

/// The network, in custom mode: we make the one subnetwork.
async fn ensure_network(gcp: &Gcp, plan: &Plan) -> Result<(String, bool)> {
    let name = &plan.network_name;
    let got = gcp
        .networks
        .get()
        .set_project(&gcp.project)
        .set_network(name);
    let found = exists(got.send().await, "get network")?.map(|_| name.clone());
    found_or_create(found, || async {
        let body: Network = model(
            json!({"name": name, "autoCreateSubnetworks": false, "description": description(plan)}),
            "network",
        )?;
        let insert = gcp
            .networks
            .insert()
            .set_project(&gcp.project)
            .set_body(body);
        finish(format!("create network {name}"), insert.poller()).await?;
        Ok(name.clone())
    })
    .await
}

/// The subnetwork the machines live in.
async fn ensure_subnet(gcp: &Gcp, plan: &Plan) -> Result<(String, bool)> {
    let name = &plan.subnet_name;
    let got = gcp
        .subnetworks
        .get()
        .set_project(&gcp.project)
        .set_region(&gcp.region);
    let got = got.set_subnetwork(name).send().await;
    let found = exists(got, "get subnetwork")?.map(|_| name.clone());
    found_or_create(found, || async {
        let body: Subnetwork = model(
            json!({"name": name, "network": gcp.network_link(plan), "ipCidrRange": plan.subnet_cidr, "description": description(plan)}),
            "subnetwork",
        )?;
        let insert = gcp.subnetworks.insert().set_project(&gcp.project);
        let insert = insert.set_region(&gcp.region).set_body(body);
        finish(format!("create subnetwork {name}"), insert.poller()).await?;
        Ok(name.clone())
    })
    .await
}

/// One firewall rule per plan rule, aimed at the target's network tag.
async fn ensure_firewall(gcp: &Gcp, plan: &Plan, rule: &Rule) -> Result<(String, bool)> {
    let name = format!("{}-{}", plan.spec.cluster_name, rule.name);
    let got = gcp
        .firewalls
        .get()
        .set_project(&gcp.project)
        .set_firewall(&name);
    let found = exists(got.send().await, "get firewall")?.map(|_| name.clone());
    found_or_create(found, || async {
        let body = firewall(gcp, plan, rule, &name)?;
        let insert = gcp
            .firewalls
            .insert()
            .set_project(&gcp.project)
            .set_body(body);
        finish(format!("create firewall {name}"), insert.poller()).await?;
        Ok(name.clone())
    })
    .await
}

fn firewall(gcp: &Gcp, plan: &Plan, rule: &Rule, name: &str) -> Result<Firewall> {
    let protocols: Vec<&str> = match rule.protocol {
        Protocol::All => vec!["tcp", "udp", "icmp"],
        other => vec![other.as_str()],
    };
    let range = |&(a, b): &(u16, u16)| {
        if a == b {
            a.to_string()
        } else {
            format!("{a}-{b}")
        }
    };
    let ports: Vec<String> = rule.ports.iter().map(range).collect();
    let allowed = |proto: &&str| {
        if ports.is_empty() || *proto == "icmp" {
            json!({"IPProtocol": proto})
        } else {
            json!({"IPProtocol": proto, "ports": ports})
        }
    };
    let allowed: Vec<Value> = protocols.iter().map(allowed).collect();
    model(
        json!({
            "name": name, "network": gcp.network_link(plan), "direction": "INGRESS", "priority": 1000,
            "allowed": allowed, "sourceRanges": rule.sources, "targetTags": [network_tag(plan, rule.target)],
            "description": description(plan),
        }),
        "firewall",
    )
}

/// One instance, with an external address; returns its name.
async fn launch(gcp: &Gcp, plan: &Plan, m: &MachinePlan, image: &str) -> Result<String> {
    let body = instance(gcp, plan, m, image)?;
    let insert = gcp.instances.insert().set_project(&gcp.project);
    let insert = insert.set_zone(&gcp.zone).set_body(body);
    let step = format!("create machine {} ({})", m.name, m.instance_type);
    finish(step, insert.poller()).await?;
    Ok(m.name.clone())
}

fn instance(gcp: &Gcp, plan: &Plan, m: &MachinePlan, image: &str) -> Result<Instance> {
    let labels: serde_json::Map<String, Value> = plan
        .tags(Some(m.role))
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let tags: Vec<String> = plan
        .targets_for(m.role)
        .into_iter()
        .map(|t| network_tag(plan, t))
        .collect();
    let mut metadata = vec![
        json!({"key": "ssh-keys", "value": format!("{}:{}", plan.spec.ssh_user, plan.spec.ssh_public_key)}),
    ];
    if let Some(user_data) = crate::cloud_init::user_data(plan, m.role)? {
        metadata.push(json!({"key": "user-data", "value": user_data}));
    }
    let (p, zone, region) = (&gcp.project, &gcp.zone, &gcp.region);
    model(
        json!({
            "name": m.name,
            "machineType": format!("zones/{zone}/machineTypes/{}", m.instance_type),
            "labels": labels,
            "tags": {"items": tags},
            "metadata": {"items": metadata},
            "disks": [{"boot": true, "autoDelete": true, "initializeParams": {"sourceImage": image, "diskSizeGb": m.disk_gib.to_string()}}],
            "networkInterfaces": [{
                "subnetwork": format!("projects/{p}/regions/{region}/subnetworks/{}", plan.subnet_name),
                "accessConfigs": [{"name": "External NAT", "type": "ONE_TO_ONE_NAT"}],
            }],
        }),
        "instance",
    )
}
