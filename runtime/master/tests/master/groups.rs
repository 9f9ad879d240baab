//! Groups as Marathon has them: a PUT replaces (apps left out stop), dryRun changes nothing,
//! versions roll back, groups may be empty, group dependencies order launches and stops, DELETE
//! waits for force while a deployment runs, embed, and bad bodies get 4xx.

use reqwest::Method;
use serde_json::{json, Value};

use crate::cluster::{eventually, tasks_of, wait_running, Cluster};

fn app(id: &str, deps: &[&str]) -> Value {
    json!({"id": id, "cmd": "sleep 100", "cpus": 0.1, "mem": 16, "dependencies": deps})
}

fn launched(cluster: &Cluster) -> Vec<String> {
    cluster
        .agents
        .launches()
        .iter()
        .map(|(_, l)| l.app_id.clone())
        .collect()
}

async fn versions(cluster: &Cluster, id: &str) -> Vec<String> {
    let (status, body) = cluster.get(&format!("/v2/groups{id}/versions")).await;
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .expect("versions array")
        .iter()
        .map(|v| v.as_str().expect("version").to_string())
        .collect()
}

#[tokio::test]
async fn a_group_put_replaces_its_apps_and_a_version_brings_them_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("a1", "*", &[]).await;
    let stack = json!({"id": "/stack", "apps": [
        app("web", &["/stack/api"]), app("api", &["/stack/db"]), app("db", &[])
    ]});
    let (status, body) = cluster
        .send(Method::PUT, "/v2/groups/stack", Some(stack))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["deploymentId"].is_string(), "{body}");
    wait_running(&cluster, "/stack/web", 1).await;
    assert_eq!(
        launched(&cluster),
        ["/stack/db", "/stack/api", "/stack/web"]
    );
    let first = versions(&cluster, "/stack").await;
    assert_eq!(first.len(), 1);

    // dryRun: the plan (web stops), and nothing changes.
    let without_web = json!({"id": "/stack", "apps": [app("api", &["/stack/db"]), app("db", &[])]});
    let (status, plan) = cluster
        .send(
            Method::PUT,
            "/v2/groups/stack?dryRun=true",
            Some(without_web.clone()),
        )
        .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(
        plan["steps"],
        json!([{"actions": [{"action": "StopApplication", "app": "/stack/web"}]}])
    );
    assert_eq!(cluster.get("/v2/apps/stack/web").await.0, 200);
    assert_eq!(versions(&cluster, "/stack").await, first);

    // The PUT for real: web stops, the others stay as they were (no restart).
    let (status, body) = cluster
        .send(Method::PUT, "/v2/groups/stack", Some(without_web))
        .await;
    assert_eq!(status, 200, "{body}");
    eventually(10, "/stack/web gone with its task", || async {
        let gone = cluster.get("/v2/apps/stack/web").await.0 == 404;
        (gone && tasks_of(&cluster, "/stack/web").await.is_empty()).then_some(())
    })
    .await;
    let (_, group) = cluster.get("/v2/groups/stack").await;
    let ids: Vec<&str> = group["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids, ["/stack/api", "/stack/db"]);
    assert_eq!(launched(&cluster).len(), 3, "api and db were not restarted");
    assert_eq!(versions(&cluster, "/stack").await.len(), 2);

    // Back to the first version (once the stop's deployment is over): web is deployed again.
    eventually(10, "no deployment running", || async {
        (cluster.get("/v2/deployments").await.1 == json!([])).then_some(())
    })
    .await;
    let (status, body) = cluster
        .send(
            Method::PUT,
            "/v2/groups/stack",
            Some(json!({"version": first[0]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_running(&cluster, "/stack/web", 1).await;
    let (status, old) = cluster
        .get(&format!("/v2/groups/stack/versions/{}", first[0]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(old["apps"].as_array().map(Vec::len), Some(3), "{old}");
    let (status, missing) = cluster
        .send(
            Method::PUT,
            "/v2/groups/stack",
            Some(json!({"version": "2001-01-01T00:00:00.000Z"})),
        )
        .await;
    assert_eq!(status, 404, "{missing}");
    cluster.stop().await;
}

#[tokio::test]
async fn groups_may_be_empty_and_their_dependencies_order_launches_and_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    let (status, body) = cluster
        .send(Method::POST, "/v2/groups", Some(json!({"id": "/empty"})))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, group) = cluster.get("/v2/groups/empty").await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["apps"], json!([]));
    let (status, again) = cluster
        .send(Method::POST, "/v2/groups", Some(json!({"id": "/empty"})))
        .await;
    assert_eq!(status, 409, "{again}");
    assert!(again["message"]
        .as_str()
        .is_some_and(|m| m.contains("/empty")));
    let (status, _) = cluster
        .send(
            Method::POST,
            "/v2/groups/empty",
            Some(json!({"id": "inner"})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, root) = cluster.get("/v2/groups").await;
    assert_eq!(
        root["groups"][0]["groups"][0]["id"], "/empty/inner",
        "{root}"
    );

    // front's group depends on back's: db (in back) starts before web (in front).
    cluster.add_agent("a1", "*", &[]).await;
    let two = json!({"id": "/two", "groups": [
        {"id": "front", "dependencies": ["/two/back"], "apps": [app("web", &[])]},
        {"id": "back", "apps": [app("db", &[])]},
    ]});
    let (status, body) = cluster.send(Method::PUT, "/v2/groups/two", Some(two)).await;
    assert_eq!(status, 200, "{body}");
    wait_running(&cluster, "/two/front/web", 1).await;
    assert_eq!(launched(&cluster), ["/two/back/db", "/two/front/web"]);
    let (_, front) = cluster.get("/v2/groups/two/front").await;
    assert_eq!(front["dependencies"], json!(["/two/back"]));

    // Deleting the group stops the dependent first.
    let web_task = tasks_of(&cluster, "/two/front/web").await[0]["id"].clone();
    let db_task = tasks_of(&cluster, "/two/back/db").await[0]["id"].clone();
    let (status, body) = cluster.send(Method::DELETE, "/v2/groups/two", None).await;
    assert_eq!(status, 200, "{body}");
    let kills = eventually(10, "both tasks killed", || async {
        let kills = cluster.agents.kills();
        (kills.len() == 2).then_some(kills)
    })
    .await;
    assert_eq!(kills, [web_task, db_task]);
    eventually(10, "/two gone", || async {
        (cluster.get("/v2/groups/two").await.0 == 404).then_some(())
    })
    .await;
    cluster.stop().await;
}

#[tokio::test]
async fn delete_waits_for_force_embed_works_and_bad_groups_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    // No agent: the deployment stays running.
    let pending = json!({"id": "/pending", "apps": [app("a", &[])]});
    let (status, _) = cluster
        .send(Method::PUT, "/v2/groups/pending", Some(pending))
        .await;
    assert_eq!(status, 200);
    let (status, locked) = cluster
        .send(Method::DELETE, "/v2/groups/pending", None)
        .await;
    assert_eq!(status, 409, "{locked}");
    assert!(locked["message"]
        .as_str()
        .is_some_and(|m| m.contains("force")));
    let (status, _) = cluster
        .send(Method::DELETE, "/v2/groups/pending?force=true", None)
        .await;
    assert_eq!(status, 200);

    cluster.add_agent("a1", "*", &[]).await;
    let shop = json!({"id": "/shop", "apps": [app("web", &[])]});
    cluster
        .send(Method::PUT, "/v2/groups/shop", Some(shop))
        .await;
    wait_running(&cluster, "/shop/web", 1).await;
    let (_, plain) = cluster.get("/v2/groups/shop").await;
    assert!(plain["apps"][0].get("tasks").is_none(), "{plain}");
    let (_, embedded) = cluster
        .get("/v2/groups/shop?embed=group.apps&embed=group.apps.tasks")
        .await;
    assert_eq!(
        embedded["apps"][0]["tasks"].as_array().map(Vec::len),
        Some(1)
    );
    let (_, only_groups) = cluster.get("/v2/groups?embed=group.groups").await;
    assert_eq!(only_groups["groups"][0]["id"], "/shop");
    assert_eq!(only_groups["groups"][0]["apps"], json!([]));

    // A PATCH adds and never removes.
    let patch = json!({"apps": [app("worker", &[])]});
    let (status, body) = cluster
        .send(Method::PATCH, "/v2/groups/shop", Some(patch))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, shop) = cluster.get("/v2/groups/shop").await;
    assert_eq!(shop["apps"].as_array().map(Vec::len), Some(2), "{shop}");

    // Bad input: a dependency cycle between groups, an app outside its group, broken JSON.
    let cyclic = json!({"id": "/cyc", "groups": [
        {"id": "x", "dependencies": ["/cyc/y"], "apps": [app("a", &[])]},
        {"id": "y", "dependencies": ["/cyc/x"], "apps": [app("b", &[])]},
    ]});
    let (status, body) = cluster
        .send(Method::PUT, "/v2/groups/cyc", Some(cyclic))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["message"], "Object is not valid");
    assert!(
        body["details"][0]["errors"][0]
            .as_str()
            .is_some_and(|e| e.contains("cyclic")),
        "{body}"
    );
    assert_eq!(
        cluster.get("/v2/groups/cyc").await.0,
        404,
        "nothing was created"
    );
    let outside = json!({"id": "/shop", "apps": [app("/elsewhere/x", &[])]});
    let (status, body) = cluster
        .send(Method::PUT, "/v2/groups/shop", Some(outside))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"][0]["path"], "/apps(0)/id");
    let response = cluster
        .http
        .put(format!("{}/v2/groups/shop", cluster.marathon))
        .header("Content-Type", "application/json")
        .body("{\"apps\": [")
        .send()
        .await
        .expect("put");
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(cluster.get("/v2/groups/shop").await.0, 200, "still serving");
    cluster.stop().await;
}
