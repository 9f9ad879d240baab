//! The gateway's cost: the same Marathon read (`GET /v2/apps` with 20 apps, and `GET /v2/info`)
//! straight to the master's API over mutual TLS with the operator certificate, and through the
//! gateway over TLS with a token, from one in-process master on 127.0.0.1. Both sides keep their
//! connections alive over HTTP/1.1; 8 requests in flight. Prints requests/s and p50/p99 per route and side, and
//! what the gateway adds at p50.
//!
//! `cargo bench -p strato-master --bench gateway`

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use strato_tls::{ClusterCa, MemberRequest, MemberRole};

const IN_FLIGHT: usize = 8;
const REQUESTS: usize = 4000;
const WARMUP: usize = 400;

fn member(
    ca: &ClusterCa,
    dir: &std::path::Path,
    name: &str,
    role: MemberRole,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let issued = ca
        .issue(&MemberRequest {
            role,
            name: name.into(),
            ips: vec!["127.0.0.1".parse().expect("ip")],
            dns: Vec::new(),
        })
        .expect("issue");
    let (cert, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&cert, issued.cert_pem).expect("cert");
    std::fs::write(&key, issued.key_pem).expect("key");
    (cert, key)
}

/// Latencies of `REQUESTS` GETs of `url`, `IN_FLIGHT` at a time, and the wall time.
async fn measure(
    client: &reqwest::Client,
    url: &str,
    auth: Option<&str>,
) -> (Vec<Duration>, Duration) {
    let send = |client: reqwest::Client, url: String, auth: Option<String>| async move {
        let mut request = client.get(&url);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let started = Instant::now();
        let response = request.send().await.expect("request");
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        let _ = response.bytes().await.expect("body");
        started.elapsed()
    };
    for _ in 0..WARMUP {
        send(client.clone(), url.to_string(), auth.map(str::to_string)).await;
    }
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(REQUESTS);
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (client, url, auth) = (client.clone(), url.to_string(), auth.map(str::to_string));
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for _ in 0..REQUESTS / IN_FLIGHT {
                mine.push(send(client.clone(), url.clone(), auth.clone()).await);
            }
            mine
        }));
    }
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let wall = started.elapsed();
    latencies.sort();
    (latencies, wall)
}

fn at(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tmp");
    let ca = ClusterCa::load_or_create(&dir.path().join("pki"), "bench").expect("CA");
    let (master_cert, master_key) = member(&ca, dir.path(), "master", MemberRole::Master);
    let (operator_cert, operator_key) = member(&ca, dir.path(), "operator", MemberRole::Operator);
    std::fs::write(
        dir.path().join("secret"),
        "a-bench-token-secret-of-more-than-32-bytes",
    )
    .expect("secret");
    std::fs::write(dir.path().join("accounts.json"), r#"{"users": []}"#).expect("accounts");
    let config = strato_master::MasterConfig {
        data_dir: dir.path().join("data"),
        bind: "127.0.0.1".into(),
        mesos_port: 0,
        marathon_port: 0,
        dns_port: 0,
        tls_ca: Some(ca.dir().join(strato_tls::CA_CERT)),
        tls_cert: Some(master_cert),
        tls_key: Some(master_key),
        gateway_port: Some(0),
        gateway_token_secret: Some(dir.path().join("secret")),
        gateway_accounts: Some(dir.path().join("accounts.json")),
        ..strato_master::MasterConfig::default()
    };
    std::fs::create_dir_all(&config.data_dir).expect("data");
    let listeners = strato_master::bind(&config).await.expect("bind");
    let direct = format!("https://{}", listeners.marathon_addr().expect("addr"));
    let gateway = format!(
        "https://{}",
        listeners
            .gateway
            .as_ref()
            .and_then(|g| g.https_addr())
            .expect("gateway")
    );
    let store = Arc::new(
        strato_store::RedbStore::open(&config.data_dir.join("state.redb")).expect("store"),
    );
    let master = strato_master::Master::new(
        config,
        store,
        Arc::new(strato_master::HttpAgentClient::new()),
    )
    .await
    .expect("master");
    tokio::spawn(strato_master::serve(
        master,
        listeners,
        std::future::pending(),
    ));

    let operator = strato_tls::MemberTls::load(&strato_tls::TlsFiles {
        ca: ca.dir().join(strato_tls::CA_CERT),
        cert: operator_cert,
        key: operator_key,
    })
    .expect("operator");
    // HTTP/1.1 on both sides, so the comparison is of the hop, not of the protocol.
    let mtls = strato_tls::member_client_builder(&operator, &[MemberRole::Master])
        .expect("client")
        .http1_only()
        .build()
        .expect("client");
    let ca_pem = std::fs::read(ca.dir().join(strato_tls::CA_CERT)).expect("ca");
    let tls = strato_tls::client_builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca_pem).expect("ca")])
        .http1_only()
        .build()
        .expect("client");
    let key =
        strato_gateway::TokenKey::new(b"a-bench-token-secret-of-more-than-32-bytes", "strato")
            .expect("key");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let (token, _) = key.issue("bench", Duration::from_secs(3600), now);
    let auth = format!("token={token}");

    for i in 0..20 {
        let app = json!({"id": format!("/bench/app-{i}"), "cmd": "sleep 600", "cpus": 0.1, "mem": 16, "instances": 0});
        let response = mtls
            .post(format!("{direct}/v2/apps"))
            .json(&app)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status().as_u16(), 201);
    }

    println!("| route | path | requests/s | p50 | p99 |");
    println!("|---|---|---:|---:|---:|");
    for path in ["/v2/info", "/v2/apps"] {
        let (straight, wall_s) = measure(&mtls, &format!("{direct}{path}"), None).await;
        let (through, wall_g) = measure(
            &tls,
            &format!("{gateway}/service/marathon{path}"),
            Some(&auth),
        )
        .await;
        for (name, lat, wall) in [
            ("master API, mutual TLS", &straight, wall_s),
            ("gateway, TLS + token", &through, wall_g),
        ] {
            println!(
                "| {name} | `{path}` | {:.0} | {:.2} ms | {:.2} ms |",
                REQUESTS as f64 / wall.as_secs_f64(),
                at(lat, 0.50).as_secs_f64() * 1e3,
                at(lat, 0.99).as_secs_f64() * 1e3,
            );
        }
        let added = at(&through, 0.50).as_secs_f64() - at(&straight, 0.50).as_secs_f64();
        println!(
            "| added by the gateway | `{path}` | | {:+.3} ms | |",
            added * 1e3
        );
    }
}
