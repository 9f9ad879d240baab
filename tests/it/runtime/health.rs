//! A task failing its HTTP health check is killed and replaced.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use crate::common::cluster::{wait_until, LocalCluster};

fn task_ids(app: &serde_json::Value) -> BTreeSet<String> {
    app["tasks"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_unhealthy_task_is_killed_and_replaced() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    // The server answers 404 on /missing, so every check fails once the grace period is over.
    let app = json!({"id": "/sick/web", "cmd": "python3 -m http.server --bind 127.0.0.1 $PORT0",
                     "cpus": 0.1, "mem": 64, "instances": 1,
                     "portDefinitions": [{"port": 0}],
                     "healthChecks": [{"protocol": "HTTP", "path": "/missing", "portIndex": 0,
                                       "gracePeriodSeconds": 1, "intervalSeconds": 1,
                                       "timeoutSeconds": 1, "maxConsecutiveFailures": 2}]});
    let (status, body) = cluster.post("/v2/apps", &app);
    assert_eq!(status, 201, "create failed: {body}");

    let first = wait_until(Duration::from_secs(60), "a first task of /sick/web", || {
        let ids = task_ids(&cluster.app("/sick/web")?);
        ids.into_iter().next()
    });
    wait_until(
        Duration::from_secs(60),
        "the unhealthy task to be replaced",
        || {
            let app = cluster.app("/sick/web")?;
            let ids = task_ids(&app);
            (!ids.contains(&first) && !ids.is_empty()).then_some(())
        },
    );
}
