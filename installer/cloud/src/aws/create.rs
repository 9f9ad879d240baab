//! `create` on AWS: find each resource by tag, make the missing ones, in dependency order.
use std::future::Future;
use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, BlockDeviceMapping, EbsBlockDevice, Filter, InstanceType, IpPermission,
    IpRange, ResourceType, VolumeType,
};
use base64::Engine;

use super::{code, fail, images, machine, tag_filter, tag_map, tag_spec, Aws, PROVIDER};
use crate::error::{CloudError, Result};
use crate::provider::{sort_machines, CreateReport, Resource, ResourceKind};
use crate::retry::{with_backoff, Attempt, Backoff};
use crate::topology::{Plan, Protocol, Rule, Target, TAG_CLUSTER_ID};

/// A resource made a moment ago may be "not found" for a few seconds.
const CONSISTENCY: Backoff = Backoff::new(
    Duration::from_millis(500),
    Duration::from_secs(8),
    Duration::from_secs(90),
);
/// How long machines may take to reach `running`.
const RUNNING_DEADLINE: Duration = Duration::from_secs(600);

/// "Not found" codes for the kinds of resource this module has just made (EC2 is eventually
/// consistent); a bad image or instance type is not among them and fails at once.
const JUST_MADE_NOT_FOUND: &[&str] = &[
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidKeyPair.NotFound",
];

/// Retry `op` while AWS says something we just made is not found yet.
pub(super) async fn eventually<T, E, R, F, Fut>(mut op: F) -> Result<T, SdkError<E, R>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata,
{
    with_backoff(CONSISTENCY, || {
        let fut = op();
        async move {
            match fut.await {
                Ok(v) => Attempt::Done(v),
                Err(e) if JUST_MADE_NOT_FOUND.contains(&code(&e)) => Attempt::Retry(e),
                Err(e) => Attempt::Fail(e),
            }
        }
    })
    .await
}

fn yes() -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(true).build()
}

fn note(report: &mut CreateReport, created: bool, kind: ResourceKind, name: &str, id: &str) {
    let r = Resource {
        kind,
        name: name.to_string(),
        id: id.to_string(),
    };
    if created {
        report.created.push(r);
    } else {
        report.existing.push(r);
    }
}

