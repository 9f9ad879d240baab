//! Marathon API contract: status codes, error bodies, and only the field names marathon-python
//! accepts.

use reqwest::Method;
use serde_json::{json, Value};

use crate::cluster::{eventually, wait_running, Cluster};

/// Keys marathon-python's MarathonApp accepts (docs/marathon-contract.md §marathon-python keys).
const APP_KEYS: &[&str] = &[
    "acceptedResourceRoles",
    "args",
    "backoffFactor",
    "backoffSeconds",
    "cmd",
    "constraints",
    "container",
    "cpus",
    "dependencies",
    "deployments",
    "disk",
    "env",
    "executor",
    "healthChecks",
    "id",
    "role",
    "instances",
    "killSelection",
    "labels",
    "lastTaskFailure",
    "maxLaunchDelaySeconds",
    "mem",
    "ports",
    "requirePorts",
    "storeUrls",
    "taskRateLimit",
    "tasks",
    "tasksRunning",
    "tasksStaged",
    "tasksHealthy",
    "taskKillGracePeriodSeconds",
    "tasksUnhealthy",
    "upgradeStrategy",
    "unreachableStrategy",
    "uris",
    "user",
    "version",
    "versionInfo",
    "ipAddress",
    "fetch",
    "taskStats",
    "readinessChecks",
    "readinessCheckResults",
    "secrets",
    "portDefinitions",
    "residency",
    "gpus",
    "networks",
];
const TASK_KEYS: &[&str] = &[
    "appId",
    "healthCheckResults",
    "host",
    "id",
    "ports",
    "servicePorts",
    "slaveId",
    "stagedAt",
    "startedAt",
    "version",
    "ipAddresses",
    "state",
    "localVolumes",
    "region",
    "zone",
    "role",
];
/// Keys marathon-python 0.13.0's MarathonInfo accepts (`/v2/info`), as they appear in the JSON.
const INFO_KEYS: &[&str] = &[
    "buildref",
    "elected",
    "event_subscriber",
    "frameworkId",
    "http_config",
    "leader",
    "marathon_config",
    "name",
    "version",
    "zookeeper_config",
];

fn assert_keys(object: &Value, allowed: &[&str], what: &str) {
    for key in object.as_object().expect("object").keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "{what} has key {key} that marathon-python rejects"
        );
    }
}

fn is_marathon_timestamp(text: &str) -> bool {
    text.len() == 24 && text.ends_with('Z') && text.as_bytes()[19] == b'.'
}

#[tokio::test]
async fn create_get_and_list_use_marathon_shapes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("a1", "*", &[]).await;
    let response = cluster
        .http
        .post(format!("{}/v2/apps", cluster.marathon))
        .json(&json!({"id": "shop/web", "cmd": "sleep 100", "cpus": 0.1, "mem": 32, "instances": 2, "labels": {"team": "blue"}}))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["location"], "/v2/apps/shop/web");
    assert!(response.headers().contains_key("marathon-deployment-id"));
    let created: Value = response.json().await.expect("json");
    assert_eq!(created["id"], "/shop/web");
    assert_keys(&created, APP_KEYS, "POST answer");

    let tasks = wait_running(&cluster, "/shop/web", 2).await;
    for task in &tasks {
        assert_keys(task, TASK_KEYS, "task");
        assert!(
            is_marathon_timestamp(task["startedAt"].as_str().expect("startedAt")),
            "{task}"
        );
        assert_eq!(task["host"], "a1.example");
    }
    // marathon-python interpolates ids raw, so `/v2/apps//shop/web` must work too.
    let (status, body) = cluster.get("/v2/apps//shop/web").await;
    assert_eq!(status, 200);
    let app = &body["app"];
    assert_keys(app, APP_KEYS, "GET app");
    assert_eq!(app["tasksRunning"], 2);
    assert!(is_marathon_timestamp(
        app["version"].as_str().expect("version")
    ));
    assert_eq!(
        app["portDefinitions"][0]["port"], 10000,
        "service port assigned from 10000"
    );

    let (_, list) = cluster
        .get("/v2/apps?embed=apps.tasks&label=team==blue")
        .await;
    assert_eq!(list["apps"].as_array().expect("apps").len(), 1);
    assert_eq!(list["apps"][0]["tasks"].as_array().expect("tasks").len(), 2);
    let (_, none) = cluster.get("/v2/apps?label=team==red").await;
    assert_eq!(none["apps"], json!([]));

    let (_, all_tasks) = cluster.get("/v2/tasks?status=running").await;
    assert_eq!(all_tasks["tasks"].as_array().expect("tasks").len(), 2);
    let launch = &cluster.agents.launches()[0].1;
    assert_eq!(launch.env["MARATHON_APP_ID"], "/shop/web");
    assert_eq!(launch.env["PORT0"], launch.ports[0].to_string());
    assert_eq!(launch.env["HOST"], "a1.example");
    cluster.stop().await;
}

