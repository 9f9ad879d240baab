//! The main container path against Podman, through its Docker-compatible API socket (what
//! RHEL-family nodes run, `runtime.container_engine: podman`): `strato up --local
//! --container-engine <socket>` runs a BRIDGE app serving HTTP on the host port the API reports
//! and a HOST app on its `PORT0`; scaling leaves exactly as many containers (`podman ps` by the
//! task labels) and deleting removes them. The image is the containers tests' offline busybox
//! image, loaded into Podman's store.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use super::containers::fetch;
use crate::common::cluster::{wait_until, LocalCluster};

const IMAGE: &str = "strato-test-busybox:1";

/// `podman system service` on a socket of the test's own; stopped on drop.
struct PodmanService {
    child: Child,
    socket: PathBuf,
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The engine answers `/_ping` on its socket.
fn pings(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.") && answer.ends_with("OK")
}

fn start_podman(dir: &Path) -> PodmanService {
    // Podman, unlike Docker, sets the nofile and nproc limits of every container, by default to
    // values this unprivileged CI sandbox refuses to set (runc: "error setting rlimits ...
    // operation not permitted"); lower ones are allowed. Nodes need no such file.
    let conf = dir.join("containers.conf");
    std::fs::write(
        &conf,
        "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n",
    )
    .expect("write containers.conf");
    let socket = dir.join("podman.sock");
    let log = std::fs::File::create(dir.join("podman.log")).expect("podman log");
    let child = Command::new("podman")
        .args(["system", "service", "--time=0"])
        .arg(format!("unix://{}", socket.display()))
        .env("CONTAINERS_CONF", &conf)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("podman system service");
    let service = PodmanService { child, socket };
    wait_until(Duration::from_secs(30), "podman's API socket", || {
        pings(&service.socket).then_some(())
    });
    service
}

/// The test image in Podman's store (from Docker's, where the containers tests make it).
fn podman_image() {
    crate::common::container_image(IMAGE);
    let present = Command::new("podman")
        .args(["image", "exists", IMAGE])
        .status()
        .expect("podman");
    if present.success() {
        return;
    }
    let mut saved = Command::new("docker")
        .args(["save", IMAGE])
        .stdout(Stdio::piped())
        .spawn()
        .expect("docker save");
    let loaded = Command::new("podman")
        .args(["load"])
        .stdin(saved.stdout.take().expect("docker save's output"))
        .output()
        .expect("podman load");
    assert!(
        saved.wait().expect("docker save").success(),
        "docker save failed"
    );
    assert!(
        loaded.status.success(),
        "podman load: {}",
        String::from_utf8_lossy(&loaded.stderr)
    );
}

fn podman_containers_of(app: &str) -> usize {
    let out = Command::new("podman")
        .args([
            "ps",
            "-q",
            "--filter",
            &format!("label=strato.app-id={app}"),
        ])
        .output()
        .expect("podman ps");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[test]
fn podman_runs_bridge_and_host_apps_scales_and_removes_them() {
    podman_image();
    let dir = tempfile::tempdir().expect("tempdir");
    let podman = start_podman(dir.path());
    let socket = podman.socket.display().to_string();
    let cluster = LocalCluster::start_with(
        &dir.path().join("cluster"),
        &[],
        &["--container-engine", socket.as_str()],
    );

    let bridge = json!({
        "id": "/pod-web", "cmd": "httpd -f -p 8080 -h /www",
        "cpus": 0.1, "mem": 32, "instances": 1,
        "container": {"type": "DOCKER", "docker": {"image": IMAGE},
            "portMappings": [{"containerPort": 8080, "hostPort": 0}]},
        "networks": [{"mode": "container/bridge"}],
    });
    let (status, body) = cluster.post("/v2/apps", &bridge);
    assert_eq!(status, 201, "{body}");
    let app = cluster.wait_running("/pod-web", 1, Duration::from_secs(120));
    let port = app["tasks"][0]["ports"][0].as_u64().expect("a host port");
    let page = wait_until(Duration::from_secs(30), "the bridge app answering", || {
        fetch(port)
    });
    assert_eq!(page, "hello from a container\n");
    assert_eq!(podman_containers_of("/pod-web"), 1);

    let host = json!({
        "id": "/pod-host", "cmd": "httpd -f -p $PORT0 -h /www",
        "cpus": 0.1, "mem": 32, "instances": 1,
        "portDefinitions": [{"port": 0}],
        "container": {"type": "DOCKER", "docker": {"image": IMAGE}},
    });
    let (status, body) = cluster.post("/v2/apps", &host);
    assert_eq!(status, 201, "{body}");
    let app = cluster.wait_running("/pod-host", 1, Duration::from_secs(120));
    let port = app["tasks"][0]["ports"][0].as_u64().expect("a host port");
    wait_until(Duration::from_secs(30), "the host app answering", || {
        fetch(port)
    });

    let (status, body) = cluster.put("/v2/apps/pod-web", &json!({"instances": 3}));
    assert_eq!(status, 200, "{body}");
    cluster.wait_running("/pod-web", 3, Duration::from_secs(120));
    wait_until(Duration::from_secs(30), "3 podman containers", || {
        (podman_containers_of("/pod-web") == 3).then_some(())
    });
    let (status, body) = cluster.put("/v2/apps/pod-web", &json!({"instances": 1}));
    assert_eq!(status, 200, "{body}");
    wait_until(Duration::from_secs(60), "1 podman container", || {
        (podman_containers_of("/pod-web") == 1).then_some(())
    });

    for app in ["/pod-web", "/pod-host"] {
        let (status, body) = cluster.delete(&format!("/v2/apps{app}"));
        assert_eq!(status, 200, "{body}");
        wait_until(
            Duration::from_secs(60),
            &format!("{app}'s containers gone"),
            || (podman_containers_of(app) == 0).then_some(()),
        );
    }
    drop(cluster);
    drop(podman);
}
