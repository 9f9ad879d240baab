//! `/strato/v1/tasks` and reading a task's sandbox through the master: the master finds the
//! task's agent and sandbox and asks that agent (a fake that echoes what it was asked).

use reqwest::Method;
use serde_json::{json, Value};

use crate::cluster::{eventually, wait_running, Cluster};

async fn started_web(dir: &std::path::Path) -> (Cluster, String) {
    let cluster = Cluster::start(dir).await;
    cluster.add_agent("a1", "*", &[]).await;
    let app = json!({"id": "/web", "cmd": "sleep 100", "cpus": 0.1, "mem": 16});
    let (status, body) = cluster.send(Method::POST, "/v2/apps", Some(app)).await;
    assert_eq!(status, 201, "{body}");
    let tasks = wait_running(&cluster, "/web", 1).await;
    let id = tasks[0]["id"].as_str().expect("task id").to_string();
    (cluster, id)
}

#[tokio::test]
async fn tasks_lists_active_then_finished_tasks_with_their_agent_and_sandbox() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cluster, first) = started_web(dir.path()).await;
    // Killed: Marathon starts a replacement, the first one is kept as finished.
    let (status, body) = cluster
        .send(Method::DELETE, &format!("/v2/apps/web/tasks/{first}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let listed = eventually(
        10,
        "the replacement running and the first finished",
        || async {
            let (_, body) = cluster.get("/strato/v1/tasks?app=/web").await;
            let tasks = body["tasks"].as_array().cloned().unwrap_or_default();
            (tasks.len() == 2 && tasks[0]["state"] == "TASK_RUNNING").then_some(tasks)
        },
    )
    .await;
    let second = listed[0]["id"].as_str().expect("id").to_string();
    assert_ne!(second, first);
    assert_eq!(listed[0]["active"], true);
    assert_eq!(listed[0]["appId"], "/web");
    assert_eq!(listed[0]["agentId"], "a1");
    assert_eq!(listed[0]["host"], "a1.example");
    assert!(listed[0]["startedAt"].is_string(), "{}", listed[0]);
    assert_eq!(listed[0]["sandbox"], format!("/work/a1/sandboxes/{second}"));
    assert_eq!(listed[1]["id"], first);
    assert_eq!(listed[1]["active"], false);
    assert_eq!(listed[1]["state"], "TASK_KILLED");
    assert_eq!(listed[1]["sandbox"], format!("/work/a1/sandboxes/{first}"));
    // Without a filter every app's tasks; another app's filter lists none of these.
    let (_, all) = cluster.get("/strato/v1/tasks").await;
    assert_eq!(all["tasks"].as_array().map(Vec::len), Some(2));
    let (_, none) = cluster.get("/strato/v1/tasks?app=/other").await;
    assert_eq!(none["tasks"], json!([]));
    cluster.stop().await;
}

#[tokio::test]
async fn a_tasks_file_is_read_from_its_agent_and_paths_leaving_the_sandbox_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cluster, task) = started_web(dir.path()).await;
    let (status, body) = cluster
        .get(&format!(
            "/strato/v1/tasks/{task}/files/read?path=stdout&offset=5&length=10"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"agent": "a1", "path": "/files/read", "query": {
            "path": format!("/work/a1/sandboxes/{task}/stdout"), "offset": "5", "length": "10"}})
    );
    // Browse defaults to the sandbox itself.
    let (_, body) = cluster
        .get(&format!("/strato/v1/tasks/{task}/files/browse"))
        .await;
    assert_eq!(body["path"], "/files/browse");
    assert_eq!(body["query"]["path"], format!("/work/a1/sandboxes/{task}"));
    let (_, body) = cluster
        .get(&format!(
            "/strato/v1/tasks/{task}/files/download?path=logs/app.log"
        ))
        .await;
    assert_eq!(body["path"], "/files/download");
    assert_eq!(
        body["query"]["path"],
        format!("/work/a1/sandboxes/{task}/logs/app.log")
    );

    for path in ["../../x", "logs/../../../x", "/etc/passwd"] {
        let (status, body) = cluster
            .get(&format!("/strato/v1/tasks/{task}/files/read?path={path}"))
            .await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body["message"].is_string(), "{body}");
    }
    let (status, body) = cluster
        .get("/strato/v1/tasks/nope.1/files/read?path=stdout")
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["message"], "Task 'nope.1' does not exist");

    cluster.agents.silence("a1");
    let (status, body) = cluster
        .get(&format!("/strato/v1/tasks/{task}/files/read?path=stdout"))
        .await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("did not answer")),
        "{body}"
    );
    cluster.stop().await;
}

#[tokio::test]
async fn the_dcos_agent_routes_pass_through_to_the_agent() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cluster, _) = started_web(dir.path()).await;
    let (status, body) = cluster
        .get("/agent/a1/files/read?path=/work/a1/sandboxes/x/stdout&offset=-1")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"agent": "a1", "path": "/files/read",
               "query": {"path": "/work/a1/sandboxes/x/stdout", "offset": "-1"}})
    );
    let (_, body) = cluster.get("/agent/a1/state").await;
    assert_eq!(body["path"], "/state");
    for path in [
        "/agent/nope/files/read?path=/x",
        "/agent/v1/files/read?path=/x",
        "/agent/a1/files/delete?path=/x",
    ] {
        let (status, body): (u16, Value) = cluster.get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    cluster.stop().await;
}
