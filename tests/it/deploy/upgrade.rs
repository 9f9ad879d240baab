//! `strato upgrade` on real nodes (bootstrap, 1 master, 2 agents) while a 2-instance HTTP app is
//! probed several times a second: bundle A → B keeps every task (ids and processes) answering and
//! every node reports B; a second upgrade changes nothing; a dry run with bundle C changes
//! nothing; C, whose master exits at start, is rolled back on the master and stops the upgrade
//! naming the node and the gate, the cluster healthy on B and the app never down.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{member_client, operator_files, poll, strato_job};
use crate::common::nodes::{NodeSpec, Nodes};

const NODES: [&str; 3] = ["master-1", "agent-1", "agent-2"];

fn write_cluster_yaml(dir: &std::path::Path, nodes: &Nodes) -> std::path::PathBuf {
    let ip = |name: &str| nodes.node(name).ip.clone();
    let text = format!(
        "cluster_name: e2e-upgrade\n\
         bootstrap: {boot}\n\
         ssh:\n  user: root\n  key_path: {key}\n\
         masters: [{m}]\n\
         agents: [{a1}, {a2}]\n\
         hardware: minimal\n",
        boot = ip("bootstrap"),
        key = nodes.key_path().display(),
        m = ip("master-1"),
        a1 = ip("agent-1"),
        a2 = ip("agent-2"),
    );
    let path = dir.join("cluster.yaml");
    std::fs::write(&path, text).expect("write cluster.yaml");
    path
}

/// The dev bundle's node binaries restamped as `version` (`strato bundle --bin-dir --version`),
/// with `strato-master` replaced by `master` when given, and etcd beside them with `etcd`.
pub(super) fn restamped(
    dir: &std::path::Path,
    version: &str,
    master: Option<&str>,
    etcd: bool,
) -> std::path::PathBuf {
    let a = crate::bundle::dev_bundle();
    let bins = dir.join(format!("bins-{version}"));
    std::fs::create_dir_all(&bins).expect("bins");
    for name in ["strato-master", "strato-agent", "strato-bootstrap"] {
        let bytes = match (name, master) {
            ("strato-master", Some(script)) => script.as_bytes().to_vec(),
            _ => strato_bundle::read_entry(&a, &format!("bin/{name}")).expect("binary"),
        };
        let path = bins.join(name);
        std::fs::write(&path, bytes).expect("write binary");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    let out = dir.join(format!("bundle-{version}"));
    let etcd_args: &[&str] = if etcd {
        &["--etcd", "/usr/bin/etcd"]
    } else {
        &[]
    };
    let made = crate::common::strato()
        .args(["bundle", "--bin-dir"])
        .arg(&bins)
        .args(etcd_args)
        .args(["--version", version, "--out-dir"])
        .arg(&out)
        .timeout(Duration::from_secs(300))
        .output()
        .expect("strato bundle");
    assert!(
        made.status.success(),
        "strato bundle --version {version}: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    out.join(strato_bundle::file_name(
        version,
        &strato_bundle::default_target(),
    ))
}

/// `strato upgrade -c config --bundle bundle <extra>`; output printed to the test log.
fn upgrade(
    config: &std::path::Path,
    bundle: &std::path::Path,
    extra: &[&str],
) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let out = crate::common::strato()
        .env("STRATO_LOG_FILE", config.with_file_name("strato.log"))
        .args(["upgrade", "-c"])
        .arg(config)
        .arg("--bundle")
        .arg(bundle)
        .args(extra)
        .timeout(Duration::from_secs(900))
        .output()
        .expect("run strato upgrade");
    let took = started.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "strato upgrade {extra:?}: {} in {took:?}\n{text}",
        out.status
    );
    (out.status.code(), text, took)
}

/// Every node's installed version (`/opt/strato/current/VERSION`).
fn installed(nodes: &Nodes) -> Vec<String> {
    NODES
        .iter()
        .map(|n| {
            let out = nodes.exec(nodes.node(n), "cat /opt/strato/current/VERSION");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        })
        .collect()
}

