//! The dashboard in headless Chromium: once against a fake master (what each table shows, exactly,
//! jobs included) and once against `strato up --local` with a running app.

use std::net::SocketAddr;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::chromium::{dump_dom, screenshot, table};
use crate::common::cluster::LocalCluster;

/// Serves the dashboard plus canned master answers on a loopback port, from a background thread.
fn fake_master() -> SocketAddr {
    let state = json!({
        "cluster": "strato-test",
        "slaves": [{
            "id": "agent-1", "hostname": "node-a.test", "active": true,
            "resources": {"cpus": 4, "mem": 7900, "disk": 50000, "ports": "[31000-32000]"},
            "used_resources": {"cpus": 0.5, "mem": 64, "disk": 0},
            "role": "*", "strato_version": "9.8.7", "last_heartbeat": 1.0e9
        }]
    });
    let apps = json!({"apps": [{
        "id": "/shop/web", "instances": 2, "tasksRunning": 2, "tasksStaged": 0,
        "tasksHealthy": 2, "tasksUnhealthy": 0, "cpus": 0.25, "mem": 32,
        "cmd": "python3 -m http.server $PORT0", "version": "2026-01-02T03:04:05.678Z",
        "healthChecks": [{"protocol": "HTTP", "path": "/"}],
        "lastTaskFailure": {"appId": "/shop/web", "taskId": "shop_web.instance-z._app.1",
            "state": "TASK_FAILED", "message": "Command exited with status 3",
            "host": "node-a.test", "timestamp": "2026-01-02T03:04:00.000Z"},
        "tasks": [
            {"id": "shop_web.instance-a._app.1", "appId": "/shop/web", "host": "node-a.test", "slaveId": "agent-1",
             "ports": [31005], "state": "TASK_RUNNING", "healthCheckResults": [{"alive": true}]},
            {"id": "shop_web.instance-b._app.1", "appId": "/shop/web", "host": "node-a.test", "slaveId": "agent-1",
             "ports": [31006], "state": "TASK_STAGING"}
        ]
    }]});
    let deployments = json!([{
        "id": "dep-1", "affectedApps": ["/shop/web"], "currentStep": 1, "totalSteps": 2,
        "currentActions": [{"action": "ScaleApplication", "app": "/shop/web"}],
        "steps": [{"actions": [{"action": "ScaleApplication", "app": "/shop/web"}]},
                  {"actions": [{"action": "RestartApplication", "app": "/shop/web"}]}],
        "version": "2026-01-02T03:04:05.678Z"
    }]);
    let jobs = json!([{
        "id": "nightly.report", "labels": {}, "run": {"cmd": "report --all", "cpus": 0.5, "mem": 64, "disk": 0},
        "schedules": [{"id": "nightly", "cron": "0 2 * * *", "timezone": "Europe/Berlin", "enabled": true,
            "concurrencyPolicy": "FORBID", "startingDeadlineSeconds": 900,
            "nextRunAt": "2026-01-03T01:00:00.000+0000"}],
        "activeRuns": [{"id": "20260102030405aB3xZ", "jobId": "nightly.report", "status": "ACTIVE",
            "createdAt": "2026-01-02T03:04:05.000+0000", "completedAt": null,
            "tasks": [{"id": "nightly.report_20260102030405aB3xZ.1", "status": "TASK_RUNNING"}]}],
        "history": {"successCount": 3, "failureCount": 1,
            "lastSuccessAt": "2026-01-01T02:05:00.000+0000", "lastFailureAt": "2025-12-31T02:09:00.000+0000",
            "successfulFinishedRuns": [{"id": "20260101020000Qw3rT", "createdAt": "2026-01-01T02:00:00.000+0000",
                "finishedAt": "2026-01-01T02:05:00.000+0000", "tasks": ["nightly.report_20260101020000Qw3rT.1"]}],
            "failedFinishedRuns": [{"id": "20251231020000Zx9yU", "createdAt": "2025-12-31T02:00:00.000+0000",
                "finishedAt": "2025-12-31T02:09:00.000+0000", "tasks": ["nightly.report_20251231020000Zx9yU.1"]}]}
    }]);
    // Two samples of the history the charts draw (/strato/v1/metrics/history).
    let point = |cpus_used: f64| {
        json!({"time": "2026-01-02T03:04:05Z", "cpusUsed": cpus_used, "cpusTotal": 4.0,
            "memUsed": 64.0, "memTotal": 7900.0, "diskUsed": 0.0, "diskTotal": 50000.0,
            "tasksRunning": 2, "tasksStaging": 0, "agentsActive": 1,
            "agents": {"agent-1": {"hostname": "node-a.test", "cpusUsed": cpus_used, "cpusTotal": 4.0,
                "memUsed": 64.0, "memTotal": 7900.0, "diskUsed": 0.0, "diskTotal": 50000.0, "tasks": 2}}})
    };
    let history = json!({"intervalSeconds": 10, "points": [point(0.25), point(0.5)]});
    let router = strato_dashboard::router()
        .merge(Router::new().route(
            "/strato/v1/metrics/history",
            get(move || reply(history.clone())),
        ))
        .merge(Router::new().route("/master/state", get(move || reply(state.clone()))))
        .merge(Router::new().route("/v2/apps", get(move || reply(apps.clone()))))
        .merge(Router::new().route("/v2/deployments", get(move || reply(deployments.clone()))))
        .merge(Router::new().route("/v1/jobs", get(move || reply(jobs.clone()))));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = axum::serve(listener, router).await;
        });
    });
    addr
}

