//! A master with a cluster CA: who may call which API over mutual TLS.

use std::net::IpAddr;
use std::path::Path;

use serde_json::json;
use strato_tls::{ClusterCa, MemberRequest, MemberRole, MemberTls};

use crate::cluster::{test_config, Cluster};

/// Issues `role` for `ips` from `ca`, writes the files under `dir/<name>.*` and loads them.
fn member(ca: &ClusterCa, dir: &Path, name: &str, role: MemberRole, ips: &[&str]) -> MemberTls {
    let issued = ca
        .issue(&MemberRequest {
            role,
            name: name.into(),
            ips: ips
                .iter()
                .map(|ip| ip.parse::<IpAddr>().expect("ip"))
                .collect(),
            dns: Vec::new(),
        })
        .expect("issue");
    let files = strato_tls::TlsFiles {
        ca: ca.dir().join(strato_tls::CA_CERT),
        cert: dir.join(format!("{name}.crt")),
        key: dir.join(format!("{name}.key")),
    };
    std::fs::write(&files.cert, issued.cert_pem).expect("write cert");
    std::fs::write(&files.key, issued.key_pem).expect("write key");
    MemberTls::load(&files).expect("load")
}

fn client(tls: &MemberTls) -> reqwest::Client {
    strato_tls::member_client_builder(tls, &[MemberRole::Master])
        .expect("client")
        .build()
        .expect("client")
}

fn registration(address: &str) -> serde_json::Value {
    json!({
        "agent": {
            "id": format!("agent-{address}"), "hostname": address, "address": address,
            "port": 5051, "role": "*", "version": "test",
            "resources": {"cpus": 1.0, "mem": 512.0, "disk": 1000.0, "ports": []}
        },
        "tasks": []
    })
}

#[tokio::test]
async fn only_operators_drive_marathon_and_agents_register_only_their_own_address() {
    let dir = tempfile::tempdir().expect("tmp");
    let ca = ClusterCa::load_or_create(&dir.path().join("pki"), "trust").expect("CA");
    let _master = member(
        &ca,
        dir.path(),
        "master",
        MemberRole::Master,
        &["127.0.0.1"],
    );
    let operator = client(&member(
        &ca,
        dir.path(),
        "operator",
        MemberRole::Operator,
        &[],
    ));
    let agent = client(&member(
        &ca,
        dir.path(),
        "agent",
        MemberRole::Agent,
        &["10.1.1.1"],
    ));
    let other_ca = ClusterCa::load_or_create(&dir.path().join("other"), "other").expect("CA");
    let _stranger = member(&other_ca, dir.path(), "stranger", MemberRole::Operator, &[]);

    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let mut config = test_config(&data);
    config.tls_ca = Some(ca.dir().join(strato_tls::CA_CERT));
    config.tls_cert = Some(dir.path().join("master.crt"));
    config.tls_key = Some(dir.path().join("master.key"));
    let cluster = Cluster::start_with(config).await;
    let marathon = cluster.marathon.replace("http://", "https://");
    let mesos = cluster.mesos.replace("http://", "https://");
    let app = json!({"id": "/web", "cmd": "sleep 100", "cpus": 0.1, "mem": 16});

    // The operator certificate drives Marathon.
    let resp = operator
        .post(format!("{marathon}/v2/apps"))
        .json(&app)
        .send()
        .await
        .expect("operator POST");
    assert_eq!(
        resp.status().as_u16(),
        201,
        "{}",
        resp.text().await.unwrap_or_default()
    );

    // An agent's certificate does not.
    let resp = agent
        .post(format!("{marathon}/v2/apps"))
        .json(&json!({"id": "/evil", "cmd": "id", "cpus": 0.1, "mem": 16}))
        .send()
        .await
        .expect("agent POST");
    assert_eq!(resp.status().as_u16(), 403);

    // No certificate: health only.
    let anonymous = strato_tls::client_builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let status = |url: String| {
        let anonymous = anonymous.clone();
        async move { anonymous.get(url).send().await.map(|r| r.status().as_u16()) }
    };
    assert_eq!(
        status(format!("{mesos}/health")).await.expect("health"),
        200
    );
    assert_eq!(
        status(format!("{marathon}/v2/apps")).await.expect("apps"),
        403
    );
    assert_eq!(
        status(format!("{mesos}/master/state"))
            .await
            .expect("state"),
        403
    );

    // A certificate of another CA does not get through the handshake.
    let stranger = strato_tls::client_builder()
        .tls_danger_accept_invalid_certs(true)
        .identity(
            reqwest::Identity::from_pem(
                format!(
                    "{}{}",
                    std::fs::read_to_string(dir.path().join("stranger.crt")).expect("crt"),
                    std::fs::read_to_string(dir.path().join("stranger.key")).expect("key")
                )
                .as_bytes(),
            )
            .expect("identity"),
        )
        .build()
        .expect("client");
    let result = stranger.get(format!("{marathon}/v2/apps")).send().await;
    assert!(
        !matches!(&result, Ok(r) if r.status().is_success()),
        "another CA's certificate read the apps: {result:?}"
    );

    // The agent registers with the address its certificate names, and no other.
    let register = |address: &str| {
        agent
            .post(format!("{mesos}/agent/v1/register"))
            .json(&registration(address))
            .send()
    };
    assert_eq!(
        register("10.1.1.2")
            .await
            .expect("register")
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        register("10.1.1.1")
            .await
            .expect("register")
            .status()
            .as_u16(),
        200
    );
    // And the operator is not an agent.
    let resp = operator
        .post(format!("{mesos}/agent/v1/register"))
        .json(&registration("10.1.1.1"))
        .send()
        .await
        .expect("operator register");
    assert_eq!(resp.status().as_u16(), 403);

    cluster.stop().await;
}
