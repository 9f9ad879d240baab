//! Behaviour over time: restarts, scaling, rolling restarts, agent loss, backoff, rollback,
//! public agents and the event stream.

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

use crate::cluster::{eventually, tasks_of, test_config, wait_running, Cluster};

fn ids(tasks: &[Value]) -> Vec<String> {
    tasks
        .iter()
        .filter_map(|t| t["id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn master_restart_keeps_apps_versions_and_tasks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("a1", "*", &[]).await;
    cluster
        .send(
            Method::POST,
            "/v2/apps",
            Some(json!({"id": "/keep", "cmd": "sleep 100", "cpus": 0.1, "mem": 16})),
        )
        .await;
    let before = wait_running(&cluster, "/keep", 1).await;
    cluster
        .send(
            Method::PUT,
            "/v2/apps/keep",
            Some(json!({"cmd": "sleep 200"})),
        )
        .await;
    wait_running(&cluster, "/keep", 1).await;
    let (_, versions_before) = cluster.get("/v2/apps/keep/versions").await;
    cluster.stop().await;

    let cluster = Cluster::start(dir.path()).await;
    let (status, body) = cluster.get("/v2/apps/keep").await;
    assert_eq!(status, 200);
    assert_eq!(body["app"]["cmd"], "sleep 200");
    let (_, versions_after) = cluster.get("/v2/apps/keep/versions").await;
    assert_eq!(versions_after, versions_before);
    assert_eq!(
        versions_after["versions"]
            .as_array()
            .expect("versions")
            .len(),
        2
    );
    let (_, info) = cluster.get("/v2/info").await;
    assert!(info["frameworkId"].is_string());
    let tasks = tasks_of(&cluster, "/keep").await;
    assert_eq!(tasks.len(), 1, "the task is remembered across the restart");
    assert_ne!(
        ids(&tasks),
        ids(&before),
        "the first task was replaced by the config change"
    );
    cluster.stop().await;
}

#[tokio::test]
async fn scale_down_kills_the_youngest_and_kill_with_scale_shrinks_the_app() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("a1", "*", &[]).await;
    cluster
        .send(
            Method::POST,
            "/v2/apps",
            Some(json!({"id": "/s", "cmd": "sleep 100", "cpus": 0.1, "mem": 16, "instances": 1})),
        )
        .await;
    let first = ids(&wait_running(&cluster, "/s", 1).await);
    cluster
        .send(Method::PUT, "/v2/apps/s", Some(json!({"instances": 3})))
        .await;
    let three = ids(&wait_running(&cluster, "/s", 3).await);
    let (_, app) = cluster.get("/v2/apps/s").await;
    assert_ne!(
        app["app"]["versionInfo"]["lastScalingAt"],
        app["app"]["versionInfo"]["lastConfigChangeAt"]
    );
    cluster
        .send(Method::PUT, "/v2/apps/s", Some(json!({"instances": 1})))
        .await;
    let left = ids(&wait_running(&cluster, "/s", 1).await);
    assert_eq!(left, first, "the oldest task survives a scale down");
    let killed = cluster.agents.kills();
    assert!(
        three
            .iter()
            .filter(|id| !first.contains(id))
            .all(|id| killed.contains(id)),
        "the two younger tasks were killed"
    );

    let (status, body) = cluster
        .send(
            Method::DELETE,
            &format!("/v2/apps/s/tasks/{}?scale=true", left[0]),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(body["deploymentId"].is_string());
    eventually(10, "app scaled to 0", || async {
        let (_, app) = cluster.get("/v2/apps/s").await;
        (app["app"]["instances"] == 0 && app["app"]["tasks"].as_array().is_some_and(Vec::is_empty))
            .then_some(())
    })
    .await;
    cluster.stop().await;
}

#[tokio::test]
async fn restart_replaces_every_task_and_rollback_restores_a_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("a1", "*", &[]).await;
    cluster
        .send(
            Method::POST,
            "/v2/apps",
            Some(json!({"id": "/r", "cmd": "sleep 1", "cpus": 0.1, "mem": 16, "instances": 2})),
        )
        .await;
    let before = ids(&wait_running(&cluster, "/r", 2).await);
    let (_, versions) = cluster.get("/v2/apps/r/versions").await;
    let first_version = versions["versions"][0]
        .as_str()
        .expect("version")
        .to_string();

    let (status, _) = cluster.send(Method::POST, "/v2/apps/r/restart", None).await;
    assert_eq!(status, 200);
    let after = ids(&wait_running(&cluster, "/r", 2).await);
    assert!(
        after.iter().all(|id| !before.contains(id)),
        "every task was replaced"
    );

    cluster
        .send(Method::PUT, "/v2/apps/r", Some(json!({"cmd": "sleep 2"})))
        .await;
    wait_running(&cluster, "/r", 2).await;
    let (status, _) = cluster
        .send(
            Method::PUT,
            "/v2/apps/r",
            Some(json!({"version": first_version})),
        )
        .await;
    assert_eq!(status, 200);
    wait_running(&cluster, "/r", 2).await;
    let (_, app) = cluster.get("/v2/apps/r").await;
    assert_eq!(app["app"]["cmd"], "sleep 1");
    let (_, old) = cluster
        .get(&format!("/v2/apps/r/versions/{first_version}"))
        .await;
    assert_eq!(old["cmd"], "sleep 1");

    let (status, _) = cluster.send(Method::DELETE, "/v2/apps/r", None).await;
    assert_eq!(status, 200);
    eventually(10, "tasks of the deleted app killed", || async {
        let (_, tasks) = cluster.get("/v2/tasks").await;
        tasks["tasks"]
            .as_array()
            .is_some_and(Vec::is_empty)
            .then_some(())
    })
    .await;
    let (status, _) = cluster.get("/v2/apps/r").await;
    assert_eq!(status, 404);
    cluster.stop().await;
}

#[tokio::test]
async fn tasks_of_a_lost_agent_are_replaced_elsewhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("doomed", "*", &[]).await;
    cluster
        .send(
            Method::POST,
            "/v2/apps",
            Some(json!({"id": "/ha", "cmd": "sleep 100", "cpus": 0.1, "mem": 16})),
        )
        .await;
    let tasks = wait_running(&cluster, "/ha", 1).await;
    assert_eq!(tasks[0]["slaveId"], "doomed");
    cluster.add_agent("spare", "*", &[]).await;
    cluster.agents.silence("doomed");

    let replaced = eventually(15, "replacement on the spare agent", || async {
        let tasks = tasks_of(&cluster, "/ha").await;
        (tasks.len() == 1 && tasks[0]["slaveId"] == "spare" && tasks[0]["state"] == "TASK_RUNNING")
            .then_some(tasks)
    })
    .await;
    assert_eq!(replaced.len(), 1);
    let (_, app) = cluster.get("/v2/apps/ha").await;
    assert_eq!(app["app"]["lastTaskFailure"]["state"], "TASK_LOST");
    let state: Value = cluster
        .http
        .get(format!("{}/master/state", cluster.mesos))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    let doomed = state["slaves"]
        .as_array()
        .expect("slaves")
        .iter()
        .find(|s| s["id"] == "doomed")
        .expect("doomed listed")
        .clone();
    assert_eq!(doomed["active"], false);
    assert_eq!(state["frameworks"][0]["tasks"][0]["slave_id"], "spare");
    cluster.stop().await;
}

