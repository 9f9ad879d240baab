//! Deploys that lose something on the way: a node that is down, and a bootstrap server killed
//! mid-job. Each proves the promise of a re-run: only what is not done yet is done.

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::{poll, strato_job, write_cluster_yaml};
use crate::common::nodes::{docker, ssh_command, Node, NodeSpec, Nodes};

fn four_nodes() -> Nodes {
    Nodes::start(&[
        NodeSpec::named("bootstrap"),
        NodeSpec::named("master-1"),
        NodeSpec::named("agent-1"),
        NodeSpec::named("agent-2"),
    ])
}

/// The node's address on the test network now (empty while it is stopped).
fn current_ip(node: &Node) -> String {
    let out = Command::new("docker")
        .args([
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            &node.container,
        ])
        .output()
        .expect("docker inspect");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The summary table's row for `ip`, split into its columns (the preflight tables before it
/// also start with the host's address, on a line of its own).
fn row<'a>(summary: &'a str, ip: &str) -> Vec<&'a str> {
    summary
        .lines()
        .skip_while(|l| !l.starts_with("HOST "))
        .find(|l| l.split_whitespace().next() == Some(ip))
        .unwrap_or_else(|| panic!("no row for {ip} in:\n{summary}"))
        .split_whitespace()
        .collect()
}

#[test]
fn a_node_down_during_deploy_fails_alone_and_the_next_deploy_finishes_only_that_node() {
    let nodes = four_nodes();
    crate::bundle::dev_bundle();
    let dir = tempfile::tempdir().expect("tmp");
    let config = write_cluster_yaml(dir.path(), &nodes);
    let down = nodes.node("agent-2");

    // The node goes down before the deploy starts: stopping it at a chosen point mid-deploy
    // would need timing (sleeps) this test must not depend on; for the deploy it is the same
    // host that stops answering SSH.
    docker(&["kill", &down.container]);
    let out = strato_job("deploy", &config);
    assert_eq!(
        out.status.code(),
        Some(4),
        "a deploy with one host down is a partial failure"
    );
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        summary.contains("deploy: 2 ok, 1 failed, 0 skipped of 3 hosts"),
        "{summary}"
    );
    assert!(
        summary.contains("re-run the same command to finish the remaining hosts"),
        "{summary}"
    );
    assert_eq!(row(&summary, &down.ip)[2], "FAILED", "{summary}");
    for name in ["master-1", "agent-1"] {
        let ip = &nodes.node(name).ip;
        assert_eq!(row(&summary, ip)[2], "ok", "{name}:\n{summary}");
    }

    // The node comes back (same address on the test network) and answers SSH again.
    docker(&["start", &down.container]);
    assert_eq!(
        current_ip(down),
        down.ip,
        "the node came back on its address"
    );
    poll(Duration::from_secs(60), "the restarted node's sshd", || {
        let out = ssh_command(
            &nodes.key_path(),
            &down.ip,
            "systemctl is-system-running --wait",
        )
        .output()
        .ok()?;
        let state = String::from_utf8_lossy(&out.stdout).into_owned();
        (state.contains("running") || state.contains("degraded")).then_some(())
    });

    let out = strato_job("deploy", &config);
    assert!(out.status.success(), "the second deploy must finish");
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        summary.contains("deploy: 3 ok, 0 failed, 0 skipped of 3 hosts; 1 changed"),
        "only the node that was down changes:\n{summary}"
    );
    assert_eq!(row(&summary, &down.ip)[3], "yes", "{summary}");
    for name in ["master-1", "agent-1"] {
        let ip = &nodes.node(name).ip;
        assert_eq!(
            row(&summary, ip)[3],
            "no",
            "{name} was done already:\n{summary}"
        );
    }
}

/// `strato deploy -o json` as a child; its stdout lines arrive on the returned channel.
fn spawn_json_deploy(config: &std::path::Path) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut child = Command::new(crate::common::bin_path("strato"))
        .arg("deploy")
        .arg("-c")
        .arg(config)
        .arg("--bundle")
        .arg(crate::bundle::dev_bundle())
        .args(["-o", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn strato deploy");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            eprintln!("strato deploy: {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Kills the child when a failed assertion unwinds past it.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_bootstrap_server_killed_mid_job_resumes_it() {
    let nodes = four_nodes();
    crate::bundle::dev_bundle();
    let dir = tempfile::tempdir().expect("tmp");
    let config = write_cluster_yaml(dir.path(), &nodes);
    let (child, lines) = spawn_json_deploy(&config);
    let mut child = KillOnDrop(child);

    // Wait for the first host to finish a phase that changed it (the master's install: masters
    // go first, so the agents are still to do), then kill the server.
    let mut seen: Vec<Value> = Vec::new();
    let first_done = poll(Duration::from_secs(300), "a host_done event", || {
        while let Ok(line) = lines.try_recv() {
            seen.push(serde_json::from_str(&line).expect("each line is JSON"));
        }
        seen.iter()
            .find(|e| e["event"] == "host_done" && e["changed"] == true)
            .cloned()
    });
    let killed_at = seen.last().and_then(|e| e["seq"].as_u64()).unwrap_or(0);
    let kill = nodes.exec(
        nodes.node("bootstrap"),
        "systemctl kill -s KILL strato-bootstrap",
    );
    assert!(
        kill.status.success(),
        "{}",
        String::from_utf8_lossy(&kill.stderr)
    );

    let status = poll(Duration::from_secs(300), "strato deploy to exit", || {
        child.0.try_wait().expect("try_wait")
    });
    seen.extend(
        lines.iter().map(|l| {
            serde_json::from_str::<Value>(&l).unwrap_or_else(|_| Value::String(l.clone()))
        }),
    );
    assert!(status.success(), "the deploy must finish after the restart");

    // systemd restarted the server and it resumed the same job.
    let restarts = nodes.exec(
        nodes.node("bootstrap"),
        "systemctl show -p NRestarts --value strato-bootstrap",
    );
    let restarts = String::from_utf8_lossy(&restarts.stdout).trim().to_string();
    assert_eq!(restarts, "1", "systemd restarted the server once");
    let job = first_done["job"].as_str().expect("event names its job");
    let final_job = seen.last().expect("the final job line");
    assert_eq!(final_job["id"].as_str(), Some(job), "same job: {final_job}");
    let events: Vec<&Value> = seen.iter().filter(|e| e["seq"].is_u64()).collect();
    assert!(
        events.iter().all(|e| e["job"].as_str() == Some(job)),
        "every event belongs to job {job}"
    );
    let resumed = events.iter().any(|e| {
        e["event"] == "job_started"
            && e["resumed"] == true
            && e["seq"].as_u64().is_some_and(|s| s > killed_at)
    });
    assert!(resumed, "the restarted server resumed job {job}");

    // What was done before the kill is not done again (connecting again is not a change).
    let (host, phase) = (&first_done["host"], &first_done["phase"]);
    let redone = events.iter().any(|e| {
        e["seq"].as_u64().is_some_and(|s| s > killed_at)
            && e["event"] == "host_done"
            && e["changed"] == true
            && &e["host"] == host
            && &e["phase"] == phase
    });
    assert!(
        !redone,
        "{host} {phase} was done before the kill and ran again"
    );
    let final_hosts = final_job["hosts"].as_array().expect("hosts in the job");
    assert_eq!(final_hosts.len(), 3, "{final_job}");
    assert!(
        final_hosts.iter().all(|h| h["state"] == "succeeded"),
        "{final_job}"
    );
}
