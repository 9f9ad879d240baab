//! A real Prometheus (Debian's `prometheus`, installed by tests/prereqs.sh `need_prometheus`)
//! scrapes a master through its gateway with docs/prometheus/prometheus.yml (only the addresses
//! and file paths swapped for the test's), and loads docs/prometheus/strato-alerts.yml: the
//! documented configuration works as written, and the alert rules parse and evaluate.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use strato_gateway::TokenKey;

use crate::cluster::eventually;
use crate::gateway::{cluster, SECRET};
use crate::metrics::docs;

/// Kills Prometheus when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// `text` with `from` replaced, which must be there: the docs keep their placeholders.
fn swap(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "docs/prometheus/prometheus.yml lost {from:?}"
    );
    text.replace(from, to)
}

async fn query(http: &reqwest::Client, base: &str, path: &str) -> Option<Value> {
    let response = http.get(format!("{base}{path}")).send().await.ok()?;
    let body: Value = response.json().await.ok()?;
    (body["status"] == "success").then(|| body["data"].clone())
}

#[tokio::test]
async fn prometheus_scrapes_a_master_through_the_gateway_as_the_docs_say() {
    let dir = tempfile::tempdir().expect("tmp");
    let (master, _) = cluster(dir.path()).await;
    let gateway = master.gateway.clone().expect("gateway");
    let target = gateway.trim_start_matches("https://").to_string();

    let key = TokenKey::new(SECRET.as_bytes(), "gw").expect("key");
    let (token, _) = key.issue(
        "alice",
        Duration::from_secs(3600),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    );
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, token).expect("token");
    let ca_file = dir.path().join("pki").join(strato_tls::CA_CERT);

    let documented =
        std::fs::read_to_string(docs().join("prometheus/prometheus.yml")).expect("scrape config");
    let config = swap(
        &documented,
        "[\"10.0.0.11:443\", \"10.0.0.12:443\", \"10.0.0.13:443\"]",
        &format!("[\"{target}\"]"),
    );
    let config = swap(
        &config,
        "/etc/prometheus/strato/token",
        &token_file.display().to_string(),
    );
    let config = swap(
        &config,
        "/etc/prometheus/strato/ca.crt",
        &ca_file.display().to_string(),
    );
    let config = swap(&config, "scrape_interval: 15s", "scrape_interval: 1s");
    let config = swap(
        &config,
        "evaluation_interval: 15s",
        "evaluation_interval: 1s",
    );
    let home = dir.path().join("prometheus");
    std::fs::create_dir_all(&home).expect("prometheus dir");
    std::fs::write(home.join("prometheus.yml"), config).expect("config");
    // rule_files names the rules beside the config, as the docs lay them out.
    std::fs::copy(
        docs().join("prometheus/strato-alerts.yml"),
        home.join("strato-alerts.yml"),
    )
    .expect("rules");

    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            home.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            home.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus (Debian's package; tests/prereqs.sh need_prometheus installs it)");
    let _running = Running(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = strato_tls::client();

    eventually(60, "Prometheus to scrape the master (up == 1)", || async {
        let data = query(&http, &base, "/api/v1/query?query=up").await?;
        let value = data["result"].as_array()?.first()?["value"][1].clone();
        (value == "1").then_some(())
    })
    .await;
    eventually(30, "a strato_ metric in Prometheus", || async {
        let data = query(&http, &base, "/api/v1/query?query=strato_agents").await?;
        (!data["result"].as_array()?.is_empty()).then_some(())
    })
    .await;
    // The requests Prometheus made are in the master's own latency histogram.
    eventually(30, "the scrapes in strato_api_request_duration_seconds", || async {
        let data = query(
            &http,
            &base,
            "/api/v1/query?query=strato_api_request_duration_seconds_count%7Broute%3D%22%2Fmetrics%22%7D",
        )
        .await?;
        (!data["result"].as_array()?.is_empty()).then_some(())
    })
    .await;
    // Every documented alert rule loaded and evaluated without error.
    let rules = eventually(30, "the alert rules evaluated", || async {
        let data = query(&http, &base, "/api/v1/rules").await?;
        let rules: Vec<Value> = data["groups"]
            .as_array()?
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        let evaluated = !rules.is_empty()
            && rules
                .iter()
                .all(|r| r["lastEvaluation"].as_str() != Some("0001-01-01T00:00:00Z"));
        evaluated.then_some(rules)
    })
    .await;
    for rule in &rules {
        assert_eq!(rule["health"], "ok", "{rule}");
    }
    // Every query of the Grafana dashboard is PromQL Prometheus accepts.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(docs().join("grafana/strato-dashboard.json")).expect("dashboard"),
    )
    .expect("dashboard JSON");
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_string))
        .collect();
    assert!(exprs.len() >= 10, "{exprs:?}");
    for expr in exprs {
        let response = http
            .get(format!("{base}/api/v1/query"))
            .query(&[("query", expr.as_str())])
            .send()
            .await
            .expect("query");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["status"], "success", "{expr}: {body}");
    }
    master.stop().await;
}
