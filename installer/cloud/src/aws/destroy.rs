//! `destroy` on AWS: everything tagged with the cluster's id, machines first, VPC last. Each step
//! continues past failures so the report lists everything left behind.
use std::future::Future;
use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

use super::{code, fail, tag_filter, tag_map, Aws};
use crate::error::Result;
use crate::provider::{DestroyReport, Resource, ResourceKind};
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

fn record<T>(report: &mut DestroyReport, resource: Resource, result: Result<T>) {
    match result {
        Ok(_) => report.deleted.push(resource),
        Err(e) => report.failed.push((resource, e.to_string())),
    }
}

fn name_of(tags: &[aws_sdk_ec2::types::Tag], fallback: &str) -> String {
    tag_map(tags)
        .get("Name")
        .cloned()
        .unwrap_or_else(|| fallback.to_string())
}

pub async fn run(aws: &Aws, plan: &Plan) -> Result<DestroyReport> {
    let c = &aws.client;
    let by_tag = || tag_filter(TAG_CLUSTER_ID, &plan.spec.cluster_id);
    let mut report = DestroyReport::default();

    // Machines, and wait until they are gone: their interfaces hold the groups and subnet.
    let instances = aws.instances(plan).await?;
    let ids: Vec<String> = instances
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect();
    if !ids.is_empty() {
        let result = async {
            c.terminate_instances()
                .set_instance_ids(Some(ids.clone()))
                .send()
                .await
                .map_err(|e| fail("terminate machines", e))?;
            c.wait_until_instance_terminated()
                .set_instance_ids(Some(ids.clone()))
                .wait(TERMINATED_DEADLINE)
                .await
                .map_err(|e| {
                    crate::error::CloudError::api(
                        super::PROVIDER,
                        "wait for machines to terminate",
                        aws_sdk_ec2::error::DisplayErrorContext(&e).to_string(),
                    )
                })?;
            Ok::<_, crate::error::CloudError>(())
        }
        .await;
        for i in &instances {
            let id = i.instance_id().unwrap_or_default();
            let r = Resource {
                kind: ResourceKind::Machine,
                name: name_of(i.tags(), id),
                id: id.to_string(),
            };
            match &result {
                Ok(()) => report.deleted.push(r),
                Err(e) => report.failed.push((r, e.to_string())),
            }
        }
    }

    // Key pairs.
    let keys = c
        .describe_key_pairs()
        .filters(by_tag())
        .send()
        .await
        .map_err(|e| fail("list key pairs", e))?;
    for key in keys.key_pairs() {
        let name = key.key_name().unwrap_or_default();
        let result = c
            .delete_key_pair()
            .key_name(name)
            .send()
            .await
            .map_err(|e| fail(format!("delete key pair {name}"), e));
        record(
            &mut report,
            Resource {
                kind: ResourceKind::SshKey,
                name: name.to_string(),
                id: key.key_pair_id().unwrap_or(name).to_string(),
            },
            result,
        );
    }

    // Security groups.
    let groups = c
        .describe_security_groups()
        .filters(by_tag())
        .send()
        .await
        .map_err(|e| fail("list security groups", e))?;
    for g in groups.security_groups() {
        let id = g.group_id().unwrap_or_default();
        let result = when_free(|| c.delete_security_group().group_id(id).send())
            .await
            .map_err(|e| fail(format!("delete security group {id}"), e));
        record(
            &mut report,
            Resource {
                kind: ResourceKind::Firewall,
                name: g.group_name().unwrap_or(id).to_string(),
                id: id.to_string(),
            },
            result,
        );
    }

    // Route tables (after their subnet associations are removed).
    let tables = c
        .describe_route_tables()
        .filters(by_tag())
        .send()
        .await
        .map_err(|e| fail("list route tables", e))?;
    for t in tables.route_tables() {
        let id = t.route_table_id().unwrap_or_default();
        let result = async {
            for a in t
                .associations()
                .iter()
                .filter(|a| !a.main().unwrap_or(false))
            {
                if let Some(assoc) = a.route_table_association_id() {
                    c.disassociate_route_table()
                        .association_id(assoc)
                        .send()
                        .await
                        .map_err(|e| fail(format!("disassociate route table {id}"), e))?;
                }
            }
            c.delete_route_table()
                .route_table_id(id)
                .send()
                .await
                .map_err(|e| fail(format!("delete route table {id}"), e))
        }
        .await;
        record(
            &mut report,
            Resource {
                kind: ResourceKind::RouteTable,
                name: name_of(t.tags(), id),
                id: id.to_string(),
            },
            result,
        );
    }

    // Subnets.
    let subnets = c
        .describe_subnets()
        .filters(by_tag())
        .send()
        .await
        .map_err(|e| fail("list subnets", e))?;
    for s in subnets.subnets() {
        let id = s.subnet_id().unwrap_or_default();
        let result = when_free(|| c.delete_subnet().subnet_id(id).send())
            .await
            .map_err(|e| fail(format!("delete subnet {id}"), e));
        record(
            &mut report,
            Resource {
                kind: ResourceKind::Subnet,
                name: name_of(s.tags(), id),
                id: id.to_string(),
            },
            result,
        );
    }

    // Internet gateways (detached first).
    let gateways = c
        .describe_internet_gateways()
        .filters(by_tag())
        .send()
        .await
        .map_err(|e| fail("list internet gateways", e))?;
    for g in gateways.internet_gateways() {
        let id = g.internet_gateway_id().unwrap_or_default();
        let result = async {
            for a in g.attachments() {
                if let Some(vpc) = a.vpc_id() {
                    when_free(|| {
                        c.detach_internet_gateway()
                            .internet_gateway_id(id)
                            .vpc_id(vpc)
                            .send()
                    })
                    .await
                    .map_err(|e| fail(format!("detach internet gateway {id}"), e))?;
                }
            }
            c.delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await
                .map_err(|e| fail(format!("delete internet gateway {id}"), e))
        }
        .await;
        record(
            &mut report,
            Resource {
                kind: ResourceKind::Gateway,
                name: name_of(g.tags(), id),
                id: id.to_string(),
            },
            result,
        );
    }

    // The VPC itself.
    let vpcs = c
        .describe_vpcs()
        .filters(by_tag())
        .send()
        .await
        .map_err(|e| fail("list VPCs", e))?;
    for v in vpcs.vpcs() {
        let id = v.vpc_id().unwrap_or_default();
        let result = when_free(|| c.delete_vpc().vpc_id(id).send())
            .await
            .map_err(|e| fail(format!("delete VPC {id}"), e));
        record(
            &mut report,
            Resource {
                kind: ResourceKind::Network,
                name: name_of(v.tags(), id),
                id: id.to_string(),
            },
            result,
        );
    }
    Ok(report)
}
