//! Reading the `cloud:` section: strato-config's validation (with line numbers) runs first, then
//! the cloud layer's own checks.
mod common;

use strato_cloud::spec;

const AWS: &str = "  provider: aws\n  region: eu-west-1\n  os: rocky-9\n  ssh_public_key: id_test.pub\n  admin_cidrs: [203.0.113.0/24]\n  \
                   instance_types: {bootstrap: m5.large, master: m5.2xlarge, agent: m5.xlarge, public_agent: m5.xlarge}\n  \
                   counts: {masters: 3, agents: 2, public_agents: 1}\n";

#[test]
fn resolves_provider_location_sizes_and_a_stable_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), AWS);
    let s = spec::load(&config).expect("valid");
    assert_eq!(
        s.location,
        strato_cloud::Location::Aws {
            region: "eu-west-1".into()
        }
    );
    assert_eq!(s.ssh_user, "ops");
    assert_eq!(s.ssh_public_key, common::TEST_KEY);
    assert_eq!(
        (s.counts.masters, s.counts.agents, s.counts.public_agents),
        (3, 2, 1)
    );
    assert_eq!(s.instance_types.public_agent, "m5.xlarge");
    assert_eq!(s.cluster_id.len(), 8);
    assert_eq!(
        spec::load(&config).expect("again").cluster_id,
        s.cluster_id,
        "same file, same id"
    );
    let other = common::cluster_yaml(dir.path(), &AWS.replace("eu-west-1", "us-east-1"));
    assert_ne!(
        spec::load(&other).expect("valid").cluster_id,
        s.cluster_id,
        "another region is another cluster"
    );
}

#[test]
fn invalid_file_reports_strato_config_diagnostics_with_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), &AWS.replace("203.0.113.0/24", "203.0.113.0/99"));
    let msg = spec::load(&config).expect_err("bad cidr").to_string();
    assert!(
        msg.contains("cluster.yaml:") && msg.contains("cloud.admin_cidrs[0]"),
        "{msg}"
    );
}

#[test]
fn instance_type_below_the_hardware_profile_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), AWS);
    // Production profile: masters need 4 vCPU / 32 GiB; m5.xlarge has 16 GiB.
    let text = std::fs::read_to_string(&config)
        .expect("read")
        .replace("hardware: minimal", "hardware: production")
        .replace("master: m5.2xlarge", "master: m5.xlarge");
    std::fs::write(&config, text).expect("write");
    let msg = spec::load(&config).expect_err("too small").to_string();
    assert!(
        msg.contains("cloud.instance_types.master")
            && msg.contains("m5.xlarge has 4 vCPU / 16 GiB"),
        "{msg}"
    );
}

#[test]
fn cluster_name_that_clouds_reject_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), AWS);
    let text = std::fs::read_to_string(&config)
        .expect("read")
        .replace("cluster_name: demo", "cluster_name: Demo_1");
    std::fs::write(&config, text).expect("write");
    let msg = spec::load(&config).expect_err("bad name").to_string();
    assert!(msg.contains("cluster_name"), "{msg}");
}

#[test]
fn root_login_user_is_refused_for_cloud_machines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(dir.path(), AWS);
    let text = std::fs::read_to_string(&config)
        .expect("read")
        .replace("  user: ops", "  user: root");
    std::fs::write(&config, text).expect("write");
    let msg = spec::load(&config).expect_err("root").to_string();
    assert!(msg.ends_with("cluster.yaml: ssh.user: cloud images refuse SSH logins as root: set ssh.user to the user cloud-init should create (e.g. strato)"), "{msg}");
}
