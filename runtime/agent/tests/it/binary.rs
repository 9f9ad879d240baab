//! The thin `strato-agent` binary: config errors are clear, and it serves until SIGTERM.

use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Mutex;

use assert_cmd::cargo::CommandCargoExt;
use strato_proto::{TaskState, TaskStatus};

use crate::common::{eventually, free_port, process_alive, read, task, FakeMaster};

#[test]
fn bad_config_names_the_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("agent.toml");
    std::fs::write(&path, "port = 5051\nmaster = [\"x\"]\n").expect("write");
    let out = std::process::Command::cargo_bin("strato-agent")
        .expect("binary")
        .arg("--config")
        .arg(&path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("master"), "{err}");
}

/// Starts the binary on `work_dir`, waits until it serves, returns it with its HTTP base URL.
async fn start_binary(master: &FakeMaster, work_dir: &Path) -> (Mutex<Child>, String) {
    let port = free_port();
    let child = std::process::Command::cargo_bin("strato-agent")
        .expect("binary")
        .arg("--work-dir")
        .arg(work_dir)
        .arg("--port")
        .arg(port.to_string())
        .arg("--master")
        .arg(master.addr.to_string())
        .env("STRATO_IP", "127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start agent");
    let url = format!("http://127.0.0.1:{port}");
    let http = strato_tls::client();
    eventually("the binary to serve", || async {
        let ok = http.get(format!("{url}/health")).send().await.ok()?;
        ok.status().is_success().then_some(())
    })
    .await;
    (Mutex::new(child), url)
}

async fn sigterm_and_wait(child: &Mutex<Child>) -> std::process::ExitStatus {
    let pid = child.lock().expect("lock").id() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    eventually("the binary to exit", || async {
        child.lock().expect("lock").try_wait().ok().flatten()
    })
    .await
}

#[tokio::test]
async fn a_new_agent_process_reattaches_to_the_old_ones_task() {
    let master = FakeMaster::start().await;
    let work = tempfile::tempdir().expect("tmp");
    let (first, url) = start_binary(&master, work.path()).await;
    let http = strato_tls::client();
    let launch = task(
        "survivor.1",
        "echo start >> starts; echo $$ > pid; exec sleep 300",
    );
    http.post(format!("{url}/v1/tasks"))
        .json(&launch)
        .send()
        .await
        .expect("launch");
    let sandbox = work.path().join("sandboxes/survivor.1");
    let pid: i32 = eventually("the task's pid", || async {
        read(&sandbox.join("pid")).trim().parse().ok()
    })
    .await;
    // The service default: stopping the agent leaves its tasks running.
    assert!(sigterm_and_wait(&first).await.success());
    assert!(process_alive(pid));

    let (second, url) = start_binary(&master, work.path()).await;
    let tasks: Vec<TaskStatus> = http
        .get(format!("{url}/v1/tasks"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let task = tasks.iter().find(|t| t.task_id == "survivor.1");
    assert_eq!(task.map(|t| t.state), Some(TaskState::Running));
    assert_eq!(read(&sandbox.join("starts")), "start\n", "not restarted");
    assert_eq!(read(&sandbox.join("pid")).trim(), pid.to_string());

    // Not the new agent's child, yet it is killed and its end is noticed.
    http.post(format!("{url}/v1/tasks/survivor.1/kill"))
        .json(&serde_json::json!({ "grace_period_seconds": 5 }))
        .send()
        .await
        .expect("kill");
    eventually("the task to be KILLED", || async {
        let tasks: Vec<TaskStatus> = http
            .get(format!("{url}/v1/tasks"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        tasks
            .iter()
            .any(|t| t.task_id == "survivor.1" && t.state == TaskState::Killed)
            .then_some(())
    })
    .await;
    assert!(!process_alive(pid));
    assert!(sigterm_and_wait(&second).await.success());
}

#[tokio::test]
async fn binary_registers_and_stops_on_sigterm() {
    let master = FakeMaster::start().await;
    let work = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let config = work.path().join("agent.toml");
    std::fs::write(&config, "bind = \"127.0.0.1\"\nlauncher = \"process\"\n").expect("write");
    let child = std::process::Command::cargo_bin("strato-agent")
        .expect("binary")
        .arg("--config")
        .arg(&config)
        .arg("--work-dir")
        .arg(work.path())
        .arg("--port")
        .arg(port.to_string())
        .arg("--master")
        .arg(master.addr.to_string())
        .env("STRATO_IP", "127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start agent");
    let reg = eventually("the binary to register", || async {
        master.with(|r| r.registrations.first().cloned())
    })
    .await;
    assert_eq!(reg.agent.port, port);
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let child = std::sync::Mutex::new(child);
    let status = eventually("the binary to exit", || async {
        child.lock().expect("lock").try_wait().ok().flatten()
    })
    .await;
    assert!(status.success(), "{status}");
}
