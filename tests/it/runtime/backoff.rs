//! A task that keeps failing is relaunched with a growing delay, visible in /v2/queue, and its
//! last failure is reported on the app.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::cluster::{wait_until, LocalCluster};

#[test]
fn a_failing_app_backs_off_and_reports_its_last_failure() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    let app = json!({"id": "/crash/loop", "cmd": "echo failing on purpose >&2; exit 1",
                     "cpus": 0.05, "mem": 16, "instances": 1,
                     "backoffSeconds": 5, "backoffFactor": 2, "maxLaunchDelaySeconds": 300});
    let (status, body) = cluster.post("/v2/apps", &app);
    assert_eq!(status, 201, "create failed: {body}");

    let failure = wait_until(
        Duration::from_secs(60),
        "lastTaskFailure on /crash/loop",
        || {
            let app = cluster.app("/crash/loop")?;
            let failure = app.get("lastTaskFailure").filter(|f| !f.is_null())?.clone();
            Some(failure)
        },
    );
    assert_eq!(failure["appId"], "/crash/loop");
    assert_eq!(failure["state"], "TASK_FAILED", "{failure}");
    assert!(
        failure["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{failure}"
    );

    let item = wait_until(
        Duration::from_secs(60),
        "/crash/loop in /v2/queue with a delay",
        || {
            let (status, queue) = cluster.get("/v2/queue");
            assert_eq!(status, 200, "{queue}");
            queue["queue"]
                .as_array()?
                .iter()
                .find(|q| q["app"]["id"] == "/crash/loop")
                .and_then(|q| {
                    let left = q["delay"]["timeLeftSeconds"].as_f64()?;
                    (left > 0.0 && q["delay"]["overdue"] == Value::Bool(false)).then(|| q.clone())
                })
        },
    );
    assert!(item["count"].as_u64().is_some_and(|c| c >= 1), "{item}");

    let (status, body) = cluster.delete("/v2/queue/crash/loop/delay");
    assert!(
        status == 204 || status == 200,
        "reset delay answered {status}: {body}"
    );
}
