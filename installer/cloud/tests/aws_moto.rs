//! AWS end to end against moto in server mode: create → status → create again → destroy, and the
//! errors a user meets for a bad region, instance type, image and key.
//!
//! Proves the EC2 API choreography (calls, parameters, tags, ordering, idempotence, teardown by
//! tag) against moto's model of EC2. Does not prove boot, cloud-init or SSH: moto runs no machines.
mod common;

use aws_sdk_ec2::types::Filter;
use common::moto::Moto;
use strato_cloud::cmd::{self, Confirm, CreateOptions, ProviderEnv};

const REGION: &str = "us-east-1";

fn env(moto: &Moto) -> ProviderEnv {
    Moto::set_fake_credentials();
    ProviderEnv {
        aws_endpoint: Some(moto.url.clone()),
        ..ProviderEnv::default()
    }
}

fn no_wait() -> CreateOptions {
    CreateOptions {
        no_wait: true,
        ..CreateOptions::default()
    }
}

/// A public AMI moto knows (AMI validation is on, so a made-up id would be refused).
async fn some_ami(moto: &Moto) -> String {
    let ec2 = moto.client(REGION).await;
    let images = ec2
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .expect("describe images");
    images
        .images()
        .iter()
        .find_map(|i| i.image_id().map(str::to_string))
        .expect("moto has AMIs")
}

fn cloud(image: &str, region: &str, agent_type: &str) -> String {
    format!(
        "  provider: aws\n  region: {region}\n  os: rocky-9\n  image: {image}\n  ssh_public_key: id_test.pub\n  admin_cidrs: [203.0.113.0/24]\n  \
         instance_types: {{bootstrap: t3.medium, master: m5.xlarge, agent: {agent_type}, public_agent: m5.large}}\n  \
         counts: {{masters: 3, agents: 2, public_agents: 1}}\n  disk_gib: {{master: 120, agent: 60}}\n"
    )
}

async fn count_tagged(ec2: &aws_sdk_ec2::Client, id: &str) -> Vec<(String, usize)> {
    let f = || {
        Filter::builder()
            .name("tag:strato-cluster-id")
            .values(id)
            .build()
    };
    let live = Filter::builder()
        .name("instance-state-name")
        .values("pending")
        .values("running")
        .values("stopping")
        .values("stopped")
        .build();
    let instances = ec2
        .describe_instances()
        .filters(f())
        .filters(live)
        .send()
        .await
        .expect("instances");
    vec![
        (
            "instances".into(),
            instances
                .reservations()
                .iter()
                .map(|r| r.instances().len())
                .sum(),
        ),
        (
            "vpcs".into(),
            ec2.describe_vpcs()
                .filters(f())
                .send()
                .await
                .expect("vpcs")
                .vpcs()
                .len(),
        ),
        (
            "subnets".into(),
            ec2.describe_subnets()
                .filters(f())
                .send()
                .await
                .expect("subnets")
                .subnets()
                .len(),
        ),
        (
            "gateways".into(),
            ec2.describe_internet_gateways()
                .filters(f())
                .send()
                .await
                .expect("igws")
                .internet_gateways()
                .len(),
        ),
        (
            "route tables".into(),
            ec2.describe_route_tables()
                .filters(f())
                .send()
                .await
                .expect("rts")
                .route_tables()
                .len(),
        ),
        (
            "security groups".into(),
            ec2.describe_security_groups()
                .filters(f())
                .send()
                .await
                .expect("sgs")
                .security_groups()
                .len(),
        ),
        (
            "key pairs".into(),
            ec2.describe_key_pairs()
                .filters(f())
                .send()
                .await
                .expect("keys")
                .key_pairs()
                .len(),
        ),
    ]
}

