//! `strato cloud` from the command line: the dry run, the confirmation rule, the credential
//! message, the Terraform writer and `config import-terraform`, and create → status → create again
//! → destroy against moto on 127.0.0.1. The provider logic itself is tested in
//! installer/cloud/tests (moto for AWS, fake ARM and Compute Engine servers for Azure and GCP).
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::common::strato;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILXaEChZVdWAN8J+DzVopoy/FRjGxV7ZPHyY+OcwPLE8 strato-test";

fn cluster(dir: &Path, image: &str) -> PathBuf {
    std::fs::write(dir.join("id_test.pub"), format!("{KEY}\n")).expect("key");
    let text = format!(
        "# Hand-written; this comment must survive.\n\
         cluster_name: demo\n\
         ssh:\n  user: ops\n\
         hardware: minimal\n\
         cloud:\n  provider: aws\n  region: us-east-1\n  os: rocky-9\n  image: {image}\n  ssh_public_key: id_test.pub\n  \
         admin_cidrs: [203.0.113.0/24]\n  \
         instance_types: {{bootstrap: t3.medium, master: m5.large, agent: m5.large, public_agent: m5.large}}\n  \
         counts: {{masters: 1, agents: 1, public_agents: 1}}\n"
    );
    let path = dir.join("cluster.yaml");
    std::fs::write(&path, text).expect("cluster.yaml");
    path
}

/// `strato` with no AWS credentials anywhere and no instance metadata lookups.
fn strato_without_aws(home: &Path) -> assert_cmd::Command {
    let mut cmd = strato();
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_ENDPOINT_URL",
        "STRATO_AWS_ENDPOINT",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

#[test]
fn dry_run_prints_the_plan_and_needs_no_credentials() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = cluster(dir.path(), "ami-0123456789abcdef0");
    strato_without_aws(dir.path())
        .args(["cloud", "create", "--dry-run", "-c"])
        .arg(&config)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("machine   demo-public-agent-1")
                .and(predicate::str::contains("firewall  ssh"))
                .and(predicate::str::contains("dry run: nothing was created")),
        );
}

#[test]
fn destroy_refuses_without_a_terminal_or_yes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = cluster(dir.path(), "ami-0123456789abcdef0");
    strato_without_aws(dir.path())
        .args(["cloud", "destroy", "-c"])
        .arg(&config)
        .write_stdin("demo\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "stdin is not a terminal; pass --yes",
        ));
}

#[test]
fn missing_aws_credentials_say_where_they_were_looked_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = cluster(dir.path(), "ami-0123456789abcdef0");
    strato_without_aws(dir.path())
        .args(["cloud", "status", "-c"])
        .arg(&config)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no AWS credentials found: looked at AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE"));
}

#[test]
fn terraform_writes_a_root_module_and_import_fills_the_hosts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = cluster(dir.path(), "ami-0123456789abcdef0");
    let out = dir.path().join("infra");
    strato()
        .args(["cloud", "terraform", "-c"])
        .arg(&config)
        .arg("--out-dir")
        .arg(&out)
        .assert()
        .success();
    for file in [
        "main.tf",
        "variables.tf",
        "terraform.tfvars",
        "modules/aws/main.tf",
    ] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let tfvars = std::fs::read_to_string(out.join("terraform.tfvars")).expect("tfvars");
    assert!(
        tfvars.contains("region") && tfvars.contains("\"us-east-1\""),
        "{tfvars}"
    );

    let outputs = dir.path().join("outputs.json");
    let list = |v: &[&str]| serde_json::json!({"sensitive": false, "type": ["tuple", ["string"]], "value": v});
    let json = serde_json::json!({
        "bootstrap_public_ip": {"sensitive": false, "type": "string", "value": "198.51.100.5"},
        "bootstrap_private_ip": {"sensitive": false, "type": "string", "value": "10.0.1.5"},
        "master_public_ips": list(&["198.51.100.10"]), "master_private_ips": list(&["10.0.1.10"]),
        "agent_public_ips": list(&["198.51.100.20"]), "agent_private_ips": list(&["10.0.1.20"]),
        "public_agent_public_ips": list(&["198.51.100.30"]), "public_agent_private_ips": list(&["10.0.1.30"]),
    });
    std::fs::write(&outputs, json.to_string()).expect("outputs");
    strato()
        .args(["config", "import-terraform"])
        .arg(&outputs)
        .arg("-c")
        .arg(&config)
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote 4 machine addresses"));
    let yaml = std::fs::read_to_string(&config).expect("read");
    assert!(
        yaml.starts_with("# Hand-written; this comment must survive.\n"),
        "{yaml}"
    );
    let doc: yaml_serde::Value = yaml_serde::from_str(&yaml).expect("yaml");
    assert_eq!(
        doc["masters"][0].as_str(),
        Some("10.0.1.10"),
        "nodes by private address"
    );
    assert_eq!(doc["bootstrap"].as_str(), Some("198.51.100.5"));
    strato()
        .args(["validate", "-c"])
        .arg(&config)
        .assert()
        .success();
}

