//! `/strato/v1/backup` and `/strato/v1/restore`: a backup restored on a wiped master brings the
//! apps, their versions and deployments back, and the tasks still running are adopted.

use reqwest::Method;
use serde_json::{json, Value};

use crate::cluster::{eventually, tasks_of, test_config, wait_running, Cluster};

fn ids(tasks: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = tasks
        .iter()
        .filter_map(|t| t["id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_backup_restored_on_a_wiped_master_brings_apps_back_and_adopts_the_running_tasks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(&dir.path().join("first")).await;
    cluster.add_agent("a1", "*", &[]).await;
    let app =
        json!({"id": "/shop/web", "cmd": "sleep 100", "cpus": 0.1, "mem": 16, "instances": 2});
    let (status, _) = cluster.send(Method::POST, "/v2/apps", Some(app)).await;
    assert_eq!(status, 201);
    wait_running(&cluster, "/shop/web", 2).await;
    let (status, _) = cluster
        .send(
            Method::PUT,
            "/v2/apps/shop/web",
            Some(json!({"cmd": "sleep 200"})),
        )
        .await;
    assert_eq!(status, 200);
    let running = ids(&wait_running(&cluster, "/shop/web", 2).await);
    let (_, versions) = cluster.get("/v2/apps/shop/web/versions").await;
    let (status, backup) = cluster.get("/strato/v1/backup").await;
    assert_eq!(status, 200, "{backup}");
    assert_eq!(
        backup["tables"]["apps"].as_object().map(|a| a.len()),
        Some(1)
    );
    let agents = cluster.agents.clone();
    cluster.stop().await;

    // The state is gone (a fresh data dir); the agent still runs the two tasks.
    let cluster =
        Cluster::start_with_agents(test_config(&dir.path().join("wiped")), agents.clone()).await;
    let (status, _) = cluster.get("/v2/apps/shop/web").await;
    assert_eq!(status, 404);

    // A tampered backup is refused with the reason; the real one is accepted.
    let mut tampered = backup.clone();
    tampered["tables"]["apps"]["/shop/web"] = json!("{\"id\":\"/evil\"}");
    let (status, body) = cluster
        .send(Method::POST, "/strato/v1/restore", Some(tampered))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("checksum"),
        "{body}"
    );
    let (status, body) = cluster
        .send(Method::POST, "/strato/v1/restore", Some(backup))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["restored"]["apps"], 1);

    let launches_before = agents.launches().len();
    cluster.add_agent("a1", "*", &[]).await;
    let (status, app) = cluster.get("/v2/apps/shop/web").await;
    assert_eq!(status, 200);
    assert_eq!(app["app"]["cmd"], "sleep 200");
    let (_, restored_versions) = cluster.get("/v2/apps/shop/web/versions").await;
    assert_eq!(restored_versions, versions);
    let adopted = eventually(10, "the tasks adopted", || async {
        let tasks = ids(&tasks_of(&cluster, "/shop/web").await);
        (tasks == running).then_some(tasks)
    })
    .await;
    assert_eq!(adopted, running);
    wait_running(&cluster, "/shop/web", 2).await;
    assert_eq!(
        agents.launches().len(),
        launches_before,
        "no task was launched again"
    );
    assert!(
        agents.kills().iter().all(|k| !running.contains(k)),
        "a task was killed"
    );
    cluster.stop().await;
}
