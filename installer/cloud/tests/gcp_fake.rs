//! GCP against a fake Compute Engine (tests/common/fake_gce.rs) in the real REST shapes, with the
//! official `google-cloud-compute-v1` client pointed at it.
//!
//! Proves: the requests the SDK sends for our topology (paths, bodies: labels, network tags,
//! firewall rules, ssh-keys and user-data metadata, disks), create and destroy ordering, polling
//! of global/regional/zonal operations to DONE, waiting for RUNNING, idempotent re-runs.
//! Does not prove: that real GCE accepts every field, IAM/quota/image errors, or boot.
mod common;

use common::fake_gce::FakeGce;
use strato_cloud::cmd::{self, Confirm, CreateOptions, ProviderEnv};

fn cloud() -> &'static str {
    "  provider: gcp\n  project: demo-project\n  zone: europe-west1-b\n  os: rocky-9\n  ssh_public_key: id_test.pub\n  \
     admin_cidrs: [203.0.113.0/24]\n  \
     instance_types: {bootstrap: e2-standard-2, master: e2-standard-8, agent: e2-standard-4, public_agent: e2-standard-4}\n  counts: {masters: 3, agents: 2, public_agents: 1}\n  disk_gib: {master: 120, agent: 60}\n"
}

fn env(base: &str) -> ProviderEnv {
    ProviderEnv {
        gcp_endpoint: Some(base.to_string()),
        gcp_anonymous: true,
        ..ProviderEnv::default()
    }
}

fn index(log: &[(String, String)], method: &str, needle: &str) -> Vec<usize> {
    log.iter()
        .enumerate()
        .filter(|(_, (m, p))| m == method && p.contains(needle))
        .map(|(i, _)| i)
        .collect()
}

#[tokio::test]
async fn create_status_create_again_destroy_in_dependency_order() {
    let (fake, base) = FakeGce::start().await;
    let env = env(&base);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), cloud());

    let report = cmd::create(
        &config,
        &CreateOptions {
            no_wait: true,
            ..CreateOptions::default()
        },
        &env,
        &mut Vec::new(),
    )
    .await
    .expect("create");
    // network + subnetwork + 4 firewalls + 7 instances, each an operation polled to DONE.
    assert_eq!(report.created.len(), 1 + 1 + 4 + 7, "{:?}", report.created);
    assert!(
        fake.polls() >= report.created.len(),
        "operations were not polled ({} polls)",
        fake.polls()
    );

    let log = fake.log();
    let net = index(&log, "POST", "projects/demo-project/global/networks")[0];
    let sub = index(
        &log,
        "POST",
        "projects/demo-project/regions/europe-west1/subnetworks",
    )[0];
    let fws = index(&log, "POST", "/global/firewalls");
    let vms = index(
        &log,
        "POST",
        "projects/demo-project/zones/europe-west1-b/instances",
    );
    assert!(
        net < sub
            && fws.iter().all(|&f| f > net)
            && vms.iter().all(|&v| v > sub && fws.iter().all(|&f| f < v)),
        "{log:?}"
    );
    assert_eq!(vms.len(), 7);

    // Bodies as stored by the fake.
    let inst = fake
        .resource("projects/demo-project/zones/europe-west1-b/instances/demo-public-agent-1")
        .expect("instance");
    assert_eq!(
        inst["machineType"],
        "zones/europe-west1-b/machineTypes/e2-standard-4"
    );
    assert_eq!(inst["labels"]["strato-cluster"], "demo");
    assert_eq!(inst["labels"]["strato-role"], "public-agent");
    assert_eq!(
        inst["tags"]["items"],
        serde_json::json!(["demo", "demo-public-agent"])
    );
    let meta: Vec<(String, String)> = inst["metadata"]["items"]
        .as_array()
        .expect("metadata")
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap_or_default().to_string(),
                i["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        meta.contains(&("ssh-keys".into(), format!("ops:{}", common::TEST_KEY))),
        "{meta:?}"
    );
    assert!(
        meta.iter().any(|(k, v)| k == "user-data"
            && v.starts_with("#cloud-config")
            && v.contains("role=public_agent")),
        "{meta:?}"
    );
    assert_eq!(
        inst["disks"][0]["initializeParams"]["sourceImage"],
        "projects/rocky-linux-cloud/global/images/family/rocky-linux-9"
    );
    let fw = fake
        .resource("projects/demo-project/global/firewalls/demo-public-agents")
        .expect("firewall");
    assert_eq!(fw["sourceRanges"], serde_json::json!(["0.0.0.0/0"]));
    assert_eq!(fw["targetTags"], serde_json::json!(["demo-public-agent"]));
    assert_eq!(
        fw["allowed"][0]["ports"],
        serde_json::json!(["80", "443", "10000-10100"])
    );
    let ssh = fake
        .resource("projects/demo-project/global/firewalls/demo-ssh")
        .expect("ssh firewall");
    assert_eq!(ssh["sourceRanges"], serde_json::json!(["203.0.113.0/24"]));

    // Machines ran and their addresses went into cluster.yaml.
    assert!(report
        .machines
        .iter()
        .all(|m| m.state == strato_cloud::MachineState::Running
            && m.public_ip.is_some()
            && m.private_ip.is_some()));
    let doc: yaml_serde::Value =
        yaml_serde::from_str(&std::fs::read_to_string(&config).expect("read")).expect("yaml");
    let agents: Vec<String> = report
        .machines
        .iter()
        .filter(|m| m.role == strato_cloud::Role::Agent)
        .filter_map(|m| m.private_ip.clone())
        .collect();
    assert_eq!(doc["agents"], yaml_serde::to_value(&agents).expect("value"));
    assert_eq!(
        cmd::status(&config, &env, &mut Vec::new())
            .await
            .expect("status")
            .len(),
        7
    );

    // Again: no inserts.
    fake.clear_log();
    let again = cmd::create(
        &config,
        &CreateOptions {
            no_wait: true,
            ..CreateOptions::default()
        },
        &env,
        &mut Vec::new(),
    )
    .await
    .expect("again");
    assert!(again.created.is_empty());
    assert!(
        fake.log().iter().all(|(m, _)| m == "GET"),
        "{:?}",
        fake.log()
    );

    // Destroy: instances, firewalls, subnetwork, network.
    fake.clear_log();
    let gone = cmd::destroy(&config, Confirm::Yes, &env, &mut Vec::new())
        .await
        .expect("destroy");
    assert!(gone.failed.is_empty(), "{:?}", gone.failed);
    let log = fake.log();
    let last = |n: &str| *index(&log, "DELETE", n).iter().max().expect(n);
    let first = |n: &str| *index(&log, "DELETE", n).iter().min().expect(n);
    assert!(last("/instances/") < first("/firewalls/"));
    assert!(last("/firewalls/") < first("/subnetworks/"));
    assert!(last("/subnetworks/") < first("/global/networks/"));
    assert!(fake.resources().is_empty(), "left: {:?}", fake.resources());
}

#[tokio::test]
async fn zone_without_region_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), &cloud().replace("europe-west1-b", "nowhere"));
    let err = cmd::status(&config, &env("http://127.0.0.1:9"), &mut Vec::new())
        .await
        .expect_err("bad zone");
    assert_eq!(
        err.to_string(),
        "gcp: zone: \"nowhere\" is not a Compute Engine zone (e.g. europe-west1-b)"
    );
}
