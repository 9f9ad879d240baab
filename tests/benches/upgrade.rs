//! Upgrade wall time of 1 master + 2 agents on Docker nodes (the same nodes the end-to-end tests
//! use), with a 2-instance HTTP app probed every 100 ms throughout: the cluster is deployed from
//! the dev bundle, then upgraded N times, each to the dev binaries restamped with the next minor
//! version (`strato bundle --bin-dir --version`). Prints, per upgrade, the wall time of
//! `strato upgrade` and of each phase (from the job's events), and the failed probes; asserts
//! nothing about speed (docs/benchmarks.md records the figures).
//!
//! `cargo bench -p strato-tests --bench upgrade --profile dev` (STRATO_BENCH_UPGRADES=N, default 3).

#[path = "../it/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::nodes::{NodeSpec, Nodes};
use serde_json::{json, Value};

fn strato(args: &[&str], config: &std::path::Path) -> std::process::Output {
    common::strato()
        .env("STRATO_LOG_FILE", config.with_file_name("strato.log"))
        .args(args)
        .arg("-c")
        .arg(config)
        .timeout(Duration::from_secs(900))
        .output()
        .expect("run strato")
}

fn main() {
    let upgrades: u64 = std::env::var("STRATO_BENCH_UPGRADES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let nodes = Nodes::start(&[
        NodeSpec::named("bootstrap"),
        NodeSpec::named("master-1"),
        NodeSpec::named("agent-1"),
        NodeSpec::named("agent-2"),
    ]);
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("bundles");
    let built = common::strato()
        .args(["bundle", "--profile", "dev", "--out-dir"])
        .arg(&out)
        .timeout(Duration::from_secs(1500))
        .output()
        .expect("strato bundle");
    assert!(built.status.success(), "strato bundle failed");
    let a = out.join(strato_bundle::file_name(
        strato_bundle::VERSION,
        &strato_bundle::default_target(),
    ));
    let ip = |name: &str| nodes.node(name).ip.clone();
    let config = dir.path().join("cluster.yaml");
    std::fs::write(
        &config,
        format!(
            "cluster_name: bench-upgrade\nbootstrap: {}\nssh:\n  user: root\n  key_path: {}\n\
             masters: [{}]\nagents: [{}, {}]\nhardware: minimal\n",
            ip("bootstrap"),
            nodes.key_path().display(),
            ip("master-1"),
            ip("agent-1"),
            ip("agent-2"),
        ),
    )
    .expect("cluster.yaml");
    let deployed = strato(&["deploy", "--bundle", a.to_str().expect("utf-8")], &config);
    assert!(deployed.status.success(), "strato deploy failed");

    // The app, and a prober for the whole run.
    let pki = dir.path().join(".strato/pki");
    let tls = strato_tls::MemberTls::load(&strato_tls::TlsFiles {
        ca: pki.join("ca.crt"),
        cert: pki.join("operator.crt"),
        key: pki.join("operator.key"),
    })
    .expect("operator identity");
    let api = strato_tls::blocking_member_client_builder(&tls, &[strato_tls::MemberRole::Master])
        .expect("client")
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let master = ip("master-1");
    let posted = api
        .post(format!("https://{master}:8080/v2/apps"))
        .json(
            &json!({"id": "/probe", "cmd": "exec python3 -m http.server $PORT0",
                      "instances": 2, "cpus": 0.1, "mem": 32, "portDefinitions": [{"port": 0}],
                      "constraints": [["hostname", "UNIQUE"]]}),
        )
        .send()
        .expect("POST /v2/apps");
    assert_eq!(posted.status().as_u16(), 201);
    let deadline = Instant::now() + Duration::from_secs(120);
    let targets: Vec<String> = loop {
        let tasks: Value = api
            .get(format!("https://{master}:8080/v2/apps/probe/tasks"))
            .send()
            .ok()
            .and_then(|r| r.json().ok())
            .unwrap_or(Value::Null);
        let urls: Vec<String> = tasks["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["state"] == "TASK_RUNNING")
            .filter_map(|t| {
                // The task's host as the master names it: the node's name or address.
                let host = t["host"].as_str()?;
                let node = nodes
                    .nodes
                    .iter()
                    .find(|n| n.name == host || n.ip == host)?;
                Some(format!("http://{}:{}/", node.ip, t["ports"][0]))
            })
            .collect();
        if urls.len() == 2 {
            break urls;
        }
        assert!(Instant::now() < deadline, "/probe did not start");
        std::thread::sleep(Duration::from_millis(500));
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let prober = {
        let (stop, sent, failed) = (stop.clone(), sent.clone(), failed.clone());
        std::thread::spawn(move || {
            let plain = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .expect("client");
            while !stop.load(Ordering::SeqCst) {
                for url in &targets {
                    sent.fetch_add(1, Ordering::SeqCst);
                    if !plain.get(url).send().is_ok_and(|r| r.status().is_success()) {
                        failed.fetch_add(1, Ordering::SeqCst);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };

    let parts: Vec<u64> = strato_bundle::VERSION
        .split('.')
        .map(|p| p.parse().expect("numeric version"))
        .collect();
    let bins = dir.path().join("bins");
    std::fs::create_dir_all(&bins).expect("bins");
    for name in ["strato-master", "strato-agent", "strato-bootstrap"] {
        let bytes = strato_bundle::read_entry(&a, &format!("bin/{name}")).expect("binary");
        std::fs::write(bins.join(name), bytes).expect("write");
        std::fs::set_permissions(
            bins.join(name),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod");
    }
    let mut phase_names: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for n in 1..=upgrades {
        let version = format!("{}.{}.0", parts[0], parts[1] + n);
        let made = common::strato()
            .args(["bundle", "--bin-dir"])
            .arg(&bins)
            .args(["--version", &version, "--out-dir"])
            .arg(&out)
            .output()
            .expect("strato bundle --version");
        assert!(made.status.success(), "strato bundle --version {version}");
        let bundle = out.join(strato_bundle::file_name(
            &version,
            &strato_bundle::default_target(),
        ));
        let failed_before = failed.load(Ordering::SeqCst);
        let started = Instant::now();
        let run = strato(
            &[
                "upgrade",
                "--yes",
                "-o",
                "json",
                "--bundle",
                bundle.to_str().expect("utf-8"),
            ],
            &config,
        );
        let wall = started.elapsed();
        assert!(
            run.status.success(),
            "upgrade to {version} failed: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        // Each phase from its start to its end, by the server's clock.
        let mut starts = BTreeMap::new();
        let mut phases = BTreeMap::new();
        for line in String::from_utf8_lossy(&run.stdout).lines() {
            let Ok(event) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let (Some(phase), Some(at)) = (event["phase"].as_str(), event["at_ms"].as_u64()) else {
                continue;
            };
            if event["host"].is_string() {
                continue;
            }
            match event["event"].as_str() {
                Some("phase_started") => {
                    starts.insert(phase.to_string(), at);
                    if !phase_names.iter().any(|p| p == phase) {
                        phase_names.push(phase.to_string());
                    }
                }
                Some("phase_finished") => {
                    if let Some(start) = starts.get(phase) {
                        phases.insert(phase.to_string(), at.saturating_sub(*start));
                    }
                }
                _ => {}
            }
        }
        rows.push((
            version,
            wall,
            phases,
            failed.load(Ordering::SeqCst) - failed_before,
        ));
    }
    stop.store(true, Ordering::SeqCst);
    prober.join().expect("prober");

    println!("| upgrade to | `strato upgrade` wall time | failed probes |");
    println!("|---|---:|---:|");
    for (version, wall, _, failed) in &rows {
        println!("| {version} | {:.1} s | {failed} |", wall.as_secs_f64());
    }
    println!();
    print!("| phase |");
    for (version, ..) in &rows {
        print!(" {version} |");
    }
    println!();
    print!("|---|");
    for _ in &rows {
        print!("---:|");
    }
    println!();
    for phase in &phase_names {
        print!("| {phase} |");
        for (_, _, phases, _) in &rows {
            match phases.get(phase) {
                Some(ms) => print!(" {:.1} s |", *ms as f64 / 1000.0),
                None => print!(" – |"),
            }
        }
        println!();
    }
    println!(
        "\n{} probes in all, {} failed",
        sent.load(Ordering::SeqCst),
        failed.load(Ordering::SeqCst)
    );
}
