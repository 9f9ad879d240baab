//! `strato ca rotate` on a running cluster: the check the main deploy scenario runs once its app
//! is up (three more rolling deploys on the same nodes, rather than a cluster of its own).

use std::time::Duration;

use super::{member_client, operator_files, strato_job};
use crate::common::nodes::Nodes;

/// The ids of /web's running tasks, as the operator sees them.
fn web_task_ids(http: &reqwest::blocking::Client, master: &str) -> Vec<String> {
    let body: serde_json::Value = http
        .get(format!("https://{master}:8080/v2/apps/web/tasks"))
        .send()
        .expect("GET /v2/apps/web/tasks")
        .json()
        .expect("tasks JSON");
    let mut ids: Vec<String> = body["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter(|t| t["state"] == "TASK_RUNNING")
        .filter_map(|t| t["id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

/// `strato ca rotate` replaces the cluster CA in three rolling upgrades while /web keeps running:
/// the same tasks answer before and after; every node then trusts only the new CA and holds a
/// certificate of it; the operator's old certificate no longer opens the master.
pub(super) fn rotates_the_ca_keeping_tasks(
    dir: &std::path::Path,
    config: &std::path::Path,
    nodes: &Nodes,
    tasks: &[(String, u64)],
) {
    let master = &nodes.node("master-1").ip;
    let before = web_task_ids(
        &member_client(&operator_files(dir), strato_tls::MemberRole::Master),
        master,
    );
    assert_eq!(before.len(), 2, "{before:?}");
    let old_ca = std::fs::read_to_string(dir.join(".strato/pki/ca.crt")).expect("ca.crt");
    let old_identity = format!(
        "{}{}",
        std::fs::read_to_string(operator_files(dir).cert).expect("operator.crt"),
        std::fs::read_to_string(operator_files(dir).key).expect("operator.key")
    );

    let out = strato_job("ca rotate", config);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "strato ca rotate failed");
    for step in [
        "step 1/3",
        "step 2/3",
        "step 3/3",
        "==> Check the cluster before the upgrade",
        "==> Upgrade masters",
        "the cluster CA is rotated",
    ] {
        assert!(stderr.contains(step), "no {step:?} in:\n{stderr}");
    }

    let new_ca = std::fs::read_to_string(dir.join(".strato/pki/ca.crt")).expect("ca.crt");
    assert_ne!(new_ca, old_ca, "the CA was not replaced");
    let http = member_client(&operator_files(dir), strato_tls::MemberRole::Master);
    assert_eq!(
        web_task_ids(&http, master),
        before,
        "/web's tasks were replaced during the rotation"
    );
    let plain = strato_tls::blocking_client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    for (host, port) in tasks {
        let resp = plain
            .get(format!("http://{host}:{port}/"))
            .send()
            .expect("/web answers after the rotation");
        assert!(resp.status().is_success(), "{host}:{port}");
    }
    for name in ["master-1", "agent-1", "agent-2"] {
        let node = nodes.node(name);
        let trusted = nodes.exec(node, "cat /opt/strato/etc/tls/ca.crt");
        assert_eq!(
            String::from_utf8_lossy(&trusted.stdout).trim(),
            new_ca.trim(),
            "{name} does not trust exactly the new CA"
        );
        let verify = nodes.exec(
            node,
            "openssl verify -CAfile /opt/strato/etc/tls/ca.crt /opt/strato/etc/tls/node.crt",
        );
        assert!(
            verify.status.success(),
            "{name}'s certificate is not the new CA's: {}",
            String::from_utf8_lossy(&verify.stderr)
        );
    }
    let old = strato_tls::blocking_client_builder()
        .timeout(Duration::from_secs(10))
        .tls_danger_accept_invalid_certs(true)
        .identity(reqwest::Identity::from_pem(old_identity.as_bytes()).expect("identity"))
        .build()
        .expect("old operator client");
    let status = old
        .get(format!("https://{master}:8080/v2/apps"))
        .send()
        .map(|r| r.status().as_u16());
    assert!(
        !matches!(status, Ok(s) if s < 400),
        "the operator certificate of the retired CA still reads apps: {status:?}"
    );
}
