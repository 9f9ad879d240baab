//! `create` on AWS: find each resource by tag, make the missing ones, in dependency order.
use std::future::Future;
use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, BlockDeviceMapping, EbsBlockDevice, Filter, Instance, InstanceType,
    IpPermission, IpRange, ResourceType, VolumeType,
};
use base64::Engine;

use super::{code, fail, images, tag_filter, tag_map, tag_spec, Aws, PROVIDER};
use crate::error::{CloudError, Result};
use crate::provider::ResourceKind::{
    Firewall, Gateway, Machine, Network, RouteTable, SshKey, Subnet,
};
use crate::provider::{found_or_create, CreateReport};
use crate::retry::{with_backoff, Attempt, Backoff};
use crate::topology::{MachinePlan, Plan, Protocol, Rule, Target, TAG_CLUSTER_ID};

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

pub async fn run(aws: &Aws, plan: &Plan) -> Result<CreateReport> {
    // Fail on a bad image before making anything.
    let image = images::choose(aws, plan.spec.image.as_deref(), &plan.spec.os).await?;
    let mut report = CreateReport::default();
    let mut note = |kind, name: &str, (id, created): (String, bool)| {
        report.note(kind, name, &id, created);
        id
    };
    let vpc = note(Network, &plan.network_name, ensure_vpc(aws, plan).await?);
    let igw = ensure_gateway(aws, plan, &vpc).await?;
    let igw = note(Gateway, &plan.gateway_name, igw);
    let subnet = note(
        Subnet,
        &plan.subnet_name,
        ensure_subnet(aws, plan, &vpc).await?,
    );
    let table = ensure_route_table(aws, plan, &vpc, &igw, &subnet).await?;
    note(RouteTable, &plan.route_table_name, table);
    let mut groups: Vec<(Target, String)> = Vec::new();
    for target in plan.targets() {
        let name = plan.firewall_name(target);
        let group = ensure_security_group(aws, plan, &vpc, target, &name).await?;
        groups.push((target, note(Firewall, &name, group)));
    }
    note(SshKey, &plan.key_name, ensure_key(aws, plan).await?);
    let mut launched = Vec::new();
    let existing = machine_ids(aws, plan).await?;
    for m in &plan.machines {
        let found = existing.iter().find(|(name, _)| name == &m.name);
        let made = found_or_create(found.map(|(_, id)| id.clone()), || {
            launch(aws, plan, m, &image, &subnet, &groups)
        });
        let (id, created) = made.await?;
        if created {
            launched.push(id.clone());
        }
        note(Machine, &m.name, (id, created));
    }
    wait_running(aws, launched).await?;
    // The machines as `status` reports them.
    report.machines = crate::provider::CloudProvider::status(aws, plan).await?;
    Ok(report)
}

fn by_tag(plan: &Plan) -> Filter {
    tag_filter(TAG_CLUSTER_ID, &plan.spec.cluster_id)
}

/// The VPC, with DNS host names on.
async fn ensure_vpc(aws: &Aws, plan: &Plan) -> Result<(String, bool)> {
    let c = &aws.client;
    let found = c.describe_vpcs().filters(by_tag(plan)).send().await;
    let found = found.map_err(|e| fail("list VPCs", e))?;
    let found = found.vpcs().first().and_then(|v| v.vpc_id());
    found_or_create(found.map(str::to_string), || async {
        let spec = tag_spec(plan, ResourceType::Vpc, &plan.network_name, None);
        let out = c
            .create_vpc()
            .cidr_block(&plan.spec.network_cidr)
            .tag_specifications(spec);
        let out = out.send().await.map_err(|e| fail("create VPC", e))?;
        let id = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .unwrap_or_default()
            .to_string();
        let dns = || {
            c.modify_vpc_attribute()
                .vpc_id(&id)
                .enable_dns_hostnames(yes())
                .send()
        };
        eventually(dns)
            .await
            .map_err(|e| fail("enable DNS host names", e))?;
        Ok(id)
    })
    .await
}

/// The internet gateway, attached to the VPC.
async fn ensure_gateway(aws: &Aws, plan: &Plan, vpc: &str) -> Result<(String, bool)> {
    let c = &aws.client;
    let found = c
        .describe_internet_gateways()
        .filters(by_tag(plan))
        .send()
        .await;
    let found = found.map_err(|e| fail("list internet gateways", e))?;
    let found = found
        .internet_gateways()
        .first()
        .and_then(|g| g.internet_gateway_id());
    found_or_create(found.map(str::to_string), || async {
        let spec = tag_spec(
            plan,
            ResourceType::InternetGateway,
            &plan.gateway_name,
            None,
        );
        let out = c
            .create_internet_gateway()
            .tag_specifications(spec)
            .send()
            .await;
        let out = out.map_err(|e| fail("create internet gateway", e))?;
        let igw = out.internet_gateway().and_then(|g| g.internet_gateway_id());
        let id = igw.unwrap_or_default().to_string();
        let attach = || {
            c.attach_internet_gateway()
                .internet_gateway_id(&id)
                .vpc_id(vpc)
                .send()
        };
        eventually(attach)
            .await
            .map_err(|e| fail("attach internet gateway", e))?;
        Ok(id)
    })
    .await
}

