//! Real test nodes: Docker containers from the debootstrap image (`tests/nodes/build-image.sh`),
//! systemd as PID 1 and sshd, on a private Docker network, unprivileged. A [`Nodes`] value owns its
//! network and containers and removes them when dropped, so a failing test leaves nothing behind.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::repo_root;

/// Label on every container and network the tests create, for cleaning up after a killed run.
pub const LABEL: &str = "strato-e2e";

/// The node image tag, built once per test run (cached across runs by a recipe hash).
pub fn image() -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let docker = Command::new("docker").arg("info").output();
        assert!(
            matches!(docker, Ok(ref out) if out.status.success()),
            "end-to-end tests need a running Docker engine: run tests/run (it installs docker.io and starts dockerd)"
        );
        let out = Command::new(repo_root().join("tests/nodes/build-image.sh"))
            .output()
            .expect("run tests/nodes/build-image.sh");
        assert!(
            out.status.success(),
            "building the node image failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    })
}

/// How one node is started.
#[derive(Debug, Clone, Default)]
pub struct NodeSpec {
    pub name: String,
    /// `docker run --memory`, e.g. `1g`: the node's cgroup limit, which preflight must see.
    pub memory: Option<String>,
}

impl NodeSpec {
    pub fn named(name: &str) -> Self {
        NodeSpec {
            name: name.into(),
            memory: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub container: String,
    pub ip: String,
}

/// A set of nodes on their own network, with the SSH key that logs in as root on all of them.
pub struct Nodes {
    pub network: String,
    pub nodes: Vec<Node>,
    pub key_dir: tempfile::TempDir,
}

impl Nodes {
    /// Start the nodes and wait (with a deadline) until sshd answers on each.
    pub fn start(specs: &[NodeSpec]) -> Nodes {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let image = image();
        let id = format!(
            "{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let network = format!("strato-e2e-{id}");
        docker(&[
            "network",
            "create",
            "--internal",
            "--label",
            LABEL,
            &network,
        ]);
        let key_dir = tempfile::tempdir().expect("temp dir for keys");
        let key = key_dir.path().join("id_ed25519");
        run_ok(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", ""])
                .arg("-f")
                .arg(&key),
        );
        let mut set = Nodes {
            network,
            nodes: Vec::new(),
            key_dir,
        };
        for spec in specs {
            let container = format!("strato-e2e-{id}-{}", spec.name);
            let mut args: Vec<String> = vec![
                "run".into(),
                "-d".into(),
                "--name".into(),
                container.clone(),
                "--hostname".into(),
                spec.name.clone(),
                "--network".into(),
                set.network.clone(),
                "--label".into(),
                LABEL.into(),
                "--tmpfs".into(),
                "/run".into(),
                "--tmpfs".into(),
                "/run/lock".into(),
                "-v".into(),
                "/sys/fs/cgroup:/sys/fs/cgroup:ro".into(),
                "-v".into(),
                format!(
                    "{}:/root/.ssh/authorized_keys:ro",
                    key.with_extension("pub").display()
                ),
            ];
            // The image carries one machine-id; real machines each have their own, and
            // preflight refuses duplicates.
            let machine_id = set.key_dir.path().join(format!("machine-id-{}", spec.name));
            std::fs::write(&machine_id, format!("{}\n", random_machine_id()))
                .expect("write machine-id");
            args.extend([
                "-v".into(),
                format!("{}:/etc/machine-id:ro", machine_id.display()),
            ]);
            if let Some(memory) = &spec.memory {
                args.extend(["--memory".into(), memory.clone()]);
            }
            args.extend([image.to_string(), "/sbin/init".into()]);
            docker(&args.iter().map(String::as_str).collect::<Vec<_>>());
            let ip = docker(&[
                "inspect",
                "-f",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                &container,
            ]);
            set.nodes.push(Node {
                name: spec.name.clone(),
                container,
                ip: ip.trim().to_string(),
            });
        }
        for node in &set.nodes {
            set.wait_for_ssh(node, Duration::from_secs(60));
        }
        set
    }

    /// The private key that logs in as root on every node.
    pub fn key_path(&self) -> PathBuf {
        self.key_dir.path().join("id_ed25519")
    }

    pub fn node(&self, name: &str) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .expect("node by name")
    }

    /// Run a shell command on a node through `docker exec` (for test assertions, not for Strato).
    pub fn exec(&self, node: &Node, script: &str) -> std::process::Output {
        Command::new("docker")
            .args(["exec", &node.container, "sh", "-c", script])
            .output()
            .expect("docker exec")
    }

    fn wait_for_ssh(&self, node: &Node, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let out = ssh_command(
                &self.key_path(),
                &node.ip,
                "systemctl is-system-running --wait",
            )
            .output();
            if let Ok(out) = &out {
                let state = String::from_utf8_lossy(&out.stdout);
                if state.contains("running") || state.contains("degraded") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "node {} ({}) did not answer SSH within {limit:?}",
                node.name,
                node.ip
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for node in &self.nodes {
            let _ = Command::new("docker")
                .args(["rm", "-f", "-v", &node.container])
                .output();
        }
        let _ = Command::new("docker")
            .args(["network", "rm", &self.network])
            .output();
    }
}

/// An `ssh` command to a node as root (OpenSSH client; for test set-up and assertions only).
pub fn ssh_command(key: &Path, ip: &str, script: &str) -> Command {
    let mut cmd = Command::new("ssh");
    cmd.arg("-i").arg(key).args([
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=2",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
    ]);
    cmd.arg(format!("root@{ip}")).arg(script);
    cmd
}

/// 32 lower-case hex digits, as systemd writes `/etc/machine-id`.
fn random_machine_id() -> String {
    let bytes = std::fs::read("/proc/sys/kernel/random/uuid").expect("read a random uuid");
    String::from_utf8_lossy(&bytes).trim().replace('-', "")
}

/// Runs `docker args…`, failing the test with docker's stderr; its stdout.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("run docker");
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
