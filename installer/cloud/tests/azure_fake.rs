//! Azure against a fake ARM server (tests/common/fake_arm.rs) that answers in ARM's shapes,
//! including long-running operations, and refuses out-of-order creates and deletes.
//!
//! Proves: the calls made (paths, api-versions, bodies: tags, NSG rules, cloud-init custom data,
//! SSH key), create and destroy ordering, following Azure-AsyncOperation / Location polling,
//! idempotent re-runs, and the credential error. Does not prove: that real ARM accepts every body
//! (field names are from the REST reference, not checked by Azure), quotas, image availability,
//! or boot.
mod common;

use base64::Engine;
use common::fake_arm::{FakeArm, TOKEN};
use strato_cloud::cmd::{self, Confirm, CreateOptions, ProviderEnv};

const SUB: &str = "00000000-0000-0000-0000-000000000001";

fn cloud() -> &'static str {
    "  provider: azure\n  location: westeurope\n  resource_group: demo-rg\n  os: rocky-9\n  ssh_public_key: id_test.pub\n  admin_cidrs: [203.0.113.0/24]\n  \
     instance_types: {bootstrap: Standard_D2s_v5, master: Standard_D8s_v5, agent: Standard_D4s_v5, public_agent: Standard_D4s_v5}\n  \
     counts: {masters: 3, agents: 2, public_agents: 1}\n"
}

fn env(base: &str, token: &str) -> ProviderEnv {
    ProviderEnv {
        azure_endpoint: Some(base.to_string()),
        azure_token: Some(token.to_string()),
        azure_subscription: Some(SUB.to_string()),
        ..ProviderEnv::default()
    }
}

fn position(log: &[(String, String)], method: &str, needle: &str) -> Vec<usize> {
    log.iter()
        .enumerate()
        .filter(|(_, (m, p))| m == method && p.contains(needle))
        .map(|(i, _)| i)
        .collect()
}

#[tokio::test]
async fn create_status_create_again_destroy_in_dependency_order() {
    let (fake, base) = FakeArm::start().await;
    let env = env(&base, TOKEN);
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
    // 1 RG + 4 NSGs + 1 VNet + 7 × (public IP, NIC, VM).
    assert_eq!(
        report.created.len(),
        1 + 4 + 1 + 7 * 3,
        "{:?}",
        report.created
    );
    assert!(
        fake.polls() >= report.created.len() - 1,
        "long-running operations were not polled ({} polls)",
        fake.polls()
    );

    // Create order: the resource group first, NSGs and the VNet before any NIC, each NIC before its VM.
    let log = fake.log();
    let puts: Vec<&String> = log
        .iter()
        .filter(|(m, _)| m == "PUT")
        .map(|(_, p)| p)
        .collect();
    assert!(puts[0].ends_with("/resourceGroups/demo-rg"), "{puts:?}");
    let first_nic = position(&log, "PUT", "/networkInterfaces/")[0];
    assert!(position(&log, "PUT", "/networkSecurityGroups/")
        .iter()
        .all(|&i| i < first_nic));
    assert!(position(&log, "PUT", "/virtualNetworks/")
        .iter()
        .all(|&i| i < first_nic));
    for name in ["demo-bootstrap", "demo-master-2", "demo-public-agent-1"] {
        let nic = position(&log, "PUT", &format!("/networkInterfaces/{name}-nic"));
        let vm = position(&log, "PUT", &format!("/virtualMachines/{name}"));
        assert!(
            nic.len() == 1 && vm.len() == 1 && nic[0] < vm[0],
            "{name}: nic {nic:?} vm {vm:?}"
        );
    }

    // The VM body: size, login user and key, cloud-init, tags.
    let rg = format!("/subscriptions/{SUB}/resourceGroups/demo-rg");
    let vm = fake
        .resource(&format!(
            "{rg}/providers/Microsoft.Compute/virtualMachines/demo-master-1"
        ))
        .expect("vm stored");
    assert_eq!(
        vm["properties"]["hardwareProfile"]["vmSize"],
        "Standard_D8s_v5"
    );
    assert_eq!(vm["properties"]["osProfile"]["adminUsername"], "ops");
    assert_eq!(
        vm["properties"]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"][0]["keyData"],
        common::TEST_KEY
    );
    let custom = base64::engine::general_purpose::STANDARD
        .decode(
            vm["properties"]["osProfile"]["customData"]
                .as_str()
                .expect("customData"),
        )
        .expect("base64");
    let cloud_init = String::from_utf8(custom).expect("utf8");
    assert!(
        cloud_init.starts_with("#cloud-config\n")
            && cloud_init.contains("name: \"ops\"")
            && cloud_init.contains("role=master"),
        "{cloud_init}"
    );
    // Rocky Linux is a Marketplace image: the VM names its purchase plan.
    assert_eq!(
        vm["plan"],
        serde_json::json!({"name": "9-base", "product": "rockylinux-x86_64", "publisher": "resf"})
    );
    assert_eq!(vm["tags"]["strato-cluster"], "demo");
    assert_eq!(vm["tags"]["strato-role"], "master");
    // NSGs: SSH from the admins everywhere; the world reaches only public agents.
    let nsg = |role: &str| {
        fake.resource(&format!(
            "{rg}/providers/Microsoft.Network/networkSecurityGroups/demo-{role}-nsg"
        ))
        .expect("nsg")
    };
    let rules = |role: &str| -> Vec<String> {
        nsg(role)["properties"]["securityRules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| r["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(rules("agent"), vec!["ssh", "internal"]);
    assert_eq!(rules("master"), vec!["ssh", "internal", "ui"]);
    assert_eq!(
        rules("public-agent"),
        vec!["ssh", "internal", "public-agents"]
    );
    assert_eq!(
        nsg("agent")["properties"]["securityRules"][0]["properties"]["sourceAddressPrefixes"],
        serde_json::json!(["203.0.113.0/24"])
    );

    // cluster.yaml got the public addresses; status shows the machines running.
    let doc: yaml_serde::Value =
        yaml_serde::from_str(&std::fs::read_to_string(&config).expect("read")).expect("yaml");
    let masters: Vec<String> = report
        .machines
        .iter()
        .filter(|m| m.role == strato_cloud::Role::Master)
        .filter_map(|m| m.private_ip.clone())
        .collect();
    assert_eq!(masters.len(), 3);
    assert_eq!(
        doc["masters"],
        yaml_serde::to_value(&masters).expect("value")
    );
    let machines = cmd::status(&config, &env, &mut Vec::new())
        .await
        .expect("status");
    assert_eq!(machines.len(), 7);
    assert!(machines
        .iter()
        .all(|m| m.state == strato_cloud::MachineState::Running && m.private_ip.is_some()));

    // Create again: reads only.
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

    // Destroy: VMs, then NICs, public IPs, the VNet, NSGs, and the resource group last.
    fake.clear_log();
    let gone = cmd::destroy(&config, Confirm::Yes, &env, &mut Vec::new())
        .await
        .expect("destroy");
    assert!(gone.failed.is_empty(), "{:?}", gone.failed);
    let log = fake.log();
    let last = |needle: &str| *position(&log, "DELETE", needle).iter().max().expect(needle);
    let first = |needle: &str| *position(&log, "DELETE", needle).iter().min().expect(needle);
    assert!(last("/virtualMachines/") < first("/networkInterfaces/"));
    assert!(last("/networkInterfaces/") < first("/publicIPAddresses/"));
    assert!(last("/publicIPAddresses/") < first("/virtualNetworks/"));
    assert!(last("/virtualNetworks/") < first("/networkSecurityGroups/"));
    let rg_delete = log
        .iter()
        .position(|(m, p)| m == "DELETE" && p.ends_with("/resourceGroups/demo-rg"))
        .expect("resource group deleted");
    assert!(last("/networkSecurityGroups/") < rg_delete);
    assert!(
        log.last()
            .is_some_and(|(m, p)| m == "DELETE" && p.ends_with("/resourceGroups/demo-rg")),
        "{log:?}"
    );
    assert!(fake.resources().is_empty(), "left: {:?}", fake.resources());
}

#[tokio::test]
async fn refused_token_is_one_sentence_about_credentials() {
    let (_fake, base) = FakeArm::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), cloud());
    let err = cmd::status(&config, &env(&base, "expired"), &mut Vec::new())
        .await
        .expect_err("bad token");
    let msg = err.to_string();
    assert!(msg.starts_with("Azure refused the credentials while trying to list virtual machines (InvalidAuthenticationToken"), "{msg}");
    assert!(
        msg.contains("AZURE_CLIENT_SECRET") && msg.contains("az login"),
        "{msg}"
    );
}