async fn reply(value: Value) -> Json<Value> {
    Json(value)
}

#[test]
fn dashboard_shows_agents_apps_tasks_and_deployments_from_the_master() {
    let addr = fake_master();
    let scratch = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{addr}/");
    let dom = dump_dom(&url, scratch.path());

    assert!(
        !dom.contains("cannot reach the master"),
        "the page could not poll:\n{dom}"
    );
    let agents = table(&dom, "agents");
    assert!(
        agents.contains("node-a.test"),
        "agent host missing:\n{agents}"
    );
    assert!(
        agents.contains("0.5 / 4"),
        "cpus used/total missing:\n{agents}"
    );
    assert!(
        agents.contains("64 / 7900"),
        "mem used/total missing:\n{agents}"
    );
    assert!(
        agents.contains("[31000-32000]"),
        "port range missing:\n{agents}"
    );

    let apps = table(&dom, "apps");
    assert!(apps.contains("/shop/web"), "app id missing:\n{apps}");
    assert!(
        apps.contains("2 / 2"),
        "instances running/desired missing:\n{apps}"
    );
    assert!(
        apps.contains("2 healthy, 0 unhealthy"),
        "health missing:\n{apps}"
    );

    let tasks = table(&dom, "tasks");
    assert!(
        tasks.contains("31005") && tasks.contains("31006"),
        "task ports missing:\n{tasks}"
    );
    assert!(
        tasks.contains("RUNNING") && tasks.contains("STAGING"),
        "task states missing:\n{tasks}"
    );
    assert!(tasks.contains("node-a.test"), "task host missing:\n{tasks}");

    let deployments = table(&dom, "deployments");
    assert!(
        deployments.contains("ScaleApplication /shop/web"),
        "deployment missing:\n{deployments}"
    );
    assert!(
        deployments.contains("1 / 2"),
        "deployment step missing:\n{deployments}"
    );

    let jobs = table(&dom, "jobs");
    for shown in [
        "nightly.report",
        "report --all",
        "0 2 * * *",
        "Europe/Berlin",
        "never overlapping",
        "20260102030405aB3xZ",
        "ACTIVE",
        "SUCCESS",
        "2026-01-01T02:05:00.000+0000",
        "3 / 1",
    ] {
        assert!(
            jobs.contains(shown),
            "{shown:?} missing from the jobs:\n{jobs}"
        );
    }
    assert!(
        apps.contains("Command exited with status 3"),
        "the last task failure missing:\n{apps}"
    );
    assert!(
        deployments.contains("▶ ScaleApplication /shop/web")
            && deployments.contains("RestartApplication /shop/web"),
        "the deployment's steps missing:\n{deployments}"
    );
    assert!(
        dom.contains("CPUs allocated") && dom.contains("0.5 / 4 CPUs"),
        "the CPU chart (latest sample) missing:\n{dom}"
    );

    // The node page: facts, its charts and its tasks.
    let node = dump_dom(&format!("{url}#/node/agent-1"), scratch.path());
    assert!(
        node.contains("9.8.7") && node.contains("Last heartbeat"),
        "node facts missing:\n{node}"
    );
    let node_tasks = table(&node, "node-tasks");
    assert!(
        node_tasks.contains("shop_web.instance-a._app.1") && node_tasks.contains("31006"),
        "the node's tasks missing:\n{node_tasks}"
    );

    screenshot(&url, scratch.path());
}

#[test]
fn dashboard_on_a_local_cluster_shows_the_agent_the_app_and_its_task() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    let app =
        json!({"id": "/dash/sleeper", "cmd": "sleep 600", "cpus": 0.1, "mem": 16, "instances": 1});
    let (status, body) = cluster.post("/v2/apps", &app);
    assert_eq!(status, 201, "create failed: {body}");
    let running = cluster.wait_running("/dash/sleeper", 1, std::time::Duration::from_secs(60));
    let host = running["tasks"][0]["host"]
        .as_str()
        .expect("task host")
        .to_string();

    let url = cluster.mesos_url("/");
    let dom = dump_dom(&url, scratch.path());
    screenshot(&url, scratch.path());

    assert!(
        !dom.contains("cannot reach the master"),
        "the page could not poll:\n{dom}"
    );
    let agents = table(&dom, "agents");
    assert!(
        !agents.contains("no agents registered"),
        "no agent shown:\n{agents}"
    );
    assert!(agents.contains(&host), "agent {host} missing:\n{agents}");
    let apps = table(&dom, "apps");
    assert!(apps.contains("/dash/sleeper"), "app missing:\n{apps}");
    assert!(apps.contains("1 / 1"), "instance count missing:\n{apps}");
    let tasks = table(&dom, "tasks");
    assert!(tasks.contains(&host), "task host missing:\n{tasks}");
    assert!(tasks.contains("RUNNING"), "task state missing:\n{tasks}");
}

/// The dashboard acts, driven in Chromium (tests/it/common/browser.rs): deploy from the editor,
/// scale, a task's output, destroy; a refused definition shows the API's message.
#[test]
fn dashboard_deploys_scales_shows_output_and_destroys_an_app() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    crate::common::browser::dashboard_acts(
        &cluster.mesos_url("/"),
        "/dash/hello",
        None,
        &scratch.path().join("dashboard-acting.png"),
    );
    assert_eq!(cluster.get("/v2/apps/dash/hello").0, 404);
}