#[tokio::test]
async fn errors_use_marathon_codes_and_bodies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    let post = |body: &'static str| {
        let request = cluster
            .http
            .post(format!("{}/v2/apps", cluster.marathon))
            .header("content-type", "application/json")
            .body(body);
        async move {
            let response = request.send().await.expect("post");
            (
                response.status().as_u16(),
                response.json::<Value>().await.expect("json error body"),
            )
        }
    };
    let (status, body) = post("{not json").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Invalid JSON"))
    );

    let (status, body) = post(r#"{"id": "/Bad", "cmd": "x"}"#).await;
    assert_eq!(status, 422);
    insta::assert_yaml_snapshot!("invalid_app_id", body);

    let (status, body) = post(r#"{"id": "/x", "cmd": "a", "args": ["b"]}"#).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (422, Some("Object is not valid"))
    );

    let (status, _) = post(r#"{"id": "/dup", "cmd": "sleep 1", "instances": 0}"#).await;
    assert_eq!(status, 201);
    let (status, body) = post(r#"{"id": "/dup", "cmd": "sleep 1"}"#).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (409, Some("An app with id [/dup] already exists."))
    );

    let (status, body) = cluster.get("/v2/apps/missing").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("App '/missing' does not exist"))
    );
    let (status, body) = cluster
        .send(Method::DELETE, "/v2/deployments/nope", None)
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("DeploymentPlan nope does not exist"))
    );
    let (status, body) = cluster
        .send(
            Method::PATCH,
            "/v2/apps/missing",
            Some(json!({"instances": 2})),
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("App '/missing' does not exist"))
    );
    let created = cluster
        .http
        .put(format!("{}/v2/apps/made-by-put", cluster.marathon))
        .json(&json!({"cmd": "sleep 1", "instances": 0}))
        .send()
        .await
        .expect("put");
    assert_eq!(created.status().as_u16(), 201, "PUT creates a missing app");
    assert_eq!(created.headers()["location"], "/v2/apps/made-by-put");
    let (status, body) = cluster
        .send(
            Method::PUT,
            "/v2/apps/made-by-put",
            Some(json!({"version": "2000-01-01T00:00:00.000Z", "cmd": "x"})),
        )
        .await;
    assert_eq!(
        status, 422,
        "a rollback combines version only with id: {body}"
    );
    let (status, body) = cluster.get("/v2/nothing-here").await;
    assert_eq!(status, 404);
    assert!(body["message"].is_string());
    cluster.stop().await;
}

