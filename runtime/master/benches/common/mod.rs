//! What the master benches share: a simulated agent's answer to a launch (TASK_RUNNING at once,
//! reported to the master as a real agent reports it), `/proc` figures, ports and polling.

use std::time::{Duration, Instant};

use strato_proto::{LaunchTask, StatusUpdate, TaskState, TaskStatus};

pub fn now() -> u64 {
    strato_runtime_types::time::now_millis()
}

/// The TASK_RUNNING status of a launched task, and its report to the master at `master`,
/// sent in the background after the launch is answered, as a real agent does.
pub fn running(
    task: LaunchTask,
    agent_id: &str,
    http: &reqwest::Client,
    master: &str,
) -> TaskStatus {
    let status = TaskStatus {
        task_id: task.task_id,
        app_id: task.app_id,
        state: TaskState::Running,
        message: None,
        timestamp: now(),
        staged_at: now(),
        started_at: Some(now()),
        ports: task.ports,
        health: Vec::new(),
    };
    let update = StatusUpdate {
        agent_id: agent_id.to_string(),
        status: status.clone(),
    };
    let (http, url) = (
        http.clone(),
        format!("{master}{}", strato_proto::PATH_STATUS),
    );
    tokio::spawn(async move {
        let _ = http.post(url).json(&update).send().await;
    });
    status
}

/// POSTs `/bench/app-0` … `/bench/app-<apps - 1>` (`sleep 1000`, `instances` each) to the
/// Marathon API at `marathon`.
pub async fn post_apps(
    http: &reqwest::Client,
    marathon: &str,
    apps: usize,
    instances: usize,
    cpus: f64,
    mem: f64,
) {
    for a in 0..apps {
        let app = serde_json::json!({"id": format!("/bench/app-{a}"), "cmd": "sleep 1000",
                                     "instances": instances, "cpus": cpus, "mem": mem});
        let response = http
            .post(format!("{marathon}/v2/apps"))
            .json(&app)
            .send()
            .await
            .expect("post app");
        assert_eq!(response.status().as_u16(), 201);
    }
}

/// A line's number from `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`: KiB).
pub fn proc_field(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Polls `check` every `every` until it holds; panics naming `what` after `seconds`.
pub async fn wait_for<F, Fut>(what: &str, seconds: u64, every: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(every).await;
    }
}