pub async fn run(aws: &Aws, plan: &Plan) -> Result<CreateReport> {
    let c = &aws.client;
    let mut report = CreateReport::default();
    let by_tag = || tag_filter(TAG_CLUSTER_ID, &plan.spec.cluster_id);
    // Fail on a bad image before making anything.
    let image = images::choose(aws, plan.spec.image.as_deref(), &plan.spec.os).await?;

    // Network.
    let found = c
        .describe_vpcs()
        .filters(by_tag())
        .send()
        .await
        .map_err(|e| fail("list VPCs", e))?;
    let (vpc_id, made) = match found.vpcs().first().and_then(|v| v.vpc_id()) {
        Some(id) => (id.to_string(), false),
        None => {
            let out = c
                .create_vpc()
                .cidr_block(&plan.spec.network_cidr)
                .tag_specifications(tag_spec(plan, ResourceType::Vpc, &plan.network_name, None))
                .send()
                .await
                .map_err(|e| fail("create VPC", e))?;
            let id = out
                .vpc()
                .and_then(|v| v.vpc_id())
                .unwrap_or_default()
                .to_string();
            eventually(|| {
                c.modify_vpc_attribute()
                    .vpc_id(&id)
                    .enable_dns_hostnames(yes())
                    .send()
            })
            .await
            .map_err(|e| fail("enable DNS host names", e))?;
            (id, true)
        }
    };
    note(
        &mut report,
        made,
        ResourceKind::Network,
        &plan.network_name,
        &vpc_id,
    );

    // Internet gateway, attached to the VPC.
    let found = c
        .describe_internet_gateways()
        .filters(by_tag())
        .send()
        .await
        .map_err(|e| fail("list internet gateways", e))?;
    let (igw_id, made) = match found
        .internet_gateways()
        .first()
        .and_then(|g| g.internet_gateway_id())
    {
        Some(id) => (id.to_string(), false),
        None => {
            let out = c
                .create_internet_gateway()
                .tag_specifications(tag_spec(
                    plan,
                    ResourceType::InternetGateway,
                    &plan.gateway_name,
                    None,
                ))
                .send()
                .await
                .map_err(|e| fail("create internet gateway", e))?;
            let id = out
                .internet_gateway()
                .and_then(|g| g.internet_gateway_id())
                .unwrap_or_default()
                .to_string();
            eventually(|| {
                c.attach_internet_gateway()
                    .internet_gateway_id(&id)
                    .vpc_id(&vpc_id)
                    .send()
            })
            .await
            .map_err(|e| fail("attach internet gateway", e))?;
            (id, true)
        }
    };
    note(
        &mut report,
        made,
        ResourceKind::Gateway,
        &plan.gateway_name,
        &igw_id,
    );

    // Public subnet: machines get a public address at launch.
    let found = c
        .describe_subnets()
        .filters(by_tag())
        .send()
        .await
        .map_err(|e| fail("list subnets", e))?;
    let (subnet_id, made) = match found.subnets().first().and_then(|s| s.subnet_id()) {
        Some(id) => (id.to_string(), false),
        None => {
            let out = eventually(|| {
                c.create_subnet()
                    .vpc_id(&vpc_id)
                    .cidr_block(&plan.subnet_cidr)
                    .tag_specifications(tag_spec(
                        plan,
                        ResourceType::Subnet,
                        &plan.subnet_name,
                        None,
                    ))
                    .send()
            })
            .await
            .map_err(|e| fail("create subnet", e))?;
            let id = out
                .subnet()
                .and_then(|s| s.subnet_id())
                .unwrap_or_default()
                .to_string();
            eventually(|| {
                c.modify_subnet_attribute()
                    .subnet_id(&id)
                    .map_public_ip_on_launch(yes())
                    .send()
            })
            .await
            .map_err(|e| fail("turn on public addresses in the subnet", e))?;
            (id, true)
        }
    };
    note(
        &mut report,
        made,
        ResourceKind::Subnet,
        &plan.subnet_name,
        &subnet_id,
    );

    // Route table with the default route through the gateway.
    let found = c
        .describe_route_tables()
        .filters(by_tag())
        .send()
        .await
        .map_err(|e| fail("list route tables", e))?;
    let (rt_id, made) = match found
        .route_tables()
        .first()
        .and_then(|r| r.route_table_id())
    {
        Some(id) => (id.to_string(), false),
        None => {
            let out = eventually(|| {
                c.create_route_table()
                    .vpc_id(&vpc_id)
                    .tag_specifications(tag_spec(
                        plan,
                        ResourceType::RouteTable,
                        &plan.route_table_name,
                        None,
                    ))
                    .send()
            })
            .await
            .map_err(|e| fail("create route table", e))?;
            let id = out
                .route_table()
                .and_then(|r| r.route_table_id())
                .unwrap_or_default()
                .to_string();
            eventually(|| {
                c.create_route()
                    .route_table_id(&id)
                    .destination_cidr_block("0.0.0.0/0")
                    .gateway_id(&igw_id)
                    .send()
            })
            .await
            .map_err(|e| fail("add the default route", e))?;
            eventually(|| {
                c.associate_route_table()
                    .route_table_id(&id)
                    .subnet_id(&subnet_id)
                    .send()
            })
            .await
            .map_err(|e| fail("associate the route table", e))?;
            (id, true)
        }
    };
    note(
        &mut report,
        made,
        ResourceKind::RouteTable,
        &plan.route_table_name,
        &rt_id,
    );

    // One security group per rule target.
    let mut groups: Vec<(Target, String)> = Vec::new();
    for target in plan.targets() {
        let name = plan.firewall_name(target);
        let found = c
            .describe_security_groups()
            .filters(by_tag())
            .filters(Filter::builder().name("group-name").values(&name).build())
            .send()
            .await
            .map_err(|e| fail("list security groups", e))?;
        let (id, made) = match found.security_groups().first().and_then(|g| g.group_id()) {
            Some(id) => (id.to_string(), false),
            None => {
                let out = eventually(|| {
                    c.create_security_group()
                        .group_name(&name)
                        .description(format!(
                            "Strato cluster {}: {}",
                            plan.spec.cluster_name, name
                        ))
                        .vpc_id(&vpc_id)
                        .tag_specifications(tag_spec(
                            plan,
                            ResourceType::SecurityGroup,
                            &name,
                            None,
                        ))
                        .send()
                })
                .await
                .map_err(|e| fail(format!("create security group {name}"), e))?;
                let id = out.group_id().unwrap_or_default().to_string();
                let perms: Vec<IpPermission> = plan
                    .rules
                    .iter()
                    .filter(|r| r.target == target)
                    .flat_map(permissions)
                    .collect();
                eventually(|| {
                    c.authorize_security_group_ingress()
                        .group_id(&id)
                        .set_ip_permissions(Some(perms.clone()))
                        .send()
                })
                .await
                .map_err(|e| fail(format!("open ports in {name}"), e))?;
                (id, true)
            }
        };
        note(&mut report, made, ResourceKind::Firewall, &name, &id);
        groups.push((target, id));
    }

    // The operator's public key.
    let made = match c
        .describe_key_pairs()
        .key_names(&plan.key_name)
        .send()
        .await
    {
        Ok(out) if !out.key_pairs().is_empty() => false,
        Ok(_) => true,
        Err(e) if code(&e) == "InvalidKeyPair.NotFound" => true,
        Err(e) => return Err(fail("list key pairs", e)),
    };
    if made {
        c.import_key_pair()
            .key_name(&plan.key_name)
            .public_key_material(Blob::new(plan.spec.ssh_public_key.as_bytes()))
            .tag_specifications(tag_spec(plan, ResourceType::KeyPair, &plan.key_name, None))
            .send()
            .await
            .map_err(|e| {
                fail(
                    format!(
                        "import the SSH key {}",
                        plan.spec.ssh_public_key_path.display()
                    ),
                    e,
                )
            })?;
    }
    note(
        &mut report,
        made,
        ResourceKind::SshKey,
        &plan.key_name,
        &plan.key_name,
    );

    // Machines: one run_instances per missing name, so each carries its own Name tag.
    let existing: Vec<(String, String)> = aws
        .instances(plan)
        .await?
        .iter()
        .map(|i| {
            (
                tag_map(i.tags()).get("Name").cloned().unwrap_or_default(),
                i.instance_id().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut launched = Vec::new();
    for m in &plan.machines {
        if let Some((_, id)) = existing.iter().find(|(name, _)| name == &m.name) {
            note(&mut report, false, ResourceKind::Machine, &m.name, id);
            continue;
        }
        let sgs: Vec<String> = plan
            .targets_for(m.role)
            .iter()
            .filter_map(|t| {
                groups
                    .iter()
                    .find(|(g, _)| g == t)
                    .map(|(_, id)| id.clone())
            })
            .collect();
        let user_data = crate::cloud_init::user_data(plan, m.role)?
            .map(|u| base64::engine::general_purpose::STANDARD.encode(u));
        let disk = BlockDeviceMapping::builder()
            .device_name(&image.root_device)
            .ebs(
                EbsBlockDevice::builder()
                    .volume_size(i32::try_from(m.disk_gib).unwrap_or(i32::MAX))
                    .volume_type(VolumeType::Gp3)
                    .delete_on_termination(true)
                    .build(),
            )
            .build();
        let out = eventually(|| {
            c.run_instances()
                .image_id(&image.image_id)
                .instance_type(InstanceType::from(m.instance_type.as_str()))
                .min_count(1)
                .max_count(1)
                .key_name(&plan.key_name)
                .subnet_id(&subnet_id)
                .set_security_group_ids(Some(sgs.clone()))
                .set_user_data(user_data.clone())
                .block_device_mappings(disk.clone())
                .tag_specifications(tag_spec(
                    plan,
                    ResourceType::Instance,
                    &m.name,
                    Some(m.role),
                ))
                .tag_specifications(tag_spec(plan, ResourceType::Volume, &m.name, Some(m.role)))
                .send()
        })
        .await
        .map_err(|e| {
            fail(
                format!("create machine {} ({})", m.name, m.instance_type),
                e,
            )
        })?;
        let id = out
            .instances()
            .first()
            .and_then(|i| i.instance_id())
            .unwrap_or_default()
            .to_string();
        note(&mut report, true, ResourceKind::Machine, &m.name, &id);
        launched.push(id);
    }

    if !launched.is_empty() {
        c.wait_until_instance_running().set_instance_ids(Some(launched)).wait(RUNNING_DEADLINE).await.map_err(|e| {
            use aws_sdk_ec2::error::DisplayErrorContext;
            match e {
                aws_sdk_ec2::waiters::instance_running::WaitUntilInstanceRunningError::ExceededMaxWait(_) => {
                    CloudError::Timeout { provider: PROVIDER, step: "wait for machines to run".into(), seconds: RUNNING_DEADLINE.as_secs() }
                }
                other => CloudError::api(PROVIDER, "wait for machines to run", DisplayErrorContext(&other).to_string()),
            }
        })?;
    }
    let mut machines: Vec<_> = aws
        .instances(plan)
        .await?
        .iter()
        .filter_map(machine)
        .collect();
    sort_machines(&mut machines);
    report.machines = machines;
    Ok(report)
}

/// EC2 permissions for one rule: one per port range (all ports when the rule has none).
fn permissions(rule: &Rule) -> Vec<IpPermission> {
    let ranges: Vec<IpRange> = rule
        .sources
        .iter()
        .map(|c| IpRange::builder().cidr_ip(c).description(rule.name).build())
        .collect();
    let proto = match rule.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Icmp => "icmp",
        Protocol::All => "-1",
    };
    if rule.ports.is_empty() {
        return vec![IpPermission::builder()
            .ip_protocol(proto)
            .set_ip_ranges(Some(ranges))
            .build()];
    }
    rule.ports
        .iter()
        .map(|&(from, to)| {
            IpPermission::builder()
                .ip_protocol(proto)
                .from_port(i32::from(from))
                .to_port(i32::from(to))
                .set_ip_ranges(Some(ranges.clone()))
                .build()
        })
        .collect()
}