#[tokio::test]
async fn failing_launches_back_off_and_show_in_queue_and_last_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("nodocker", "*", &[]).await;
    cluster
        .agents
        .fail_launches("nodocker", "docker is not available on this agent");
    let (status, _) = cluster
        .send(
            Method::POST,
            "/v2/apps",
            Some(json!({"id": "/img", "container": {"type": "DOCKER", "docker": {"image": "nginx", "network": "BRIDGE",
                "portMappings": [{"containerPort": 80, "hostPort": 0}]}}, "cpus": 0.1, "mem": 16,
                "backoffSeconds": 30, "backoffFactor": 2})),
        )
        .await;
    assert_eq!(status, 201, "docker apps are accepted");
    let (_, app) = cluster.get("/v2/apps/img").await;
    assert_eq!(
        app["app"]["networks"],
        json!([{"mode": "container/bridge"}])
    );
    assert!(
        app["app"]["container"]["docker"].get("network").is_none(),
        "answered in the current shape"
    );
    assert_eq!(
        app["app"]["container"]["portMappings"][0]["containerPort"],
        80
    );

    let queue = eventually(10, "the app delayed in the queue", || async {
        let (_, queue) = cluster.get("/v2/queue").await;
        let item = queue["queue"].as_array()?.first()?.clone();
        (item["delay"]["overdue"] == false).then_some(item)
    })
    .await;
    assert!(queue["delay"]["timeLeftSeconds"].as_u64().expect("seconds") > 20);
    let (_, app) = cluster.get("/v2/apps/img").await;
    assert_eq!(
        app["app"]["lastTaskFailure"]["message"],
        "docker is not available on this agent"
    );
    assert_eq!(app["app"]["lastTaskFailure"]["state"], "TASK_FAILED");
    let launches = cluster.agents.launches().len();
    assert_eq!(launches, 1, "no relaunch before the delay");
    assert_eq!(
        cluster.agents.launches()[0].1.docker_image.as_deref(),
        Some("nginx")
    );

    let (status, _) = cluster
        .send(Method::DELETE, "/v2/queue/img/delay", None)
        .await;
    assert_eq!(status, 204);
    eventually(10, "a relaunch after the reset", || async {
        (cluster.agents.launches().len() > launches).then_some(())
    })
    .await;
    cluster.stop().await;
}