/// The public subnet: machines get a public address at launch.
async fn ensure_subnet(aws: &Aws, plan: &Plan, vpc: &str) -> Result<(String, bool)> {
    let c = &aws.client;
    let found = c.describe_subnets().filters(by_tag(plan)).send().await;
    let found = found.map_err(|e| fail("list subnets", e))?;
    let found = found.subnets().first().and_then(|s| s.subnet_id());
    found_or_create(found.map(str::to_string), || async {
        let spec = tag_spec(plan, ResourceType::Subnet, &plan.subnet_name, None);
        let create = c.create_subnet().vpc_id(vpc).cidr_block(&plan.subnet_cidr);
        let create = create.tag_specifications(spec);
        let out = eventually(|| create.clone().send()).await;
        let out = out.map_err(|e| fail("create subnet", e))?;
        let id = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .unwrap_or_default()
            .to_string();
        let public = c
            .modify_subnet_attribute()
            .subnet_id(&id)
            .map_public_ip_on_launch(yes());
        let public = eventually(|| public.clone().send()).await;
        public.map_err(|e| fail("turn on public addresses in the subnet", e))?;
        Ok(id)
    })
    .await
}

/// The route table with the default route through the gateway, associated with the subnet.
async fn ensure_route_table(
    aws: &Aws,
    plan: &Plan,
    vpc: &str,
    igw: &str,
    subnet: &str,
) -> Result<(String, bool)> {
    let c = &aws.client;
    let found = c.describe_route_tables().filters(by_tag(plan)).send().await;
    let found = found.map_err(|e| fail("list route tables", e))?;
    let found = found
        .route_tables()
        .first()
        .and_then(|r| r.route_table_id());
    found_or_create(found.map(str::to_string), || async {
        let spec = tag_spec(plan, ResourceType::RouteTable, &plan.route_table_name, None);
        let create = c.create_route_table().vpc_id(vpc).tag_specifications(spec);
        let out = eventually(|| create.clone().send()).await;
        let out = out.map_err(|e| fail("create route table", e))?;
        let id = out.route_table().and_then(|r| r.route_table_id());
        let id = id.unwrap_or_default().to_string();
        let route = c
            .create_route()
            .route_table_id(&id)
            .destination_cidr_block("0.0.0.0/0");
        let route = route.gateway_id(igw);
        let added = eventually(|| route.clone().send()).await;
        added.map_err(|e| fail("add the default route", e))?;
        let assoc = c
            .associate_route_table()
            .route_table_id(&id)
            .subnet_id(subnet);
        let assoc = eventually(|| assoc.clone().send()).await;
        assoc.map_err(|e| fail("associate the route table", e))?;
        Ok(id)
    })
    .await
}

/// One security group for the rules aimed at `target`.
async fn ensure_security_group(
    aws: &Aws,
    plan: &Plan,
    vpc: &str,
    target: Target,
    name: &str,
) -> Result<(String, bool)> {
    let c = &aws.client;
    let named = Filter::builder().name("group-name").values(name).build();
    let found = c
        .describe_security_groups()
        .filters(by_tag(plan))
        .filters(named);
    let found = found
        .send()
        .await
        .map_err(|e| fail("list security groups", e))?;
    let found = found.security_groups().first().and_then(|g| g.group_id());
    found_or_create(found.map(str::to_string), || async {
        let what = format!("Strato cluster {}: {}", plan.spec.cluster_name, name);
        let spec = tag_spec(plan, ResourceType::SecurityGroup, name, None);
        let create = c.create_security_group().group_name(name).description(what);
        let create = create.vpc_id(vpc).tag_specifications(spec);
        let out = eventually(|| create.clone().send()).await;
        let out = out.map_err(|e| fail(format!("create security group {name}"), e))?;
        let id = out.group_id().unwrap_or_default().to_string();
        let rules = plan.rules.iter().filter(|r| r.target == target);
        let perms: Vec<IpPermission> = rules.flat_map(permissions).collect();
        let open = c.authorize_security_group_ingress().group_id(&id);
        let open = open.set_ip_permissions(Some(perms));
        let opened = eventually(|| open.clone().send()).await;
        opened.map_err(|e| fail(format!("open ports in {name}"), e))?;
        Ok(id)
    })
    .await
}

