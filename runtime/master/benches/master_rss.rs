//! Master footprint: the real `strato-master` binary with 100 simulated agents (one tiny HTTP
//! server each, speaking strato-proto) and 1,000 tasks, once on the embedded redb store (one
//! master) and once on etcd (a real one-member etcd on loopback, as 3+ masters keep their state).
//! Prints RSS, time to running, API-to-running latency of single apps and API read latency as a
//! table with one column per store.
//!
//! `cargo bench -p strato-master --bench master_rss`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use strato_proto::{
    AgentInfo, Heartbeat, KillTask, LaunchTask, PortRange, RegisterAgent, Resources, TaskStatus,
};

mod common;

use common::{free_port, proc_field, wait_for};

const AGENTS: usize = 100;
const APPS: usize = 10;
const PER_APP: usize = 100;

struct FakeAgent {
    id: String,
    master: String,
    http: reqwest::Client,
    tasks: Mutex<Vec<TaskStatus>>,
}

async fn launch(State(agent): State<Arc<FakeAgent>>, Json(task): Json<LaunchTask>) -> StatusCode {
    let status = common::running(task, &agent.id, &agent.http, &agent.master);
    agent.tasks.lock().expect("lock").push(status);
    StatusCode::ACCEPTED
}

async fn kill(
    State(agent): State<Arc<FakeAgent>>,
    Path(task_id): Path<String>,
    Json(_): Json<KillTask>,
) -> StatusCode {
    agent
        .tasks
        .lock()
        .expect("lock")
        .retain(|t| t.task_id != task_id);
    StatusCode::ACCEPTED
}

/// What one run measured.
struct Figures {
    rss_empty: Option<u64>,
    rss_agents: Option<u64>,
    rss_tasks: Option<u64>,
    to_running: Duration,
    single: Vec<Duration>,
    reads: Vec<Duration>,
    states: Vec<Duration>,
}

/// Single-instance apps posted one after another, each timed to TASK_RUNNING.
const SINGLE_APPS: usize = 50;

#[tokio::main]
async fn main() {
    let redb = measure(None).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let etcd = strato_etcd::testing::cluster(dir.path(), 1);
    let on_etcd = measure(Some(etcd[0].client_url.clone())).await;
    report(&redb, &on_etcd);
}