#[tokio::test]
async fn public_agents_only_take_apps_that_accept_slave_public() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("private", "*", &[("rack", "r1")]).await;
    cluster
        .add_agent("public", "slave_public", &[("rack", "r2")])
        .await;
    cluster
        .send(
            Method::POST,
            "/v2/apps",
            Some(json!({"id": "/inner", "cmd": "sleep 1", "cpus": 0.1, "mem": 16, "instances": 2})),
        )
        .await;
    cluster
        .send(Method::POST, "/v2/apps", Some(json!({"id": "/edge", "cmd": "sleep 1", "cpus": 0.1, "mem": 16, "acceptedResourceRoles": ["slave_public"]})))
        .await;
    cluster
        .send(Method::POST, "/v2/apps", Some(json!({"id": "/pinned", "cmd": "sleep 1", "cpus": 0.1, "mem": 16, "constraints": [["rack", "IS", "r1"]]})))
        .await;
    let inner = wait_running(&cluster, "/inner", 2).await;
    assert!(inner.iter().all(|t| t["slaveId"] == "private"));
    let edge = wait_running(&cluster, "/edge", 1).await;
    assert_eq!(edge[0]["slaveId"], "public");
    let pinned = wait_running(&cluster, "/pinned", 1).await;
    assert_eq!(pinned[0]["slaveId"], "private");
    cluster.stop().await;
}