#[tokio::test]
async fn a_second_change_while_deploying_is_409_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    // No agents: the deployment cannot finish.
    let (status, _) = cluster
        .send(
            Method::POST,
            "/v2/apps",
            Some(json!({"id": "/stuck", "cmd": "sleep 1"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = cluster
        .send(Method::PUT, "/v2/apps/stuck", Some(json!({"instances": 2})))
        .await;
    assert_eq!(status, 409);
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("locked"));
    let locked_by = body["deployments"][0]["id"]
        .as_str()
        .expect("deployment id")
        .to_string();

    let (status, body) = cluster
        .send(
            Method::PUT,
            "/v2/apps/stuck?force=True",
            Some(json!({"instances": 2})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(body["deploymentId"].is_string());
    let (_, deployments) = cluster.get("/v2/deployments").await;
    let ids: Vec<&str> = deployments
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert!(
        !ids.contains(&locked_by.as_str()),
        "forced deployment replaced the old one"
    );
    assert_eq!(deployments[0]["affectedApps"], json!(["/stuck"]));
    assert_eq!(
        deployments[0]["currentActions"][0]["action"],
        "ScaleApplication"
    );

    // The queue shows the app waiting for capacity once the reconcile loop has planned the change.
    let queue = eventually(5, "the queue to show 2 waiting", || async {
        let (_, queue) = cluster.get("/v2/queue").await;
        (queue["queue"][0]["count"] == 2).then_some(queue)
    })
    .await;
    assert_eq!(queue["queue"][0]["app"]["id"], "/stuck");
    cluster.stop().await;
}

#[tokio::test]
async fn info_leader_ping_and_metrics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    let (status, info) = cluster.get("/v2/info").await;
    assert_eq!(status, 200);
    assert_eq!(info["name"], "marathon");
    assert_eq!(info["version"], "1.10.0");
    // The Strato version stays out: marathon-python's get_info() raises on unknown keys.
    assert_keys(&info, INFO_KEYS, "/v2/info");
    assert!(
        info["marathon_config"].is_object()
            && info["zookeeper_config"].is_object()
            && info["http_config"].is_object()
    );
    let (_, leader) = cluster.get("/v2/leader").await;
    assert!(leader["leader"]
        .as_str()
        .expect("leader")
        .starts_with("127.0.0.1:"));
    let pong = cluster
        .http
        .get(format!("{}/ping", cluster.marathon))
        .send()
        .await
        .expect("ping")
        .text()
        .await
        .expect("text");
    assert_eq!(pong, "pong");
    let text = cluster
        .http
        .get(format!("{}/metrics", cluster.mesos))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(text.contains("strato_agents{state=\"active\"} 0"), "{text}");
    let (_, json_metrics) = cluster.get("/metrics").await;
    assert!(json_metrics["gauges"].is_object());
    eventually(5, "health", || async {
        let r = cluster
            .http
            .get(format!("{}/master/health", cluster.mesos))
            .send()
            .await
            .ok()?;
        r.status().is_success().then_some(())
    })
    .await;
    cluster.stop().await;
}

#[tokio::test]
async fn strato_versions_of_the_master_and_its_agents_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    // Tests run beside no VERSION file, so this is the crate version.
    let version = strato_runtime_types::version::runtime_version();
    // The fake agents register with version "test".
    cluster.add_agent("a1", "*", &[]).await;

    let (status, ha) = cluster.get("/strato/v1/ha").await;
    assert_eq!(status, 200);
    assert_eq!(ha["version"], version);

    for path in ["/master/state", "/state"] {
        let state: Value = cluster
            .http
            .get(format!("{}{path}", cluster.mesos))
            .send()
            .await
            .expect("state")
            .json()
            .await
            .expect("json");
        // Mesos' own version stays for Mesos clients.
        assert_eq!(state["version"], "1.12.0", "{path}");
        assert_eq!(state["strato_version"], version, "{path}");
        assert_eq!(state["slaves"][0]["id"], "a1", "{path}");
        assert_eq!(state["slaves"][0]["strato_version"], "test", "{path}");
    }
    for path in ["/master/slaves", "/master/state-summary"] {
        let body: Value = cluster
            .http
            .get(format!("{}{path}", cluster.mesos))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(body["slaves"][0]["strato_version"], "test", "{path}");
    }
    cluster.stop().await;
}

#[tokio::test]
async fn app_json_matches_the_marathon_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    let app = json!({"id": "/shape", "cmd": "python3 -m http.server $PORT0", "instances": 0, "cpus": 0.2, "mem": 64,
        "env": {"MODE": "test"}, "constraints": [["hostname", "UNIQUE"]],
        "healthChecks": [{"protocol": "HTTP", "path": "/", "portIndex": 0}]});
    let (status, _) = cluster.send(Method::POST, "/v2/apps", Some(app)).await;
    assert_eq!(status, 201);
    let body = eventually(10, "the deployment to finish", || async {
        let (_, body) = cluster.get("/v2/apps/shape").await;
        (body["app"]["deployments"] == json!([])).then_some(body)
    })
    .await;
    insta::with_settings!({filters => vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "[timestamp]"),
        (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]"),
    ]}, {
        insta::assert_yaml_snapshot!("app_shape", body);
    });
    cluster.stop().await;
}

#[tokio::test]
async fn a_web_page_cannot_post_apps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    let app = r#"{"id": "/csrf", "cmd": "sleep 1000"}"#;
    // What an HTML form can send: no JSON content type.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = cluster
            .http
            .post(format!("{}/v2/apps", cluster.marathon))
            .header("content-type", content_type)
            .body(app)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status().as_u16(), 415, "{content_type}");
        let body: Value = response.json().await.expect("json body");
        assert!(body["message"]
            .as_str()
            .is_some_and(|m| m.contains("application/json")));
    }
    // A page that re-pointed its own name at 127.0.0.1 (DNS rebinding), or posts cross-origin.
    for (name, value) in [
        ("host", "evil.example:8080"),
        ("origin", "http://evil.example"),
    ] {
        let response = cluster
            .http
            .post(format!("{}/v2/apps", cluster.marathon))
            .header("content-type", "application/json")
            .header(name, value)
            .body(app)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status().as_u16(), 403, "{name}: {value}");
    }
    let (_, apps) = cluster.get("/v2/apps").await;
    assert_eq!(apps["apps"], serde_json::json!([]), "nothing was created");
    // A JSON post with a charset from localhost is fine.
    let response = cluster
        .http
        .post(format!("{}/v2/apps", cluster.marathon))
        .header("content-type", "application/json; charset=utf-8")
        .header("origin", "http://localhost:3000")
        .body(app)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 201);
    cluster.stop().await;
}