#[tokio::test]
async fn create_status_create_again_destroy() {
    let moto = Moto::start();
    let env = env(&moto);
    let ami = some_ami(&moto).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), &cloud(&ami, REGION, "m5.xlarge"));
    let spec = strato_cloud::spec::load(&config).expect("spec");
    let ec2 = moto.client(REGION).await;

    // Dry run: prints the plan, creates nothing.
    let mut out = Vec::new();
    cmd::create(
        &config,
        &CreateOptions {
            dry_run: true,
            ..no_wait()
        },
        &env,
        &mut out,
    )
    .await
    .expect("dry run");
    let text = String::from_utf8(out).expect("utf8");
    assert!(
        text.contains("demo-master-3") && text.contains("dry run: nothing was created"),
        "{text}"
    );
    assert!(count_tagged(&ec2, &spec.cluster_id)
        .await
        .iter()
        .all(|(_, n)| *n == 0));

    // Create.
    let mut out = Vec::new();
    let report = cmd::create(&config, &no_wait(), &env, &mut out)
        .await
        .expect("create");
    let created: Vec<String> = report
        .created
        .iter()
        .map(|r| format!("{} {}", r.kind.as_str(), r.name))
        .collect();
    for want in [
        "network demo-net",
        "internet gateway demo-igw",
        "subnet demo-subnet",
        "route table demo-routes",
        "firewall demo-nodes",
        "firewall demo-masters",
        "firewall demo-public-agents",
        "ssh key demo-key",
        "machine demo-bootstrap",
        "machine demo-master-1",
        "machine demo-master-3",
        "machine demo-agent-2",
        "machine demo-public-agent-1",
    ] {
        assert!(
            created.contains(&want.to_string()),
            "missing {want} in {created:?}"
        );
    }
    assert_eq!(report.machines.len(), 7);
    assert!(
        report
            .machines
            .iter()
            .all(|m| m.state == strato_cloud::MachineState::Running && m.public_ip.is_some()),
        "{:?}",
        report.machines
    );

    // The firewall: SSH only from the admins, public agents' ports from anywhere.
    let sgs = ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("tag:strato-cluster-id")
                .values(&spec.cluster_id)
                .build(),
        )
        .send()
        .await
        .expect("sgs");
    let nodes = sgs
        .security_groups()
        .iter()
        .find(|g| g.group_name() == Some("demo-nodes"))
        .expect("nodes group");
    let ssh = nodes
        .ip_permissions()
        .iter()
        .find(|p| p.from_port() == Some(22))
        .expect("ssh rule");
    assert_eq!(
        ssh.ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip())
            .collect::<Vec<_>>(),
        vec!["203.0.113.0/24"]
    );
    let public = sgs
        .security_groups()
        .iter()
        .find(|g| g.group_name() == Some("demo-public-agents"))
        .expect("public group");
    let ports: Vec<(i32, i32)> = public
        .ip_permissions()
        .iter()
        .filter_map(|p| Some((p.from_port()?, p.to_port()?)))
        .collect();
    for want in [(80, 80), (443, 443), (10000, 10100)] {
        assert!(ports.contains(&want), "{ports:?}");
    }

    // cluster.yaml: addresses in, comments kept.
    let yaml = std::fs::read_to_string(&config).expect("read back");
    assert!(
        yaml.starts_with("# Demo cluster, written by hand. This comment must survive"),
        "{yaml}"
    );
    assert!(
        yaml.contains("# filled in by strato cloud create")
            && yaml.contains("# none yet")
            && yaml.contains("# cloud-init creates this user"),
        "{yaml}"
    );
    let doc: yaml_serde::Value = yaml_serde::from_str(&yaml).expect("still YAML");
    // Nodes by private address (the bootstrap host fans out inside the network), the bootstrap
    // host by public address (the operator reaches it).
    let masters: Vec<String> = report
        .machines
        .iter()
        .filter(|m| m.role == strato_cloud::Role::Master)
        .filter_map(|m| m.private_ip.clone())
        .collect();
    assert!(
        !masters.is_empty(),
        "moto gives instances private addresses"
    );
    assert_eq!(
        doc["masters"],
        yaml_serde::to_value(&masters).expect("value")
    );
    assert_eq!(doc["agents"].as_sequence().map(Vec::len), Some(2));
    assert_eq!(doc["public_agents"].as_sequence().map(Vec::len), Some(1));
    let bootstrap = report
        .machines
        .iter()
        .find(|m| m.role == strato_cloud::Role::Bootstrap)
        .and_then(|m| m.public_ip.clone());
    assert_eq!(doc["bootstrap"].as_str(), bootstrap.as_deref());

    // Status.
    let mut out = Vec::new();
    let machines = cmd::status(&config, &env, &mut out).await.expect("status");
    let text = String::from_utf8(out).expect("utf8");
    assert_eq!(machines.len(), 7);
    assert!(
        text.contains("demo-public-agent-1") && text.contains("running"),
        "{text}"
    );

    // Create again: everything exists, nothing new.
    let again = cmd::create(&config, &no_wait(), &env, &mut Vec::new())
        .await
        .expect("create again");
    assert!(
        again.created.is_empty(),
        "second create made {:?}",
        again.created
    );
    assert_eq!(again.existing.len(), report.created.len());

    // Destroy: nothing tagged is left.
    let mut out = Vec::new();
    let gone = cmd::destroy(&config, Confirm::Yes, &env, &mut out)
        .await
        .expect("destroy");
    assert!(gone.failed.is_empty(), "{:?}", gone.failed);
    let left = count_tagged(&ec2, &spec.cluster_id).await;
    assert!(left.iter().all(|(_, n)| *n == 0), "left behind: {left:?}");
    // And destroy again is a no-op, not an error.
    let twice = cmd::destroy(&config, Confirm::Yes, &env, &mut Vec::new())
        .await
        .expect("destroy again");
    assert!(twice.deleted.is_empty() && twice.failed.is_empty());
}