#[tokio::test]
async fn event_stream_reports_posts_status_updates_and_deployments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start_with(test_config(dir.path())).await;
    cluster.add_agent("a1", "*", &[]).await;
    let response = cluster
        .http
        .get(format!("{}/v2/events", cluster.marathon))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .expect("events");
    assert_eq!(response.status().as_u16(), 200);
    let mut stream = response.bytes_stream();
    let mut seen = String::new();
    let mut created = false;
    let wanted = [
        "event: api_post_event",
        "event: deployment_info",
        "event: status_update_event",
        "event: deployment_success",
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !wanted.iter().all(|e| seen.contains(e)) {
        assert!(
            std::time::Instant::now() < deadline,
            "missing events; saw: {seen}"
        );
        if seen.contains("event_stream_attached") && !created {
            created = true;
            cluster
                .send(
                    Method::POST,
                    "/v2/apps",
                    Some(json!({"id": "/ev", "cmd": "sleep 1", "cpus": 0.1, "mem": 16})),
                )
                .await;
        }
        if let Ok(Some(Ok(chunk))) =
            tokio::time::timeout(std::time::Duration::from_millis(200), stream.next()).await
        {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert!(seen.contains("\"eventType\":\"status_update_event\""));
    // An open event stream must not keep the master from stopping, and it ends with it.
    tokio::time::timeout(std::time::Duration::from_secs(10), cluster.stop())
        .await
        .expect("master stops with a stream open");
    let rest = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    assert!(
        rest.is_ok(),
        "the event stream ended when the master stopped"
    );
}

#[tokio::test]
async fn a_task_failing_its_health_checks_is_killed_and_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("a1", "*", &[]).await;
    let app = json!({"id": "/sick", "cmd": "sleep 100", "cpus": 0.1, "mem": 16, "backoffSeconds": 0,
        "healthChecks": [{"protocol": "MESOS_HTTP", "path": "/health", "gracePeriodSeconds": 0, "intervalSeconds": 1, "maxConsecutiveFailures": 2}]});
    cluster.send(Method::POST, "/v2/apps", Some(app)).await;
    let first = eventually(10, "the task running", || async {
        let tasks = tasks_of(&cluster, "/sick").await;
        tasks
            .first()
            .filter(|t| t["state"] == "TASK_RUNNING")
            .and_then(|t| t["id"].as_str().map(str::to_string))
    })
    .await;
    let launch = cluster.agents.launches()[0].1.clone();
    assert_eq!(
        launch.health_checks[0].port,
        Some(launch.ports[0]),
        "portIndex 0 resolved to the host port"
    );
    assert_eq!(launch.health_checks[0].path.as_deref(), Some("/health"));

    cluster
        .agents
        .report_unhealthy("a1", &first, 1)
        .await
        .expect("report");
    eventually(10, "the failed check shown on the task", || async {
        let (_, app) = cluster.get("/v2/apps/sick").await;
        let shown = &app["app"];
        (shown["tasks"][0]["healthCheckResults"][0]["alive"] == false
            && shown["tasksUnhealthy"] == 1)
            .then_some(())
    })
    .await;
    cluster
        .agents
        .report_unhealthy("a1", &first, 2)
        .await
        .expect("report");
    eventually(10, "a replacement task", || async {
        let tasks = tasks_of(&cluster, "/sick").await;
        tasks
            .iter()
            .any(|t| t["id"] != first.as_str() && t["state"] == "TASK_RUNNING")
            .then_some(())
    })
    .await;
    assert!(
        cluster.agents.kills().contains(&first),
        "the unhealthy task was killed"
    );
    cluster.stop().await;
}

#[tokio::test]
async fn dependencies_start_first_and_the_deployment_has_ordered_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    let apps = json!([
        {"id": "/shop/web", "cmd": "sleep 1", "cpus": 0.1, "mem": 16, "dependencies": ["/shop/db"]},
        {"id": "/shop/db", "cmd": "sleep 1", "cpus": 0.1, "mem": 16},
    ]);
    let (status, body) = cluster.send(Method::PUT, "/v2/apps", Some(apps)).await;
    assert_eq!(status, 200);
    assert!(body["deploymentId"].is_string());
    let (_, deployments) = cluster.get("/v2/deployments").await;
    let steps = &deployments[0]["steps"];
    assert_eq!(steps[0]["actions"][0]["app"], "/shop/db");
    assert_eq!(steps[1]["actions"][0]["app"], "/shop/web");
    cluster.add_agent("a1", "*", &[]).await;
    wait_running(&cluster, "/shop/web", 1).await;
    let order: Vec<String> = cluster
        .agents
        .launches()
        .iter()
        .map(|(_, l)| l.app_id.clone())
        .collect();
    assert_eq!(order, vec!["/shop/db".to_string(), "/shop/web".to_string()]);

    let (_, group) = cluster.get("/v2/groups").await;
    assert_eq!(group["groups"][0]["id"], "/shop");
    assert_eq!(group["groups"][0]["apps"].as_array().map(Vec::len), Some(2));
    cluster.stop().await;
}

