//! Marathon's `fetch` on `strato up --local`: a tarball served over HTTP is unpacked into the
//! sandbox and the task runs a script from it; a plain file is made executable (and cached); a
//! URI that answers 404 fails the task naming the URI and the reason.

use std::process::{Child, Command};
use std::time::Duration;

use serde_json::json;

use crate::common::cluster::{free_port, wait_until, LocalCluster};

/// `python3 -m http.server` on `dir`, stopped when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &std::path::Path) -> (Served, u16) {
    let port = free_port();
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 -m http.server");
    let served = Served(child);
    wait_until(Duration::from_secs(20), "the file server", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    (served, port)
}

#[test]
fn fetched_archives_and_files_land_in_the_sandbox_and_a_failed_fetch_says_why() {
    let files = tempfile::tempdir().expect("files");
    let content = files.path().join("content");
    std::fs::create_dir_all(content.join("bin")).expect("bin");
    std::fs::write(
        content.join("bin/hello.sh"),
        "./tool.sh > from-tool\necho fetched > marker\nexec sleep 600\n",
    )
    .expect("script");
    let packed = Command::new("tar")
        .arg("-C")
        .arg(&content)
        .arg("-czf")
        .arg(files.path().join("app.tgz"))
        .arg("bin")
        .status()
        .expect("tar");
    assert!(packed.success());
    std::fs::write(files.path().join("tool.sh"), "#!/bin/sh\necho tool ran\n").expect("tool");
    let (_server, port) = serve(files.path());

    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    let app = json!({
        "id": "/fetched", "cmd": "sh bin/hello.sh", "cpus": 0.1, "mem": 32, "instances": 1,
        "fetch": [
            {"uri": format!("http://127.0.0.1:{port}/app.tgz"), "extract": true},
            {"uri": format!("http://127.0.0.1:{port}/tool.sh"), "executable": true, "cache": true},
        ],
    });
    let (status, body) = cluster.post("/v2/apps", &app);
    assert_eq!(status, 201, "{body}");
    let running = cluster.wait_running("/fetched", 1, Duration::from_secs(60));
    let task = running["tasks"][0]["id"]
        .as_str()
        .expect("task id")
        .to_string();
    // A task's host is its agent's address (DC/OS's ip-detect host), and so is its IP.
    assert_eq!(running["tasks"][0]["host"], "127.0.0.1");
    assert_eq!(
        running["tasks"][0]["ipAddresses"],
        json!([{"ipAddress": "127.0.0.1", "protocol": "IPv4"}])
    );
    let sandbox = scratch.path().join("data/agent/sandboxes").join(&task);
    let marker = wait_until(Duration::from_secs(20), "the script's marker", || {
        std::fs::read_to_string(sandbox.join("marker")).ok()
    });
    assert_eq!(marker, "fetched\n");
    assert_eq!(
        std::fs::read_to_string(sandbox.join("from-tool")).expect("tool output"),
        "tool ran\n"
    );
    assert!(
        sandbox.join("app.tgz").exists(),
        "the archive itself is kept, as Mesos does"
    );

    let missing = json!({
        "id": "/unfetchable", "cmd": "sleep 600", "cpus": 0.1, "mem": 16, "instances": 1,
        "fetch": [{"uri": format!("http://127.0.0.1:{port}/missing.tgz")}],
    });
    let (status, body) = cluster.post("/v2/apps", &missing);
    assert_eq!(status, 201, "{body}");
    let failure = wait_until(Duration::from_secs(60), "the fetch failure", || {
        cluster.app("/unfetchable")?["lastTaskFailure"]["message"]
            .as_str()
            .map(str::to_string)
    });
    assert!(
        failure.contains(&format!(
            "Failed to fetch 'http://127.0.0.1:{port}/missing.tgz'"
        )) && failure.contains("404"),
        "{failure}"
    );
    // An escape through destPath is refused by the API, before any task.
    let (status, body) = cluster.post(
        "/v2/apps",
        &json!({"id": "/escape", "cmd": "x", "fetch": [{"uri": "http://h/x", "destPath": "../../x"}]}),
    );
    assert_eq!(status, 422, "{body}");
}