/// moto on a free loopback port with AWS-like validation; killed on drop.
struct Moto(Child, String);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto() -> (Moto, PathBuf) {
    let candidates = [
        crate::common::repo_root().join(".venv/bin/python"),
        PathBuf::from("python3"),
    ];
    let python = candidates
        .iter()
        .find(|p| Command::new(p).args(["-c", "import moto.server, boto3"]).output().is_ok_and(|o| o.status.success()))
        .unwrap_or_else(|| panic!("moto is not installed (tried .venv/bin/python, python3): run scripts/test or `pip install 'moto[server]'`"))
        .clone();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let child = Command::new(&python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .env("MOTO_ENABLE_AMI_VALIDATION", "true")
        .env("MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION", "true")
        .env("MOTO_ENABLE_KEYPAIR_VALIDATION", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto did not listen within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    (Moto(child, format!("http://127.0.0.1:{port}")), python)
}

#[test]
fn create_status_create_again_destroy_against_moto() {
    let (moto, python) = moto();
    let script = format!(
        "import boto3; c = boto3.client('ec2', region_name='us-east-1', endpoint_url='{}', aws_access_key_id='testing', aws_secret_access_key='testing'); \
         print(c.describe_images(Owners=['amazon'])['Images'][0]['ImageId'])",
        moto.1
    );
    let ami = Command::new(&python)
        .args(["-c", &script])
        .output()
        .expect("boto3");
    let ami = String::from_utf8(ami.stdout)
        .expect("utf8")
        .trim()
        .to_string();
    assert!(ami.starts_with("ami-"), "no AMI from moto: {ami:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = cluster(dir.path(), &ami);
    let run = |args: &[&str]| {
        let mut cmd = strato_without_aws(dir.path());
        cmd.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_ENDPOINT_URL", &moto.1);
        cmd.args(["cloud"]).args(args).arg("-c").arg(&config);
        cmd.assert()
    };
    run(&["create", "--no-wait"]).success().stdout(
        predicate::str::contains("created  machine demo-master-1")
            .and(predicate::str::contains("next: strato deploy")),
    );
    let yaml = std::fs::read_to_string(&config).expect("read");
    assert!(
        yaml.starts_with("# Hand-written; this comment must survive.\n"),
        "{yaml}"
    );
    let doc: yaml_serde::Value = yaml_serde::from_str(&yaml).expect("yaml");
    assert_eq!(
        doc["masters"].as_sequence().map(Vec::len),
        Some(1),
        "{yaml}"
    );
    assert!(doc["bootstrap"].as_str().is_some(), "{yaml}");
    // The file `create` wrote is what `strato deploy` reads: it validates.
    strato()
        .args(["validate", "-c"])
        .arg(&config)
        .assert()
        .success();
    run(&["status"])
        .success()
        .stdout(predicate::str::contains("demo-agent-1").and(predicate::str::contains("running")));
    let status = run(&["status", "-o", "json"]).success();
    let machines: serde_json::Value =
        serde_json::from_slice(&status.get_output().stdout).expect("status -o json is JSON");
    let roles: Vec<&str> = machines
        .as_array()
        .expect("an array of machines")
        .iter()
        .filter(|m| m["state"] == "running")
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(roles.len(), 4, "{machines}");
    assert!(roles.contains(&"master"), "{machines}");
    run(&["create", "--no-wait"])
        .success()
        .stdout(predicate::str::contains("0 created, 12 already there"));
    let destroyed = run(&["destroy", "--yes", "-o", "json"])
        .success()
        .stderr(predicate::str::contains("nothing tagged with cluster id"));
    let report: serde_json::Value =
        serde_json::from_slice(&destroyed.get_output().stdout).expect("destroy -o json is JSON");
    assert!(
        report["deleted"].as_array().is_some_and(|d| !d.is_empty())
            && report["failed"].as_array().is_some_and(Vec::is_empty),
        "{report}"
    );
    run(&["status"])
        .success()
        .stdout(predicate::str::contains("no machines of cluster demo"));
}

#[test]
fn without_the_strato_cloud_program_the_error_says_how_to_install_it() {
    // strato alone in a directory, with nothing on PATH: as after copying only `strato` somewhere.
    let dir = tempfile::tempdir().expect("tempdir");
    let alone = dir
        .path()
        .join(format!("strato{}", std::env::consts::EXE_SUFFIX));
    std::fs::copy(crate::common::bin_path("strato"), &alone).expect("copy strato");
    for args in [
        &["cloud", "status"][..],
        &["config", "import-terraform", "x.json"],
    ] {
        Command::new(&alone)
            .args(args)
            .env("PATH", dir.path().join("empty"))
            .output()
            .map(|out| {
                assert_eq!(out.status.code(), Some(1), "{args:?}");
                assert!(
                    String::from_utf8_lossy(&out.stderr).contains(
                        "strato cloud needs the strato-cloud program; install it next to strato \
                         or on PATH (cargo install --path installer/cloud)"
                    ),
                    "{args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            })
            .expect("run strato");
    }
}

#[test]
fn help_lists_cloud_and_forwards_its_own_help() {
    strato()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("cloud ").and(predicate::str::contains("strato-cloud")));
    strato()
        .args(["cloud", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: strato cloud <COMMAND>"));
}
