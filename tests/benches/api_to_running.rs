//! API-to-running latency with real processes: a release `strato up --local` on free loopback
//! ports, one app at a time posted to the Marathon API (`sleep` as the task), timed from the POST
//! until `/v2/apps/{id}/tasks` reports the task `TASK_RUNNING`, as a command task and as a Docker
//! container of a cached image; then the cluster process's RSS and CPU with 100 running tasks of
//! each kind. Prints tables; asserts nothing about speed (docs/benchmarks.md records the figures).
//!
//! `cargo bench -p strato-tests --bench api_to_running` (STRATO_BENCH_APPS=N to change the count).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn main() {
    let apps: usize = std::env::var("STRATO_BENCH_APPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let strato = build_release_strato();
    let data = tempfile::tempdir().expect("temp data dir");
    let marathon = free_port();
    let mut cluster = Cluster::start(&strato, data.path(), marathon);
    let http = strato_tls::blocking_client_builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .expect("http client");
    let base = format!("http://127.0.0.1:{marathon}");
    wait(
        Duration::from_secs(60),
        "the local cluster to register its agent",
        || {
            let state: Value = http
                .get(format!("{base}/master/state"))
                .send()
                .ok()?
                .json()
                .ok()?;
            let agents = state["slaves"].as_array()?;
            (!agents.is_empty()).then_some(())
        },
    );

    let command = latencies(
        &http,
        &base,
        apps,
        |id| json!({"id": id, "cmd": "sleep 600", "cpus": 0.01, "mem": 16, "instances": 1}),
    );
    // The same app in a container of a cached image (tests/container-image.sh makes it).
    let made = Command::new("sh")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("container-image.sh"))
        .arg(IMAGE)
        .status()
        .expect("sh tests/container-image.sh");
    assert!(made.success(), "the container image");
    let container = latencies(&http, &base, apps, |id| {
        json!({"id": id, "cmd": "sleep 600", "cpus": 0.01, "mem": 16, "instances": 1,
               "container": {"type": "DOCKER", "docker": {"image": IMAGE}}})
    });
    let pid = cluster.child.id();
    let steady_command = steady(
        &http,
        &base,
        pid,
        json!({"id": "/steady/command",
        "cmd": "sleep 600", "cpus": 0.01, "mem": 8, "instances": STEADY}),
    );
    let steady_container = steady(
        &http,
        &base,
        pid,
        json!({"id": "/steady/container",
        "cmd": "sleep 600", "cpus": 0.01, "mem": 8, "instances": STEADY,
        "container": {"type": "DOCKER", "docker": {"image": IMAGE}}}),
    );
    cluster.stop();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("API-to-running latency, strato up --local (release), {apps} apps of 1 instance, sequential");
    println!(
        "{:<12}{:>14}{:>14}",
        "measure", "command ms", "container ms"
    );
    for (name, q) in [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("max", 1.0)] {
        println!(
            "{name:<12}{:>14.1}{:>14.1}",
            ms(pick(&command, q)),
            ms(pick(&container, q))
        );
    }
    println!();
    println!(
        "strato up --local (master + agent) with {STEADY} running tasks, over {} s",
        STEADY_FOR.as_secs()
    );
    println!("{:<12}{:>12}{:>12}", "tasks", "RSS MiB", "CPU %");
    for (name, (rss, cpu)) in [("command", steady_command), ("container", steady_container)] {
        println!("{name:<12}{rss:>12.1}{cpu:>12.2}");
    }
}

const IMAGE: &str = "strato-test-busybox:1";
/// Tasks kept running for the footprint measurement.
const STEADY: u64 = 100;
const STEADY_FOR: Duration = Duration::from_secs(20);

fn pick(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

/// Posts `apps` apps one at a time, each timed until its task runs; sorted latencies.
fn latencies(
    http: &reqwest::blocking::Client,
    base: &str,
    apps: usize,
    app: impl Fn(&str) -> Value,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(apps);
    for i in 0..apps {
        let id = format!("/bench/app-{i}");
        let started = Instant::now();
        let response = http
            .post(format!("{base}/v2/apps"))
            .json(&app(&id))
            .send()
            .expect("POST /v2/apps");
        assert_eq!(
            response.status().as_u16(),
            201,
            "POST {id}: {:?}",
            response.text()
        );
        wait(Duration::from_secs(60), "the task to run", || {
            let tasks: Value = http
                .get(format!("{base}/v2/apps{id}/tasks"))
                .send()
                .ok()?
                .json()
                .ok()?;
            let running = tasks["tasks"]
                .as_array()?
                .iter()
                .any(|t| t["state"] == "TASK_RUNNING");
            running.then_some(())
        });
        latencies.push(started.elapsed());
        let _ = http.delete(format!("{base}/v2/apps{id}?force=true")).send();
    }
    latencies.sort();
    latencies
}

/// Runs `app` until all its tasks run, then measures the cluster process's RSS (MiB) and CPU
/// use (% of one core) over [`STEADY_FOR`]; removes the app after.
fn steady(http: &reqwest::blocking::Client, base: &str, pid: u32, app: Value) -> (f64, f64) {
    let id = app["id"].as_str().expect("id").to_string();
    let response = http
        .post(format!("{base}/v2/apps"))
        .json(&app)
        .send()
        .expect("POST");
    assert_eq!(response.status().as_u16(), 201, "{:?}", response.text());
    wait(
        Duration::from_secs(300),
        "every steady task running",
        || {
            let body: Value = http
                .get(format!("{base}/v2/apps{id}"))
                .send()
                .ok()?
                .json()
                .ok()?;
            (body["app"]["tasksRunning"].as_u64()? == STEADY).then_some(())
        },
    );
    let cpu = |pid: u32| -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
            + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        ticks / 100.0
    };
    let before = cpu(pid);
    std::thread::sleep(STEADY_FOR);
    let used = cpu(pid) - before;
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0;
    let _ = http.delete(format!("{base}/v2/apps{id}?force=true")).send();
    wait(Duration::from_secs(120), "the steady tasks gone", || {
        let body: Value = http
            .get(format!("{base}/v2/tasks"))
            .send()
            .ok()?
            .json()
            .ok()?;
        body["tasks"].as_array()?.is_empty().then_some(())
    });
    (rss, used / STEADY_FOR.as_secs_f64() * 100.0)
}

struct Cluster {
    child: Child,
}

impl Cluster {
    fn start(strato: &PathBuf, data_dir: &std::path::Path, marathon: u16) -> Cluster {
        let task_low = 42000 + (std::process::id() % 1000) as u16 * 10;
        let child = Command::new(strato)
            .args(["up", "--local", "--data-dir"])
            .arg(data_dir)
            .args(["--marathon-port", &marathon.to_string()])
            .args(["--mesos-port", &marathon.to_string()])
            .args(["--agent-port", &free_port().to_string()])
            .args(["--dns-port", &free_port().to_string()])
            .args(["--task-ports", &format!("{task_low}-{}", task_low + 500)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn strato up --local");
        Cluster { child }
    }

    /// SIGTERM, so the cluster stops its tasks; then wait for it.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

fn build_release_strato() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "strato",
            "--bin",
            "strato",
        ])
        .current_dir(&root)
        .status()
        .expect("run cargo build --release");
    assert!(
        status.success(),
        "building the release strato binary failed"
    );
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join("release").join("strato")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// Poll `check` every 2 ms until it answers, or panic naming `what` after `within`.
fn wait(within: Duration, what: &str, mut check: impl FnMut() -> Option<()>) {
    let deadline = Instant::now() + within;
    while check().is_none() {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}