/// The operator's public key, imported under the plan's key name (which is also its id here).
async fn ensure_key(aws: &Aws, plan: &Plan) -> Result<(String, bool)> {
    let c = &aws.client;
    let found = match c
        .describe_key_pairs()
        .key_names(&plan.key_name)
        .send()
        .await
    {
        Ok(out) if !out.key_pairs().is_empty() => Some(plan.key_name.clone()),
        Ok(_) => None,
        Err(e) if code(&e) == "InvalidKeyPair.NotFound" => None,
        Err(e) => return Err(fail("list key pairs", e)),
    };
    found_or_create(found, || async {
        let key = Blob::new(plan.spec.ssh_public_key.as_bytes());
        let spec = tag_spec(plan, ResourceType::KeyPair, &plan.key_name, None);
        let import = c
            .import_key_pair()
            .key_name(&plan.key_name)
            .public_key_material(key);
        let imported = import.tag_specifications(spec).send().await;
        let path = plan.spec.ssh_public_key_path.display();
        imported.map_err(|e| fail(format!("import the SSH key {path}"), e))?;
        Ok(plan.key_name.clone())
    })
    .await
}

/// The cluster's instances as (Name tag, instance id).
async fn machine_ids(aws: &Aws, plan: &Plan) -> Result<Vec<(String, String)>> {
    let instances = aws.instances(plan).await?;
    let name = |i: &Instance| tag_map(i.tags()).get("Name").cloned().unwrap_or_default();
    let id = |i: &Instance| i.instance_id().unwrap_or_default().to_string();
    Ok(instances.iter().map(|i| (name(i), id(i))).collect())
}

/// One machine: one run_instances per machine, so each carries its own Name tag.
async fn launch(
    aws: &Aws,
    plan: &Plan,
    m: &MachinePlan,
    image: &images::Chosen,
    subnet: &str,
    groups: &[(Target, String)],
) -> Result<String> {
    let targets = plan.targets_for(m.role);
    let group_of = |t: &Target| {
        groups
            .iter()
            .find(|(g, _)| g == t)
            .map(|(_, id)| id.clone())
    };
    let sgs: Vec<String> = targets.iter().filter_map(group_of).collect();
    let user_data = crate::cloud_init::user_data(plan, m.role)?
        .map(|u| base64::engine::general_purpose::STANDARD.encode(u));
    let size = i32::try_from(m.disk_gib).unwrap_or(i32::MAX);
    let ebs = EbsBlockDevice::builder()
        .volume_size(size)
        .volume_type(VolumeType::Gp3);
    let ebs = ebs.delete_on_termination(true).build();
    let disk = BlockDeviceMapping::builder()
        .device_name(&image.root_device)
        .ebs(ebs)
        .build();
    let run = aws
        .client
        .run_instances()
        .image_id(&image.image_id)
        .instance_type(InstanceType::from(m.instance_type.as_str()))
        .min_count(1)
        .max_count(1)
        .key_name(&plan.key_name)
        .subnet_id(subnet)
        .set_security_group_ids(Some(sgs))
        .set_user_data(user_data)
        .block_device_mappings(disk)
        .tag_specifications(tag_spec(
            plan,
            ResourceType::Instance,
            &m.name,
            Some(m.role),
        ))
        .tag_specifications(tag_spec(plan, ResourceType::Volume, &m.name, Some(m.role)));
    let out = eventually(|| run.clone().send()).await;
    let what = format!("create machine {} ({})", m.name, m.instance_type);
    let out = out.map_err(|e| fail(what, e))?;
    let id = out.instances().first().and_then(|i| i.instance_id());
    Ok(id.unwrap_or_default().to_string())
}

/// Wait until the machines launched now run.
async fn wait_running(aws: &Aws, launched: Vec<String>) -> Result<()> {
    use aws_sdk_ec2::waiters::instance_running::WaitUntilInstanceRunningError as E;
    if launched.is_empty() {
        return Ok(());
    }
    let step = "wait for machines to run";
    let wait = aws
        .client
        .wait_until_instance_running()
        .set_instance_ids(Some(launched));
    match wait.wait(RUNNING_DEADLINE).await {
        Ok(_) => Ok(()),
        Err(E::ExceededMaxWait(_)) => Err(CloudError::Timeout {
            provider: PROVIDER,
            step: step.into(),
            seconds: RUNNING_DEADLINE.as_secs(),
        }),
        Err(other) => {
            let message = aws_sdk_ec2::error::DisplayErrorContext(&other).to_string();
            Err(CloudError::api(PROVIDER, step, message))
        }
    }
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
