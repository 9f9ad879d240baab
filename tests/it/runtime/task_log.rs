//! `strato task log` against `strato up --local`: a failed task's stderr, following a running
//! task's output, and the master refusing paths that leave a sandbox.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::bin_path;
use crate::common::cluster::{wait_until, LocalCluster};

fn master_url(cluster: &LocalCluster) -> String {
    format!("http://127.0.0.1:{}", cluster.ports.mesos)
}

/// `strato task log --follow APP` running, and a channel of what it prints as it prints it
/// (its stderr goes to `err`).
fn follow(
    cluster: &LocalCluster,
    app: &str,
    err: &std::path::Path,
) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut child = Command::new(bin_path("strato"))
        .args(["task", "log", "--follow", app, "--master-url"])
        .arg(master_url(cluster))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(err).expect("cli.err"))
        .spawn()
        .expect("spawn strato task log --follow");
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                return;
            }
        }
    });
    (child, rx)
}

/// The app's tasks as the master lists them.
fn tasks(cluster: &LocalCluster, app: &str) -> Vec<Value> {
    let (status, body) = cluster.get(&format!("/strato/v1/tasks?app={app}"));
    assert_eq!(status, 200, "{body}");
    body["tasks"].as_array().cloned().unwrap_or_default()
}

#[test]
fn task_log_shows_a_failed_tasks_stderr() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    // One failure, and no relaunch during the test: the failed task stays the app's newest.
    let app = json!({"id": "/fails", "cmd": "echo 'boom: no config found' >&2; exit 1",
                     "cpus": 0.1, "mem": 16, "backoffSeconds": 3600});
    let (status, body) = cluster.post("/v2/apps", &app);
    assert_eq!(status, 201, "{body}");
    let failed = wait_until(Duration::from_secs(60), "the task to fail", || {
        tasks(&cluster, "/fails")
            .into_iter()
            .find(|t| t["state"] == "TASK_FAILED")
    });
    assert_eq!(failed["active"], false);
    assert!(
        failed["sandbox"]
            .as_str()
            .is_some_and(|s| s.ends_with(&format!(
                "/sandboxes/{}",
                failed["id"].as_str().unwrap_or("?")
            ))),
        "{failed}"
    );

    let out = Command::new(bin_path("strato"))
        .args(["task", "log", "--stderr", "/fails", "--master-url"])
        .arg(master_url(&cluster))
        .output()
        .expect("run strato task log");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "strato task log failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "boom: no config found\n");

    let list = Command::new(bin_path("strato"))
        .args(["task", "list", "/fails", "--master-url"])
        .arg(master_url(&cluster))
        .output()
        .expect("run strato task list");
    let table = String::from_utf8_lossy(&list.stdout);
    assert!(
        table.contains("TASK_FAILED") && table.contains("exited with status 1"),
        "{table}"
    );
}

/// The numbers of the `tick N` lines in `text`.
fn ticks(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("tick ")?.trim().parse().ok())
        .collect()
}

#[test]
fn task_log_follow_prints_what_the_task_writes_next() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    let app = json!({"id": "/ticker",
                     "cmd": "i=0; while true; do echo \"tick $i\"; i=$((i+1)); sleep 0.2; done",
                     "cpus": 0.1, "mem": 16});
    let (status, body) = cluster.post("/v2/apps", &app);
    assert_eq!(status, 201, "{body}");
    let running = cluster.wait_running("/ticker", 1, Duration::from_secs(60));
    let task = running["tasks"][0]["id"]
        .as_str()
        .expect("task id")
        .to_string();

    // The master reads the sandbox through the agent, and refuses paths leaving it.
    let read = format!("/strato/v1/tasks/{task}/files/read?path=stdout&offset=0");
    let first = wait_until(Duration::from_secs(10), "the first tick", || {
        let (status, body) = cluster.get(&read);
        (status == 200 && body["data"].as_str()?.starts_with("tick 0\n")).then_some(body)
    });
    assert_eq!(first["offset"], 0);
    for path in ["../../x", "../stdout", "/etc/passwd"] {
        let (status, body) =
            cluster.get(&format!("/strato/v1/tasks/{task}/files/read?path={path}"));
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body["message"].is_string(), "{body}");
    }

    let (mut child, rx) = follow(&cluster, "/ticker", &scratch.path().join("cli.err"));
    // The first write is the last lines (one write, under a pipe's atomic size); a tick beyond
    // them was printed by following.
    let tail = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the last lines within 30 s");
    let tail_ticks = ticks(&tail);
    let last_of_tail = *tail_ticks.last().expect("ticks in the last lines");
    let mut seen = tail.clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    let followed = loop {
        if let Some(n) = ticks(&seen).into_iter().find(|n| *n > last_of_tail + 2) {
            break Some(n);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(more) => seen.push_str(&more),
            Err(_) => break None,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        followed.is_some(),
        "no line written after the start was printed; got:\n{seen}\nstderr:\n{}",
        std::fs::read_to_string(scratch.path().join("cli.err")).unwrap_or_default()
    );
    // Lines come once each, in order.
    let all = ticks(&seen);
    assert!(all.windows(2).all(|w| w[1] == w[0] + 1), "{seen}");
}

#[test]
fn task_log_follow_goes_on_with_the_task_that_replaces_an_ended_one() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    let app = json!({"id": "/flaky", "cmd": "echo \"started $MESOS_TASK_ID\"; sleep 1; exit 1",
                     "cpus": 0.1, "mem": 16, "backoffSeconds": 1, "maxLaunchDelaySeconds": 2});
    let (status, body) = cluster.post("/v2/apps", &app);
    assert_eq!(status, 201, "{body}");
    wait_until(Duration::from_secs(60), "a /flaky task", || {
        tasks(&cluster, "/flaky").first().cloned()
    });

    let (mut child, rx) = follow(&cluster, "/flaky", &scratch.path().join("cli.err"));
    let started = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix("started ").map(str::to_string))
            .collect()
    };
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    while started(&seen).len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(more) => seen.push_str(&more),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let ids = started(&seen);
    assert!(
        ids.len() >= 2 && ids[0] != ids[1],
        "the output of two tasks, one after the other; got:\n{seen}\nstderr:\n{}",
        std::fs::read_to_string(scratch.path().join("cli.err")).unwrap_or_default()
    );
}
