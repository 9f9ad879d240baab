//! `destroy` on AWS: everything tagged with the cluster's id, machines first, VPC last. Each step
//! continues past failures so the report lists everything left behind.
use std::future::Future;
use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

use aws_sdk_ec2::types::Filter;

use super::{code, fail, tag_filter, tag_map, Aws, PROVIDER};
use crate::error::{CloudError, Result};
use crate::provider::{DestroyReport, ResourceKind};
use crate::retry::{with_backoff, Attempt, Backoff};
use crate::topology::{Plan, TAG_CLUSTER_ID};

/// Network interfaces of terminated machines linger; groups and subnets stay "in use" until then.
const IN_USE: Backoff = Backoff::new(
    Duration::from_secs(2),
    Duration::from_secs(15),
    Duration::from_secs(300),
);
const TERMINATED_DEADLINE: Duration = Duration::from_secs(600);

/// Retry `op` while AWS says the resource is still in use.
async fn when_free<T, E, R, F, Fut>(mut op: F) -> Result<T, SdkError<E, R>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata,
{
    with_backoff(IN_USE, || {
        let fut = op();
        async move {
            match fut.await {
                Ok(v) => Attempt::Done(v),
                Err(e) if matches!(code(&e), "DependencyViolation" | "RequestLimitExceeded") => {
                    Attempt::Retry(e)
                }
                Err(e) => Attempt::Fail(e),
            }
        }
    })
    .await
}

fn name_of(tags: &[aws_sdk_ec2::types::Tag], fallback: &str) -> String {
    tag_map(tags)
        .get("Name")
        .cloned()
        .unwrap_or_else(|| fallback.to_string())
}

fn by_tag(plan: &Plan) -> Filter {
    tag_filter(TAG_CLUSTER_ID, &plan.spec.cluster_id)
}

/// What `create` makes, in its order; destroy walks them backwards.
const KINDS: &[ResourceKind] = &[
    ResourceKind::Network,
    ResourceKind::Gateway,
    ResourceKind::Subnet,
    ResourceKind::RouteTable,
    ResourceKind::Firewall,
    ResourceKind::SshKey,
    ResourceKind::Machine,
];

pub async fn run(aws: &Aws, plan: &Plan) -> Result<DestroyReport> {
    let mut report = DestroyReport::default();
    for &kind in KINDS.iter().rev() {
        let report = &mut report;
        match kind {
            ResourceKind::Machine => delete_machines(aws, plan, report).await?,
            ResourceKind::SshKey => delete_keys(aws, plan, report).await?,
            ResourceKind::Firewall => delete_security_groups(aws, plan, report).await?,
            ResourceKind::RouteTable => delete_route_tables(aws, plan, report).await?,
            ResourceKind::Subnet => delete_subnets(aws, plan, report).await?,
            ResourceKind::Gateway => delete_gateways(aws, plan, report).await?,
            ResourceKind::Network => delete_vpcs(aws, plan, report).await?,
            _ => {}
        }
    }
    Ok(report)
}

/// Machines, and wait until they are gone: their interfaces hold the groups and subnet.
async fn delete_machines(aws: &Aws, plan: &Plan, report: &mut DestroyReport) -> Result<()> {
    let c = &aws.client;
    let instances = aws.instances(plan).await?;
    let ids: Vec<String> = instances
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let result = async {
        let terminate = c.terminate_instances().set_instance_ids(Some(ids.clone()));
        terminate
            .send()
            .await
            .map_err(|e| fail("terminate machines", e))?;
        let wait = c
            .wait_until_instance_terminated()
            .set_instance_ids(Some(ids));
        wait.wait(TERMINATED_DEADLINE).await.map_err(|e| {
            let message = aws_sdk_ec2::error::DisplayErrorContext(&e).to_string();
            CloudError::api(PROVIDER, "wait for machines to terminate", message)
        })
    }
    .await;
    for i in &instances {
        let id = i.instance_id().unwrap_or_default();
        let name = name_of(i.tags(), id);
        report.record(ResourceKind::Machine, &name, id, result.as_ref());
    }
    Ok(())
}

/// Key pairs.
async fn delete_keys(aws: &Aws, plan: &Plan, report: &mut DestroyReport) -> Result<()> {
    let c = &aws.client;
    let keys = c.describe_key_pairs().filters(by_tag(plan)).send().await;
    let keys = keys.map_err(|e| fail("list key pairs", e))?;
    for key in keys.key_pairs() {
        let name = key.key_name().unwrap_or_default();
        let result = c.delete_key_pair().key_name(name).send().await;
        let result = result.map_err(|e| fail(format!("delete key pair {name}"), e));
        let id = key.key_pair_id().unwrap_or(name);
        report.record(ResourceKind::SshKey, name, id, result);
    }
    Ok(())
}