#[tokio::test]
async fn killed_tasks_are_replaced_unless_scaled_and_host_filters_the_kill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("a1", "*", &[]).await;
    cluster.add_agent("a2", "*", &[]).await;
    let app = json!({"id": "/k", "cmd": "sleep 1", "cpus": 0.1, "mem": 16, "instances": 2, "constraints": [["hostname", "UNIQUE"]]});
    cluster.send(Method::POST, "/v2/apps", Some(app)).await;
    let before = ids(&wait_running(&cluster, "/k", 2).await);

    let (status, body) = cluster
        .send(
            Method::POST,
            "/v2/tasks/delete?scale=False",
            Some(json!({"ids": [before[0]]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["tasks"][0]["id"], before[0].as_str());
    let after = ids(&wait_running(&cluster, "/k", 2).await);
    assert!(
        !after.contains(&before[0]) && after.contains(&before[1]),
        "the killed task was replaced"
    );

    let (status, body) = cluster
        .send(
            Method::DELETE,
            "/v2/apps/k/tasks?host=a2.example&scale=true",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(body["deploymentId"].is_string());
    let left = wait_running(&cluster, "/k", 1).await;
    assert_eq!(left[0]["host"], "a1.example");
    let (_, app) = cluster.get("/v2/apps/k").await;
    assert_eq!(app["app"]["instances"], 1);
    let (status, body) = cluster
        .send(
            Method::POST,
            "/v2/tasks/delete",
            Some(json!({"ids": ["nodot"]})),
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Invalid task id 'nodot'."))
    );
    cluster.stop().await;
}

#[tokio::test]
async fn an_image_app_no_agent_can_run_waits_in_the_queue_saying_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent_with_engine("plain", "*", &[], None).await;
    let (status, body) = cluster
        .send(
            Method::POST,
            "/v2/apps",
            Some(
                json!({"id": "/boxed", "cmd": "sleep 600", "cpus": 0.1, "mem": 16,
                "container": {"type": "DOCKER", "docker": {"image": "web:1"}}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let item = eventually(10, "/boxed waiting in the queue", || async {
        let (_, queue) = cluster.get("/v2/queue").await;
        queue["queue"]
            .as_array()?
            .iter()
            .find(|i| i["app"]["id"] == "/boxed")
            .cloned()
    })
    .await;
    let reason = item["processedOffersSummary"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("1 NoContainerEngine"), "{item}");
    let rejects = item["processedOffersSummary"]["rejectSummaryLastOffers"]
        .as_array()
        .expect("rejects");
    let engine = rejects
        .iter()
        .find(|r| r["reason"] == "NoContainerEngine")
        .expect("the reason is listed");
    assert_eq!(engine["declined"], 1);
    assert!(
        cluster.agents.launches().is_empty(),
        "nothing was launched: {:?}",
        cluster.agents.launches()
    );

    // An agent with an engine arrives: the app runs there.
    cluster.add_agent("boxes", "*", &[]).await;
    eventually(
        10,
        "/boxed launched on the agent with an engine",
        || async {
            let launches = cluster.agents.launches();
            launches
                .iter()
                .any(|(agent, task)| agent == "boxes" && task.container.is_some())
                .then_some(())
        },
    )
    .await;
    cluster.stop().await;
}

#[tokio::test]
async fn unreachable_strategy_decides_when_a_lost_agents_tasks_are_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    cluster.add_agent("flaky", "*", &[]).await;
    let app = |id: &str, strategy: Value| json!({"id": id, "cmd": "sleep 100", "cpus": 0.1, "mem": 16, "unreachableStrategy": strategy});
    let patient = app(
        "/patient",
        json!({"inactiveAfterSeconds": 3, "expungeAfterSeconds": 600}),
    );
    let waiting = app("/waiting", json!("disabled"));
    for body in [patient, waiting] {
        let (status, body) = cluster.send(Method::POST, "/v2/apps", Some(body)).await;
        assert_eq!(status, 201, "{body}");
    }
    let first = wait_running(&cluster, "/patient", 1).await[0]["id"].clone();
    wait_running(&cluster, "/waiting", 1).await;
    cluster.add_agent("spare", "*", &[]).await;
    cluster.agents.silence("flaky");

    // The agent times out: its tasks are unreachable, still counted (no replacement yet).
    let seen = eventually(15, "/patient's task unreachable", || async {
        let tasks = tasks_of(&cluster, "/patient").await;
        (tasks.len() == 1 && tasks[0]["state"] == "TASK_UNREACHABLE").then_some(tasks)
    })
    .await;
    assert_eq!(seen[0]["id"], first);

    // After inactiveAfterSeconds, a replacement runs on the spare agent beside the unreachable
    // task, which is kept (expungeAfterSeconds is far off).
    eventually(15, "a replacement of /patient on spare", || async {
        let tasks = tasks_of(&cluster, "/patient").await;
        let replaced = tasks
            .iter()
            .any(|t| t["slaveId"] == "spare" && t["state"] == "TASK_RUNNING");
        let kept = tasks
            .iter()
            .any(|t| t["id"] == first && t["state"] == "TASK_UNREACHABLE");
        (replaced && kept).then_some(())
    })
    .await;
    // "disabled": /waiting's task waits for its agent, with no replacement.
    let waiting = tasks_of(&cluster, "/waiting").await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0]["state"], "TASK_UNREACHABLE");

    // The agent comes back: its tasks run again, and /patient is back to one instance.
    cluster.agents.unsilence("flaky");
    wait_running(&cluster, "/waiting", 1).await;
    wait_running(&cluster, "/patient", 1).await;
    cluster.stop().await;
}

#[tokio::test]
async fn a_bad_unreachable_strategy_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path()).await;
    let app = json!({"id": "/bad", "cmd": "sleep 1", "unreachableStrategy":
        {"inactiveAfterSeconds": 600, "expungeAfterSeconds": 60}});
    let (status, body) = cluster.send(Method::POST, "/v2/apps", Some(app)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["details"][0]["path"],
        "/unreachableStrategy/inactiveAfterSeconds"
    );
    cluster.stop().await;
}
