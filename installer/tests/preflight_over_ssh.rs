//! `strato preflight` end to end on this machine: the CLI starts the bootstrap server in-process
//! (`bootstrap: local`), which reaches 127.0.0.1 through a real sshd, gathers facts and checks
//! them. Then the host key changes and the host is refused, naming both fingerprints.

#[path = "../../bootstrap/ssh/tests/common/mod.rs"]
mod sshd;

use assert_cmd::Command;
use strato_api::{HostState, Job};

fn write_cluster(dir: &std::path::Path, port: u16, key: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("cluster.yaml");
    let yaml = format!(
        "cluster_name: demo\nbootstrap: local\nssh:\n  user: root\n  port: {port}\n  key_path: {}\n  \
         use_agent: false\n  connect_timeout_seconds: 5\nmasters: [127.0.0.1]\nhardware: minimal\n",
        key.display()
    );
    std::fs::write(&path, yaml).expect("cluster.yaml");
    path
}

/// Run `strato preflight -o json`; the last stdout line is the final job.
fn preflight(config: &std::path::Path) -> (Option<i32>, Job, String) {
    let out = Command::cargo_bin("strato")
        .expect("strato binary")
        .args(["preflight", "-o", "json", "--listen", "127.0.0.1:0"])
        .args(["--bootstrap-url", "http://127.0.0.1:9"])
        .arg("-c")
        .arg(config)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("strato runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let last = stdout.lines().last().unwrap_or_default();
    let job: Job = serde_json::from_str(last).unwrap_or_else(|e| {
        panic!(
            "last line is the job ({e}); stdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), job, stdout)
}

#[test]
fn preflight_checks_a_real_host_over_ssh_and_refuses_a_changed_host_key() {
    let mut server = sshd::Sshd::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_cluster(dir.path(), server.port, &server.keys.ed25519);

    let (code, job, events) = preflight(&config);
    let host = &job.hosts[0];
    // This machine may or may not meet every check; what matters is that the checks ran.
    assert!(
        code == Some(0) || code == Some(3),
        "exit {code:?}: {job:#?}"
    );
    assert_eq!(
        host.phase.as_deref(),
        Some("Run preflight checks"),
        "{job:#?}"
    );
    assert!(events.contains(r#""event":"preflight""#) && events.contains(r#""name":"cpu""#));
    let pins = std::fs::read_to_string(dir.path().join(".strato/bootstrap/known_hosts.json"))
        .expect("the host key is pinned on first use");
    assert!(
        pins.contains(&server.host_fingerprint().to_string()),
        "{pins}"
    );

    server.restart_with_other_host_key();
    let (code, job, _) = preflight(&config);
    let host = &job.hosts[0];
    assert_eq!(code, Some(3));
    assert_eq!(
        (host.state, host.phase.as_deref()),
        (HostState::Failed, Some("Connect to hosts"))
    );
    assert!(
        host.message
            .contains(&server.host_fingerprint().to_string()),
        "{}",
        host.message
    );
}
