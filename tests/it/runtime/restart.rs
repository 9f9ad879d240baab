//! Stopping `strato up --local` stops its tasks; starting it again on the same data dir brings
//! the apps back.

use std::time::Duration;

use serde_json::json;

use crate::common::cluster::{wait_until, LocalCluster};

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(marker))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn a_restarted_local_cluster_keeps_its_apps_and_stops_its_tasks_on_sigterm() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    // A marker in the shell's command line tells this test's task processes from anyone else's.
    let marker = format!("strato-restart-{}", std::process::id());
    let app = json!({"id": "/keep/sleeper", "cmd": format!("sleep 600; : {marker}"),
                     "cpus": 0.1, "mem": 16, "instances": 2});
    let (status, body) = cluster.post("/v2/apps", &app);
    assert_eq!(status, 201, "create failed: {body}");
    let before = cluster.wait_running("/keep/sleeper", 2, Duration::from_secs(60));
    let version = before["version"].clone();
    assert!(
        !processes_with(&marker).is_empty(),
        "the tasks' processes are not visible"
    );

    let cluster = cluster.restart();
    // The old run stopped its tasks before exiting (stop_tasks_on_shutdown).
    let after = cluster.wait_running("/keep/sleeper", 2, Duration::from_secs(90));
    assert_eq!(
        after["version"], version,
        "the app's version changed across the restart"
    );
    assert_eq!(after["cmd"], app["cmd"]);

    let mut cluster = cluster;
    let status = cluster.stop();
    assert!(
        status.success(),
        "strato up --local exited with {status} on SIGTERM\n{}",
        cluster.log_text()
    );
    wait_until(
        Duration::from_secs(10),
        "task processes to be gone after SIGTERM",
        || processes_with(&marker).is_empty().then_some(()),
    );
}