#[tokio::test]
async fn missing_subscription_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(
        dir.path(),
        &cloud().replace(
            "  subscription_id: 00000000-0000-0000-0000-000000000001\n",
            "",
        ),
    );
    let err = cmd::status(
        &config,
        &ProviderEnv {
            azure_token: Some("x".into()),
            ..ProviderEnv::default()
        },
        &mut Vec::new(),
    )
    .await
    .expect_err("no sub");
    assert_eq!(
        err.to_string(),
        "no Azure subscription: set AZURE_SUBSCRIPTION_ID (the subscription to create the machines in)"
    );
}

#[tokio::test]
async fn destroy_asks_for_the_cluster_name_and_deletes_nothing_on_another_answer() {
    let (fake, base) = FakeArm::start().await;
    let env = env(&base, TOKEN);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), cloud());
    cmd::create(
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
    let before = fake.resources();

    let mut answer: &[u8] = b"yes\n";
    let mut out = Vec::new();
    let report = cmd::destroy(&config, Confirm::Ask(&mut answer), &env, &mut out)
        .await
        .expect("asked");
    let text = String::from_utf8(out).expect("utf8");
    assert!(
        text.contains("including 7 machines")
            && text.contains("demo-master-1")
            && text.contains("Type the cluster name (demo) to confirm"),
        "{text}"
    );
    assert!(
        text.contains("not confirmed; nothing was deleted") && report.deleted.is_empty(),
        "{text}"
    );
    assert_eq!(fake.resources(), before);

    let mut answer: &[u8] = b"demo\n";
    let report = cmd::destroy(&config, Confirm::Ask(&mut answer), &env, &mut Vec::new())
        .await
        .expect("confirmed");
    assert!(!report.deleted.is_empty() && fake.resources().is_empty());
}

#[tokio::test]
async fn destroy_without_a_terminal_or_yes_refuses_before_any_call() {
    let (fake, base) = FakeArm::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), cloud());
    let err = cmd::destroy(
        &config,
        Confirm::NoTerminal,
        &env(&base, TOKEN),
        &mut Vec::new(),
    )
    .await
    .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "refusing to destroy without confirmation: stdin is not a terminal; pass --yes"
    );
    assert!(fake.log().is_empty());
}

#[tokio::test]
async fn throttled_requests_are_retried() {
    let (fake, base) = FakeArm::start().await;
    let env = env(&base, TOKEN);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), cloud());
    fake.throttle(3);
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
    .expect("create despite 429s");
    assert_eq!(report.machines.len(), 7);
    assert_eq!(fake.log().iter().filter(|(m, _)| m == "429").count(), 3);
}