/// Security groups (once the machines' interfaces no longer hold them).
async fn delete_security_groups(aws: &Aws, plan: &Plan, report: &mut DestroyReport) -> Result<()> {
    let c = &aws.client;
    let groups = c
        .describe_security_groups()
        .filters(by_tag(plan))
        .send()
        .await;
    let groups = groups.map_err(|e| fail("list security groups", e))?;
    for g in groups.security_groups() {
        let id = g.group_id().unwrap_or_default();
        let result = when_free(|| c.delete_security_group().group_id(id).send()).await;
        let result = result.map_err(|e| fail(format!("delete security group {id}"), e));
        let name = g.group_name().unwrap_or(id);
        report.record(ResourceKind::Firewall, name, id, result);
    }
    Ok(())
}

/// Route tables, after their subnet associations are removed.
async fn delete_route_tables(aws: &Aws, plan: &Plan, report: &mut DestroyReport) -> Result<()> {
    let c = &aws.client;
    let tables = c.describe_route_tables().filters(by_tag(plan)).send().await;
    let tables = tables.map_err(|e| fail("list route tables", e))?;
    for t in tables.route_tables() {
        let id = t.route_table_id().unwrap_or_default();
        let result = async {
            let associations = t
                .associations()
                .iter()
                .filter(|a| !a.main().unwrap_or(false));
            for assoc in associations.filter_map(|a| a.route_table_association_id()) {
                let gone = c
                    .disassociate_route_table()
                    .association_id(assoc)
                    .send()
                    .await;
                gone.map_err(|e| fail(format!("disassociate route table {id}"), e))?;
            }
            let gone = c.delete_route_table().route_table_id(id).send().await;
            gone.map_err(|e| fail(format!("delete route table {id}"), e))
        }
        .await;
        report.record(ResourceKind::RouteTable, &name_of(t.tags(), id), id, result);
    }
    Ok(())
}

/// Subnets.
async fn delete_subnets(aws: &Aws, plan: &Plan, report: &mut DestroyReport) -> Result<()> {
    let c = &aws.client;
    let subnets = c.describe_subnets().filters(by_tag(plan)).send().await;
    let subnets = subnets.map_err(|e| fail("list subnets", e))?;
    for s in subnets.subnets() {
        let id = s.subnet_id().unwrap_or_default();
        let result = when_free(|| c.delete_subnet().subnet_id(id).send()).await;
        let result = result.map_err(|e| fail(format!("delete subnet {id}"), e));
        report.record(ResourceKind::Subnet, &name_of(s.tags(), id), id, result);
    }
    Ok(())
}

/// Internet gateways, detached first.
async fn delete_gateways(aws: &Aws, plan: &Plan, report: &mut DestroyReport) -> Result<()> {
    let c = &aws.client;
    let gateways = c
        .describe_internet_gateways()
        .filters(by_tag(plan))
        .send()
        .await;
    let gateways = gateways.map_err(|e| fail("list internet gateways", e))?;
    for g in gateways.internet_gateways() {
        let id = g.internet_gateway_id().unwrap_or_default();
        let result = async {
            for vpc in g.attachments().iter().filter_map(|a| a.vpc_id()) {
                let detach = c
                    .detach_internet_gateway()
                    .internet_gateway_id(id)
                    .vpc_id(vpc);
                let gone = when_free(|| detach.clone().send()).await;
                gone.map_err(|e| fail(format!("detach internet gateway {id}"), e))?;
            }
            let gone = c
                .delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await;
            gone.map_err(|e| fail(format!("delete internet gateway {id}"), e))
        }
        .await;
        report.record(ResourceKind::Gateway, &name_of(g.tags(), id), id, result);
    }
    Ok(())
}

/// The VPC itself.
async fn delete_vpcs(aws: &Aws, plan: &Plan, report: &mut DestroyReport) -> Result<()> {
    let c = &aws.client;
    let vpcs = c.describe_vpcs().filters(by_tag(plan)).send().await;
    let vpcs = vpcs.map_err(|e| fail("list VPCs", e))?;
    for v in vpcs.vpcs() {
        let id = v.vpc_id().unwrap_or_default();
        let result = when_free(|| c.delete_vpc().vpc_id(id).send()).await;
        let result = result.map_err(|e| fail(format!("delete VPC {id}"), e));
        report.record(ResourceKind::Network, &name_of(v.tags(), id), id, result);
    }
    Ok(())
}