async fn measure(etcd: Option<String>) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mesos_port, marathon_port) = (free_port(), free_port());
    let config = dir.path().join("master.toml");
    let endpoints = etcd.map(|url| format!("\"{url}\"")).unwrap_or_default();
    std::fs::write(&config, format!("etcd_endpoints = [{endpoints}]\n")).expect("master.toml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_strato-master"))
        .arg("--config")
        .arg(&config)
        .args([
            "--data-dir",
            &dir.path().display().to_string(),
            "--dns-port",
            "0",
        ])
        .args([
            "--mesos-port",
            &mesos_port.to_string(),
            "--marathon-port",
            &marathon_port.to_string(),
        ])
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("start strato-master (build it first)");
    let pid = child.id();
    let mesos = format!("http://127.0.0.1:{mesos_port}");
    let marathon = format!("http://127.0.0.1:{marathon_port}");
    let http = strato_tls::client();
    // Up, and leading (on etcd the master campaigns first).
    wait_for("the master", 30, Duration::from_millis(50), || async {
        let Ok(response) = http.get(format!("{marathon}/strato/v1/ha")).send().await else {
            return false;
        };
        response
            .json::<Value>()
            .await
            .is_ok_and(|ha| ha["role"] == "leader")
    })
    .await;
    let rss_empty = proc_field(pid, "VmRSS:");

    let mut agents = Vec::new();
    for i in 0..AGENTS {
        let agent = Arc::new(FakeAgent {
            id: format!("sim-{i}"),
            master: mesos.clone(),
            http: http.clone(),
            tasks: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind agent");
        let port = listener.local_addr().expect("addr").port();
        let router = Router::new()
            .route(strato_proto::PATH_TASKS, post(launch))
            .route(
                &format!("{}/{{task_id}}/kill", strato_proto::PATH_TASKS),
                post(kill),
            )
            .with_state(Arc::clone(&agent));
        tokio::spawn(async move { axum::serve(listener, router).await });
        let info = AgentInfo {
            id: agent.id.clone(),
            hostname: format!("sim-{i}.example"),
            address: "127.0.0.1".into(),
            port,
            resources: Resources {
                cpus: 16.0,
                mem: 65536.0,
                disk: 100_000.0,
                ports: vec![PortRange {
                    begin: 31000,
                    end: 32000,
                }],
            },
            attributes: Default::default(),
            role: "*".into(),
            version: "bench".into(),
            container_engine: None,
        };
        http.post(format!("{mesos}{}", strato_proto::PATH_REGISTER))
            .json(&RegisterAgent {
                agent: info,
                tasks: Vec::new(),
            })
            .send()
            .await
            .expect("register");
        let beat = Arc::clone(&agent);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let tasks = beat.tasks.lock().expect("lock").clone();
                let heartbeat = Heartbeat {
                    agent_id: beat.id.clone(),
                    tasks,
                };
                let _ = beat
                    .http
                    .post(format!("{}{}", beat.master, strato_proto::PATH_HEARTBEAT))
                    .json(&heartbeat)
                    .send()
                    .await;
            }
        });
        agents.push(agent);
    }
    let rss_agents = proc_field(pid, "VmRSS:");

    let started = Instant::now();
    common::post_apps(&http, &marathon, APPS, PER_APP, 0.01, 8.0).await;
    let total = APPS * PER_APP;
    wait_for(
        "all tasks running",
        120,
        Duration::from_millis(50),
        || async {
            let Ok(response) = http
                .get(format!("{marathon}/v2/tasks?status=running"))
                .send()
                .await
            else {
                return false;
            };
            let body: Value = response.json().await.unwrap_or(Value::Null);
            body["tasks"].as_array().map_or(0, Vec::len) == total
        },
    )
    .await;
    let to_running = started.elapsed();
    wait_for(
        "deployments to finish",
        60,
        Duration::from_millis(50),
        || async {
            let Ok(response) = http.get(format!("{marathon}/v2/deployments")).send().await else {
                return false;
            };
            response
                .json::<Value>()
                .await
                .ok()
                .and_then(|v| v.as_array().map(Vec::is_empty))
                .unwrap_or(false)
        },
    )
    .await;
    let rss_tasks = proc_field(pid, "VmRSS:");

    let mut reads = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let body: Value = http
            .get(format!("{marathon}/v2/apps?embed=apps.tasks"))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        reads.push(t.elapsed());
        assert_eq!(body["apps"].as_array().map_or(0, Vec::len), APPS);
    }
    reads.sort();
    let mut states = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        http.get(format!("{mesos}/master/state"))
            .send()
            .await
            .expect("state")
            .bytes()
            .await
            .expect("body");
        states.push(t.elapsed());
    }
    states.sort();
    let mut single = Vec::new();
    for a in 0..SINGLE_APPS {
        let id = format!("/single/app-{a}");
        let app = json!({"id": id, "cmd": "sleep 1000", "instances": 1, "cpus": 0.01, "mem": 8});
        let t = Instant::now();
        let response = http
            .post(format!("{marathon}/v2/apps"))
            .json(&app)
            .send()
            .await
            .expect("post app");
        assert_eq!(response.status().as_u16(), 201);
        loop {
            let body: Value = http
                .get(format!("{marathon}/v2/apps{id}/tasks"))
                .send()
                .await
                .expect("tasks")
                .json()
                .await
                .unwrap_or(Value::Null);
            let running = body["tasks"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["state"] == "TASK_RUNNING"));
            if running {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "{id} never ran");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        single.push(t.elapsed());
    }
    single.sort();
    let _ = child.kill();
    let _ = child.wait();
    Figures {
        rss_empty,
        rss_agents,
        rss_tasks,
        to_running,
        single,
        reads,
        states,
    }
}

fn report(redb: &Figures, etcd: &Figures) {
    let mib =
        |kib: Option<u64>| kib.map_or("n/a".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    let p = |v: &[Duration], q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    let total = APPS * PER_APP;
    println!(
        "strato-master with {AGENTS} simulated agents and {total} tasks ({APPS} apps x {PER_APP})"
    );
    println!("{:<56} {:>10} {:>10}", "measure", "redb", "etcd");
    let row = |name: String, f: &dyn Fn(&Figures) -> String| {
        println!("{name:<56} {:>10} {:>10}", f(redb), f(etcd));
    };
    row("RSS, empty master (MiB)".into(), &|f| mib(f.rss_empty));
    row(format!("RSS, {AGENTS} agents registered (MiB)"), &|f| {
        mib(f.rss_agents)
    });
    row(
        format!("RSS, {AGENTS} agents + {total} running tasks (MiB)"),
        &|f| mib(f.rss_tasks),
    );
    row(
        format!("POST {APPS} apps -> {total} tasks TASK_RUNNING (ms)"),
        &|f| ms(f.to_running),
    );
    row(
        format!("POST one app -> TASK_RUNNING p50 (ms, {SINGLE_APPS} apps)"),
        &|f| ms(p(&f.single, 0.5)),
    );
    row(
        format!("POST one app -> TASK_RUNNING p99 (ms, {SINGLE_APPS} apps)"),
        &|f| ms(p(&f.single, 0.99)),
    );
    row("GET /v2/apps?embed=apps.tasks p50 (ms)".into(), &|f| {
        ms(p(&f.reads, 0.5))
    });
    row(
        "GET /v2/apps?embed=apps.tasks p99 (ms, of 20)".into(),
        &|f| ms(p(&f.reads, 0.99)),
    );
    row("GET /master/state p50 (ms)".into(), &|f| {
        ms(p(&f.states, 0.5))
    });
}
