//! `destroy` on GCP: the cluster's instances, firewalls, subnetwork and network, in that order.
//! Each step continues past failures so the report lists everything left behind.
use serde_json::Value;

use super::{exists, fail, finish, ours, to_json, Gcp};
use crate::error::Result;
use crate::provider::{DestroyReport, ResourceKind};
use crate::topology::Plan;

/// What `create` makes, in its order; destroy walks them backwards.
const KINDS: &[ResourceKind] = &[
    ResourceKind::Network,
    ResourceKind::Subnet,
    ResourceKind::Firewall,
    ResourceKind::Machine,
];

pub async fn run(gcp: &Gcp, plan: &Plan) -> Result<DestroyReport> {
    let mut report = DestroyReport::default();
    for &kind in KINDS.iter().rev() {
        let report = &mut report;
        match kind {
            ResourceKind::Machine => delete_machines(gcp, plan, report).await?,
            ResourceKind::Firewall => delete_firewalls(gcp, plan, report).await?,
            ResourceKind::Subnet => delete_subnet(gcp, plan, report).await,
            ResourceKind::Network => delete_network(gcp, plan, report).await,
            _ => {}
        }
    }
    Ok(report)
}

async fn delete_machines(gcp: &Gcp, plan: &Plan, report: &mut DestroyReport) -> Result<()> {
    for inst in gcp.list_instances(plan).await? {
        let name = inst["name"].as_str().unwrap_or_default();
        let delete = gcp.instances.delete().set_project(&gcp.project);
        let delete = delete.set_zone(&gcp.zone).set_instance(name);
        let result = finish(format!("delete machine {name}"), delete.poller()).await;
        report.record(ResourceKind::Machine, name, name, result);
    }
    Ok(())
}

/// Firewalls carry no labels: ours are those whose description names the cluster's id.
async fn delete_firewalls(gcp: &Gcp, plan: &Plan, report: &mut DestroyReport) -> Result<()> {
    for fw in list_firewalls(gcp).await?.iter().filter(|f| ours(plan, f)) {
        let name = fw["name"].as_str().unwrap_or_default();
        let delete = gcp.firewalls.delete().set_project(&gcp.project);
        let delete = delete.set_firewall(name);
        let result = finish(format!("delete firewall {name}"), delete.poller()).await;
        report.record(ResourceKind::Firewall, name, name, result);
    }
    Ok(())
}

async fn list_firewalls(gcp: &Gcp) -> Result<Vec<Value>> {
    let mut firewalls = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = gcp.firewalls.list().set_project(&gcp.project);
        let page = page.set_or_clear_page_token(token.clone()).send().await;
        let page = page.map_err(|e| fail("list firewalls", e))?;
        firewalls.extend(page.items.iter().map(to_json));
        token = page.next_page_token.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(firewalls);
        }
    }
}

/// The subnetwork, when it is there and ours.
async fn delete_subnet(gcp: &Gcp, plan: &Plan, report: &mut DestroyReport) {
    let name = &plan.subnet_name;
    let (p, region) = (&gcp.project, &gcp.region);
    let got = gcp.subnetworks.get().set_project(p).set_region(region);
    let result = match exists(got.set_subnetwork(name).send().await, "get subnetwork") {
        Ok(Some(s)) if ours(plan, &to_json(&s)) => {
            let delete = gcp.subnetworks.delete().set_project(p).set_region(region);
            let delete = delete.set_subnetwork(name);
            finish(format!("delete subnetwork {name}"), delete.poller()).await
        }
        Ok(_) => return,
        Err(e) => Err(e),
    };
    report.record(ResourceKind::Subnet, name, name, result);
}

/// The network, when it is there and ours.
async fn delete_network(gcp: &Gcp, plan: &Plan, report: &mut DestroyReport) {
    let name = &plan.network_name;
    let got = gcp
        .networks
        .get()
        .set_project(&gcp.project)
        .set_network(name);
    let result = match exists(got.send().await, "get network") {
        Ok(Some(n)) if ours(plan, &to_json(&n)) => {
            let delete = gcp.networks.delete().set_project(&gcp.project);
            let delete = delete.set_network(name);
            finish(format!("delete network {name}"), delete.poller()).await
        }
        Ok(_) => return,
        Err(e) => Err(e),
    };
    report.record(ResourceKind::Network, name, name, result);
}
