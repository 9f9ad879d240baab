//! A real etcd on loopback for tests (Debian's `etcd-server`, which `tests/run` installs):
//! single members or a cluster of several, each a child process killed on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One running etcd member.
pub struct EtcdMember {
    pub name: String,
    pub client_url: String,
    peer_url: String,
    data_dir: PathBuf,
    cluster: String,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The etcd binary: `$STRATO_TEST_ETCD`, else `etcd` on PATH.
pub fn etcd_binary() -> PathBuf {
    std::env::var_os("STRATO_TEST_ETCD")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("etcd"))
}

impl EtcdMember {
    fn spawn(&mut self, state: &str) {
        let log = std::fs::File::create(self.data_dir.with_extension("log")).expect("etcd log");
        let child = Command::new(etcd_binary())
            .args([
                "--name",
                &self.name,
                "--data-dir",
                &self.data_dir.display().to_string(),
                "--listen-client-urls",
                &self.client_url,
                "--advertise-client-urls",
                &self.client_url,
                "--listen-peer-urls",
                &self.peer_url,
                "--initial-advertise-peer-urls",
                &self.peer_url,
                "--initial-cluster",
                &self.cluster,
                "--initial-cluster-state",
                state,
                "--initial-cluster-token",
                "strato-test",
                "--log-level",
                "warn",
                // As strato-etcd.service runs it (templates/systemd/strato-etcd.service.tera).
                "--heartbeat-interval",
                "50",
                "--election-timeout",
                "500",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}): install Debian's etcd-server (tests/run does)",
                    etcd_binary().display()
                )
            });
        self.child = Some(child);
    }

    /// Kills the member (SIGKILL), keeping its data.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a killed member again on its data.
    pub fn restart(&mut self) {
        if self.child.is_none() {
            self.spawn("existing");
        }
    }
}

impl Drop for EtcdMember {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `n` members on loopback under `dir`, started together; returns once all answer /health.
pub fn cluster(dir: &Path, n: usize) -> Vec<EtcdMember> {
    let mut members: Vec<EtcdMember> = (0..n)
        .map(|i| EtcdMember {
            name: format!("m{i}"),
            client_url: format!("http://127.0.0.1:{}", free_port()),
            peer_url: format!("http://127.0.0.1:{}", free_port()),
            data_dir: dir.join(format!("etcd-m{i}")),
            cluster: String::new(),
            child: None,
        })
        .collect();
    let cluster: Vec<String> = members
        .iter()
        .map(|m| format!("{}={}", m.name, m.peer_url))
        .collect();
    let cluster = cluster.join(",");
    for member in &mut members {
        member.cluster = cluster.clone();
        member.spawn("new");
    }
    for member in &members {
        wait_healthy(&member.client_url);
    }
    members
}

/// Polls `/health` until it says `"health":"true"` (30 s deadline).
pub fn wait_healthy(client_url: &str) {
    let address = client_url.trim_start_matches("http://");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if health(address) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "etcd at {client_url} not healthy within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn health(address: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.0\r\nHost: {address}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut body = String::new();
    let _ = stream.read_to_string(&mut body);
    body.contains("\"health\":\"true\"")
}