#[tokio::test]
async fn apps_marathon_would_refuse_get_422_and_the_master_stays_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    let post = |body: Value| {
        let request = cluster
            .http
            .post(format!("{}/v2/apps", cluster.marathon))
            .json(&body);
        async move {
            let response = request.send().await.expect("post");
            (
                response.status().as_u16(),
                response.json::<Value>().await.expect("json body"),
            )
        }
    };
    let created = post(
        serde_json::json!({"id": "/a", "cmd": "sleep 1000", "instances": 0,
                                          "dependencies": ["/b"]}),
    )
    .await;
    assert_eq!(created.0, 201, "{}", created.1);
    // /b depending on /a closes the loop a -> b -> a.
    let (status, body) =
        post(serde_json::json!({"id": "/b", "cmd": "sleep 1000", "dependencies": ["/a"]})).await;
    assert_eq!(status, 422, "{body}");
    let error = body["details"][0]["errors"][0].as_str().unwrap_or_default();
    assert!(error.contains("cyclic dependencies"), "{body}");
    assert!(error.contains("/a") && error.contains("/b"), "{body}");

    let (status, body) =
        post(serde_json::json!({"id": "/huge", "cmd": "x", "instances": 1_000_000})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"][0]["path"], "/instances");

    let (status, body) = post(serde_json::json!({"id": "/gpu", "cmd": "x", "gpus": 2})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"][0]["path"], "/gpus");

    // Containers: what no agent may be asked for is refused before any task exists.
    for (container, networks, path) in [
        (
            serde_json::json!({"type": "DOCKER", "docker": {"image": "web:1", "privileged": true}}),
            serde_json::json!([]),
            "/container/docker/privileged",
        ),
        (
            serde_json::json!({"type": "DOCKER", "docker": {"image": "web:1"},
                "volumes": [{"containerPath": "/etc", "hostPath": "../../etc", "mode": "RW"}]}),
            serde_json::json!([]),
            "/container/volumes(0)",
        ),
        (
            serde_json::json!({"type": "DOCKER", "docker": {"image": "web:1"},
                "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "sctp"}]}),
            serde_json::json!([{"mode": "container/bridge"}]),
            "/container/portMappings(0)/protocol",
        ),
        (
            serde_json::json!({"type": "DOCKER", "docker": {"image": "web:1"}}),
            serde_json::json!([{"mode": "overlay"}]),
            "/networks",
        ),
        // A parameter Strato can pass, but this cluster does not allow (none by default).
        (
            serde_json::json!({"type": "DOCKER", "docker": {"image": "web:1",
                "parameters": [{"key": "cap-add", "value": "NET_ADMIN"}]}}),
            serde_json::json!([]),
            "/container/docker/parameters(0)/key",
        ),
        // One no engine API call expresses.
        (
            serde_json::json!({"type": "DOCKER", "docker": {"image": "web:1",
                "parameters": [{"key": "volume-driver", "value": "x"}]}}),
            serde_json::json!([]),
            "/container/docker/parameters(0)/key",
        ),
    ] {
        let (status, body) = post(serde_json::json!({"id": "/ctr", "cmd": "x",
            "container": container, "networks": networks}))
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["message"], "Object is not valid", "{body}");
        let paths: Vec<&str> = body["details"]
            .as_array()
            .expect("details")
            .iter()
            .filter_map(|d| d["path"].as_str())
            .collect();
        assert!(paths.contains(&path), "{path} in {body}");
    }

    // Still serving, and only /a exists.
    let (_, apps) = cluster.get("/v2/apps").await;
    let ids: Vec<&str> = apps["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["/a"]);
    cluster.stop().await;
}

#[tokio::test]
async fn a_fixed_host_port_outside_every_agents_range_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("a1", "*", &[]).await;
    let app = |id: &str, host_port: u32| {
        json!({"id": id, "cmd": "x", "cpus": 0.1, "mem": 16,
            "container": {"type": "DOCKER", "docker": {"image": "web:1"},
                "portMappings": [{"containerPort": 80, "hostPort": host_port}]},
            "networks": [{"mode": "container/bridge"}]})
    };
    let (status, body) = cluster
        .send(Method::POST, "/v2/apps", Some(app("/low", 80)))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["details"][0]["path"],
        "/container/portMappings(0)/hostPort"
    );
    let why = body["details"][0]["errors"][0].as_str().unwrap_or_default();
    assert!(why.contains("31000-31100"), "{body}");
    let (status, body) = cluster
        .send(Method::POST, "/v2/apps", Some(app("/in-range", 31050)))
        .await;
    assert_eq!(status, 201, "{body}");
    cluster.stop().await;
}