/// The start time of every Strato unit on every node.
fn unit_starts(nodes: &Nodes) -> Vec<String> {
    NODES
        .iter()
        .map(|n| {
            let out = nodes.exec(
                nodes.node(n),
                "systemctl show -p ExecMainStartTimestamp -p MainPID strato-master strato-agent",
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect()
}

/// The app's tasks as (id, host ip, port, main pid on the node).
fn tasks(
    api: &reqwest::blocking::Client,
    master: &str,
    nodes: &Nodes,
) -> Option<Vec<(String, String, u64, String)>> {
    let body: Value = api
        .get(format!("https://{master}:8080/v2/apps/probe/tasks"))
        .send()
        .ok()?
        .json()
        .ok()?;
    let mut out = Vec::new();
    for t in body["tasks"].as_array()? {
        if t["state"] != "TASK_RUNNING" {
            return None;
        }
        let id = t["id"].as_str()?.to_string();
        let host = t["host"].as_str()?;
        let node = nodes
            .nodes
            .iter()
            .find(|n| n.name == host || n.ip == host)?;
        let pid = nodes.exec(
            node,
            &format!("systemctl show -p MainPID --value strato-task-{id}.service"),
        );
        out.push((
            id,
            node.ip.clone(),
            t["ports"][0].as_u64()?,
            String::from_utf8_lossy(&pid.stdout).trim().to_string(),
        ));
    }
    out.sort();
    (out.len() == 2).then_some(out)
}

#[test]
fn upgrade_keeps_tasks_answering_and_rolls_back_a_master_that_fails_its_gate() {
    let nodes = Nodes::start(&[
        NodeSpec::named("bootstrap"),
        NodeSpec::named("master-1"),
        NodeSpec::named("agent-1"),
        NodeSpec::named("agent-2"),
    ]);
    let dir = tempfile::tempdir().expect("tmp");
    // A is this tree's version; B the next minor (no skip), C a patch of B.
    let a_version = strato_bundle::VERSION;
    let parts: Vec<u64> = a_version
        .split('.')
        .map(|p| p.parse().expect("numeric version"))
        .collect();
    let b_version = format!("{}.{}.0", parts[0], parts[1] + 1);
    let b_version = b_version.as_str();
    let c_version = format!("{}.{}.1", parts[0], parts[1] + 1);
    let c_version = c_version.as_str();
    let b = restamped(dir.path(), b_version, None, false);
    let c = restamped(
        dir.path(),
        c_version,
        Some("#!/bin/sh\necho exiting at start >&2\nexit 1\n"),
        false,
    );
    let config = write_cluster_yaml(dir.path(), &nodes);
    let out = strato_job("deploy", &config);
    assert!(out.status.success(), "strato deploy failed");
    assert_eq!(installed(&nodes), vec![a_version; 3]);

    let master = nodes.node("master-1").ip.clone();
    let api = member_client(&operator_files(dir.path()), strato_tls::MemberRole::Master);
    let resp = api
        .post(format!("https://{master}:8080/v2/apps"))
        .json(
            &json!({"id": "/probe", "cmd": "exec python3 -m http.server $PORT0",
                      "instances": 2, "cpus": 0.1, "mem": 32, "portDefinitions": [{"port": 0}],
                      "constraints": [["hostname", "UNIQUE"]]}),
        )
        .send()
        .expect("POST /v2/apps");
    assert_eq!(
        resp.status().as_u16(),
        201,
        "{}",
        resp.text().unwrap_or_default()
    );
    let before = poll(
        Duration::from_secs(120),
        "/probe running on both agents",
        || tasks(&api, &master, &nodes),
    );

    // Probe both tasks several times a second for the rest of the test.
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let prober = {
        let (stop, sent, failed) = (stop.clone(), sent.clone(), failed.clone());
        let targets: Vec<String> = before
            .iter()
            .map(|(_, ip, port, _)| format!("http://{ip}:{port}/"))
            .collect();
        std::thread::spawn(move || {
            let plain = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .expect("client");
            let mut failures = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                for url in &targets {
                    sent.fetch_add(1, Ordering::SeqCst);
                    let ok = plain.get(url).send().is_ok_and(|r| r.status().is_success());
                    if !ok {
                        failed.fetch_add(1, Ordering::SeqCst);
                        failures.push(url.clone());
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            failures
        })
    };

    // A → B.
    let (code, text, took) = upgrade(&config, &b, &["--yes"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(installed(&nodes), vec![b_version; 3]);
    let ha: Value = api
        .get(format!("https://{master}:5050/strato/v1/ha"))
        .send()
        .expect("ha")
        .json()
        .expect("json");
    assert_eq!(ha["version"], b_version, "the master runs B: {ha}");
    let slaves: Value = api
        .get(format!("https://{master}:5050/master/slaves"))
        .send()
        .expect("slaves")
        .json()
        .expect("json");
    let agents = poll(Duration::from_secs(30), "both agents on B", || {
        let slaves: Value = api
            .get(format!("https://{master}:5050/master/slaves"))
            .send()
            .ok()?
            .json()
            .ok()?;
        let versions: Vec<String> = slaves["slaves"]
            .as_array()?
            .iter()
            .filter_map(|s| s["strato_version"].as_str().map(str::to_string))
            .collect();
        (versions == [b_version, b_version]).then_some(versions)
    });
    assert_eq!(agents.len(), 2, "{slaves}");
    assert_eq!(
        tasks(&api, &master, &nodes),
        Some(before.clone()),
        "task ids or processes changed in the upgrade"
    );
    eprintln!("upgrade A → B of 1 master + 2 agents took {took:?}");
    // `strato status` shows every node on B.
    let out = crate::common::strato()
        .args(["status", "-o", "json", "-c"])
        .arg(&config)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("strato status");
    let status: Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default(),
    )
    .expect("status JSON");
    assert_eq!(status["masters"][0]["version"], b_version, "{status}");
    let listed = status["agents"].as_array().expect("agents");
    assert_eq!(listed.len(), 2, "{status}");
    assert!(
        listed
            .iter()
            .all(|a| a["version"] == b_version && a["registered"] == true),
        "{status}"
    );

    // The same bundle again: nothing changes.
    let starts = unit_starts(&nodes);
    let (code, text, _) = upgrade(&config, &b, &["--yes"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("nothing changed"), "{text}");
    assert_eq!(
        unit_starts(&nodes),
        starts,
        "a second upgrade restarted a unit"
    );

    // A dry run with C plans B → C and changes nothing.
    let (code, text, _) = upgrade(&config, &c, &["--dry-run"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("runs {b_version}; upgrades to {c_version}")),
        "{text}"
    );
    assert_eq!(unit_starts(&nodes), starts, "a dry run restarted a unit");
    assert_eq!(installed(&nodes), vec![b_version; 3]);

    // C's master exits at start: rolled back to B, the upgrade stops naming the node and gate.
    let (code, text, _) = upgrade(&config, &c, &["--yes", "--gate-timeout", "15"]);
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.contains(&master)
            && text.contains("gate \"units healthy\" failed")
            && text.contains(&format!("rolled back to {b_version}")),
        "{text}"
    );
    assert!(
        text.contains("exiting at start"),
        "the master's log lines: {text}"
    );
    assert_eq!(
        installed(&nodes),
        vec![b_version; 3],
        "agents untouched, master back on B"
    );
    let out = strato_job("postflight", &config);
    assert!(
        out.status.success(),
        "the cluster is not healthy on B after the rollback"
    );
    assert_eq!(tasks(&api, &master, &nodes), Some(before.clone()));

    stop.store(true, Ordering::SeqCst);
    let failures = prober.join().expect("prober");
    let sent = sent.load(Ordering::SeqCst);
    eprintln!("{sent} probes, {} failed", failed.load(Ordering::SeqCst));
    assert!(sent > 50, "too few probes: {sent}");
    assert_eq!(failures, Vec::<String>::new(), "the app stopped answering");
}
