//! `/metrics` and `/strato/v1/metrics/history` of a real master with fake agents, and the docs'
//! metric names (docs/metrics.md, docs/prometheus/, docs/grafana/) against what it serves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::cluster::{eventually, test_config, wait_running, Cluster};

/// The value of the sample line `name` (with its labels, if any) in Prometheus text.
pub fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_text(cluster: &Cluster) -> String {
    let response = cluster
        .http
        .get(format!("{}/metrics", cluster.mesos))
        .send()
        .await
        .expect("metrics");
    assert!(response.status().is_success());
    let kind = response.headers()["content-type"]
        .to_str()
        .expect("type")
        .to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    response.text().await.expect("text")
}

#[tokio::test]
async fn launches_api_latency_and_history_show_an_apps_tasks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = strato_master::MasterConfig {
        metrics_history_interval_ms: 50,
        ..test_config(dir.path())
    };
    let cluster = Cluster::start_with(config).await;
    // A fresh master has a point at once, before any agent.
    let (status, history) = cluster.get("/strato/v1/metrics/history").await;
    assert_eq!(status, 200);
    assert_eq!(history["intervalSeconds"], json!(0.05));
    assert!(!history["points"].as_array().expect("points").is_empty());

    cluster.add_agent("a1", "*", &[]).await;
    let (status, _) = cluster
        .send(
            reqwest::Method::POST,
            "/v2/apps",
            Some(json!({"id": "/web", "cmd": "sleep 1000", "cpus": 0.5, "mem": 64, "disk": 10, "instances": 2})),
        )
        .await;
    assert_eq!(status, 201);
    wait_running(&cluster, "/web", 2).await;
    let (status, _) = cluster.get("/v2/apps/web").await;
    assert_eq!(status, 200);

    let text = metrics_text(&cluster).await;
    let launches = sample(&text, "strato_task_launches_total").expect("launches counter");
    assert!(launches >= 2.0, "{text}");
    for (method, route) in [("POST", "/v2/apps"), ("GET", "/v2/apps/{*rest}")] {
        let count = format!(
            "strato_api_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",status=\"2xx\",le=\"+Inf\"}}"
        );
        assert!(
            sample(&text, &count).is_some_and(|n| n >= 1.0),
            "{count}: {text}"
        );
    }
    assert!(
        !text.contains("route=\"/v2/apps/web\""),
        "the raw path must never be a label: {text}"
    );
    assert!(
        sample(&text, "strato_agent_heartbeats_total").is_some(),
        "{text}"
    );
    assert!(
        sample(&text, "strato_store_commit_duration_seconds_count").is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "strato_reconcile_duration_seconds_count").is_some_and(|n| n >= 1.0),
        "{text}"
    );

    // The sampler catches up with the running tasks.
    let point = eventually(
        10,
        "a history point with the agent's running tasks",
        || async {
            let (_, history) = cluster.get("/strato/v1/metrics/history").await;
            let point = history["points"].as_array()?.last()?.clone();
            let done =
                point["agents"]["a1"]["tasks"] == json!(2) && point["tasksRunning"] == json!(2);
            done.then_some(point)
        },
    )
    .await;
    let agent = &point["agents"]["a1"];
    assert_eq!(agent["hostname"], "a1.example");
    assert_eq!(agent["cpusUsed"], json!(1.0));
    assert_eq!(agent["cpusTotal"], json!(4.0));
    assert_eq!(agent["memUsed"], json!(128.0));
    assert_eq!(agent["memTotal"], json!(4096.0));
    assert_eq!(agent["diskUsed"], json!(20.0));
    assert_eq!(agent["diskTotal"], json!(10000.0));
    assert_eq!(point["tasksRunning"], json!(2));
    assert_eq!(point["tasksStaging"], json!(0));
    assert_eq!(point["agentsActive"], json!(1));
    assert_eq!(point["cpusUsed"], json!(1.0));
    assert_eq!(point["cpusTotal"], json!(4.0));
    let time = point["time"].as_str().expect("time");
    assert!(
        strato_runtime_types::time::parse_iso(time).is_some() && time.ends_with('Z'),
        "{time}"
    );
    let keys: BTreeSet<&str> = point
        .as_object()
        .expect("point")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "time",
            "cpusUsed",
            "cpusTotal",
            "memUsed",
            "memTotal",
            "diskUsed",
            "diskTotal",
            "tasksRunning",
            "tasksStaging",
            "agentsActive",
            "agents"
        ])
    );
    cluster.stop().await;
}

/// Every metric name a master serves, as Prometheus stores them: each `# TYPE` line's name, and
/// a histogram's `_bucket`, `_sum` and `_count` series.
pub fn served_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(name), Some(kind)) = (words.next(), words.next()) else {
            continue;
        };
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                names.insert(format!("{name}{suffix}"));
            }
        }
        names.insert(name.to_string());
    }
    names
}

/// Every `strato_…` word in `text` (metric names; the docs use no other such words).
fn named_metrics(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(found) = text[at..].find("strato_") {
        let start = at + found;
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let end = start + text[start..].bytes().take_while(|b| word(*b)).count();
        if start == 0 || !word(bytes[start - 1]) {
            names.insert(text[start..end].to_string());
        }
        at = end;
    }
    names
}

pub fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

#[tokio::test]
async fn every_metric_the_docs_name_is_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    // A family with no series yet is left out: the first scrape puts one in the API histogram.
    metrics_text(&cluster).await;
    let served = served_names(&metrics_text(&cluster).await);
    cluster.stop().await;
    let mut files = vec![
        docs().join("metrics.md"),
        docs().join("grafana/strato-dashboard.json"),
    ];
    for entry in std::fs::read_dir(docs().join("prometheus")).expect("docs/prometheus") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yml") {
            files.push(path);
        }
    }
    let documented = std::fs::read_to_string(docs().join("metrics.md")).expect("metrics.md");
    for name in &served {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| served.contains(*f)))
            .unwrap_or(name);
        assert!(
            documented.contains(&format!("`{family}`")),
            "docs/metrics.md does not describe {family}"
        );
    }
    for file in files {
        let text = std::fs::read_to_string(&file).expect("doc");
        if file.extension().is_some_and(|e| e == "json") {
            let _: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
        }
        let named = named_metrics(&text);
        let is_scrape_config = file.ends_with("prometheus.yml");
        assert!(
            is_scrape_config || named.len() >= 5,
            "{} names too few metrics: {named:?}",
            file.display()
        );
        let unknown: Vec<&String> = named.difference(&served).collect();
        assert!(
            unknown.is_empty(),
            "{} names metrics the master does not serve: {unknown:?} (served: {served:?})",
            file.display()
        );
    }
}