#[tokio::test]
async fn unknown_instance_type_is_refused_with_the_machine_named() {
    let moto = Moto::start();
    let env = env(&moto);
    let ami = some_ami(&moto).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), &cloud(&ami, REGION, "m5.gigantic"));
    let err = cmd::create(&config, &no_wait(), &env, &mut Vec::new())
        .await
        .expect_err("bad type");
    let msg = err.to_string();
    assert!(
        msg.contains("create machine demo-agent-1 (m5.gigantic)")
            && msg.contains("InvalidInstanceType"),
        "{msg}"
    );
}

#[tokio::test]
async fn unknown_image_is_refused_before_anything_is_made() {
    let moto = Moto::start();
    let env = env(&moto);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(
        dir.path(),
        &cloud("ami-0123456789abcdef0", REGION, "m5.xlarge"),
    );
    let spec = strato_cloud::spec::load(&config).expect("spec");
    let err = cmd::create(&config, &no_wait(), &env, &mut Vec::new())
        .await
        .expect_err("bad image");
    let msg = err.to_string();
    assert!(
        msg.starts_with("aws: ") && msg.contains("ami-0123456789abcdef0"),
        "{msg}"
    );
    let ec2 = moto.client(REGION).await;
    assert!(count_tagged(&ec2, &spec.cluster_id)
        .await
        .iter()
        .all(|(_, n)| *n == 0));
}

#[tokio::test]
async fn unknown_region_is_named() {
    let moto = Moto::start();
    let env = env(&moto);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(
        dir.path(),
        &cloud("ami-0123456789abcdef0", "us-nowhere-1", "m5.xlarge"),
    );
    let err = cmd::create(&config, &no_wait(), &env, &mut Vec::new())
        .await
        .expect_err("bad region");
    assert_eq!(
        err.to_string(),
        "aws: region: \"us-nowhere-1\" is not an AWS region (e.g. us-east-1, eu-west-1)"
    );
}

#[tokio::test]
async fn private_key_given_as_public_key_is_refused_with_file_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(
        dir.path(),
        &cloud("ami-0123456789abcdef0", REGION, "m5.xlarge"),
    );
    std::fs::write(
        dir.path().join("id_test.pub"),
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n",
    )
    .expect("write");
    let err = cmd::create(
        &config,
        &no_wait(),
        &ProviderEnv::default(),
        &mut Vec::new(),
    )
    .await
    .expect_err("bad key");
    let msg = err.to_string();
    assert!(
        msg.contains("cluster.yaml: cloud.ssh_public_key: ")
            && msg.contains("id_test.pub is not an OpenSSH public key"),
        "{msg}"
    );
}
