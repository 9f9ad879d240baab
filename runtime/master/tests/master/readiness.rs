//! Readiness checks: the master probes a real HTTP endpoint standing in for the task, and a
//! deployment waits for it.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::cluster::{eventually, tasks_of, wait_running, Cluster};

/// The "task": answers every request with the status in `status`.
struct Endpoint {
    port: u16,
    status: Arc<AtomicU16>,
}

impl Endpoint {
    /// Binds a free port in the fake agents' port range (31000–31100) on 127.0.0.1, so the app
    /// can require it as its host port.
    async fn start(status: u16) -> Endpoint {
        let mut bound = None;
        for port in 31000..=31100 {
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
                bound = Some((port, listener));
                break;
            }
        }
        let (port, listener) = bound.expect("a free port in 31000-31100");
        let status = Arc::new(AtomicU16::new(status));
        let shared = Arc::clone(&status);
        // Every answer points elsewhere on the same server: a client that followed redirects
        // would loop on a 3xx and never report it.
        let app = axum::Router::new().fallback(move || {
            let code = shared.load(Ordering::SeqCst);
            async move {
                (
                    StatusCode::from_u16(code).expect("valid status"),
                    [("location", "/elsewhere")],
                    "warming up",
                )
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Endpoint { port, status }
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

/// `readinessCheckResults` of the first deployment's first current action.
async fn readiness_results(cluster: &Cluster) -> Option<Vec<Value>> {
    let (_, deployments) = cluster.get("/v2/deployments").await;
    deployments[0]["currentActions"][0]["readinessCheckResults"]
        .as_array()
        .cloned()
}

/// Waits until the deployment shows a not-ready result for `task` (a probe answered) and returns
/// that result.
async fn not_ready_result(cluster: &Cluster, task: &str) -> Value {
    eventually(10, "a not-ready readiness result", || async {
        readiness_results(cluster)
            .await?
            .into_iter()
            .find(|r| r["taskId"] == task && r["ready"] == false)
    })
    .await
}

async fn running_task_ids(cluster: &Cluster, app: &str) -> Vec<String> {
    tasks_of(cluster, app)
        .await
        .iter()
        .filter(|t| t["state"] == "TASK_RUNNING")
        .filter_map(|t| t["id"].as_str().map(str::to_string))
        .collect()
}

async fn deployment_count(cluster: &Cluster) -> usize {
    let (_, deployments) = cluster.get("/v2/deployments").await;
    deployments.as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn deployments_wait_until_new_tasks_answer_ready() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("a1", "*", &[]).await;
    let endpoint = Endpoint::start(503).await;
    let (status, _) = cluster
        .send(
            Method::POST,
            "/v2/apps",
            Some(json!({
                "id": "/ready", "cmd": "serve", "cpus": 0.1, "mem": 16,
                "portDefinitions": [{"port": endpoint.port, "name": "http"}],
                "requirePorts": true,
                "readinessChecks": [{"portName": "http", "path": "/ready", "intervalSeconds": 1,
                                     "timeoutSeconds": 1, "preserveLastResponse": true}],
            })),
        )
        .await;
    assert_eq!(status, 201);

    // Start: running, but answering 503, so the deployment stays.
    let first = eventually(10, "the first task running", || async {
        running_task_ids(&cluster, "/ready").await.pop()
    })
    .await;
    let result = not_ready_result(&cluster, &first).await;
    assert_eq!(result["name"], "readinessCheck");
    assert_eq!(result["lastResponse"]["status"], 503);
    assert_eq!(result["lastResponse"]["body"], "warming up");
    assert_eq!(
        deployment_count(&cluster).await,
        1,
        "not ready: still deploying"
    );

    // A redirect is the task's answer, not a place the master goes (Location points back here:
    // a client that followed it would loop and report nothing).
    endpoint.answer(302);
    let redirected = eventually(10, "a 302 kept as the last response", || async {
        readiness_results(&cluster)
            .await?
            .into_iter()
            .find(|r| r["taskId"] == first.as_str() && r["lastResponse"]["status"] == 302)
    })
    .await;
    assert_eq!(redirected["ready"], false);

    endpoint.answer(200);
    wait_running(&cluster, "/ready", 1).await;
    assert_eq!(deployment_count(&cluster).await, 0);

    // Rolling upgrade: the new task (on a second agent, same port) is probed; the old task stays
    // until the new one is ready.
    endpoint.answer(503);
    cluster.add_agent("a2", "*", &[]).await;
    let (status, _) = cluster
        .send(
            Method::PUT,
            "/v2/apps/ready",
            Some(json!({"cmd": "serve --v2"})),
        )
        .await;
    assert_eq!(status, 200);
    let second = eventually(10, "the new task running", || async {
        running_task_ids(&cluster, "/ready")
            .await
            .into_iter()
            .find(|id| *id != first)
    })
    .await;
    not_ready_result(&cluster, &second).await;
    assert!(
        !cluster.agents.kills().contains(&first),
        "the old task is kept while the new one is not ready"
    );
    assert_eq!(deployment_count(&cluster).await, 1);

    endpoint.answer(200);
    let left = wait_running(&cluster, "/ready", 1).await;
    assert_eq!(left[0]["id"], second.as_str());
    assert!(cluster.agents.kills().contains(&first));
    cluster.stop().await;
}
