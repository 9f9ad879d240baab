//! The master at scale: the real `strato-master` binary (its own process, so its RSS and CPU are
//! its own) with thousands of simulated agents in this process. Each simulated agent speaks the
//! agent protocol over HTTP as a real one does (strato-proto: register, heartbeat with its task
//! list every `heartbeat_interval_seconds`, status updates, launch and kill on a listener
//! own: one listener serves them all, each a hostname), but runs nothing: a launch is answered
//! TASK_RUNNING at once. Prints, per cluster size,
//! POST → all tasks running, the master's RSS and CPU at steady heartbeat load, p50/p99 of the big
//! reads while heartbeats go on, and DNS queries per second.
//!
//! `cargo bench -p strato-master --bench scale` (1,000 then 10,000 agents, 10 tasks per agent in
//! 10 apps); `STRATO_SCALE_AGENTS=1000` runs one size. Placement speed and converged re-plans are
//! the scheduler's bench (`runtime/scheduler/benches/placement.rs`).

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};
use serde_json::{json, Value};
use strato_proto::{
    AgentInfo, Heartbeat, KillTask, LaunchTask, PortRange, RegisterAgent, Resources, TaskStatus,
};

mod common;

use common::{free_port, proc_field, wait_for};

const APPS: usize = 10;
const TASKS_PER_AGENT: usize = 10;
/// How long the steady heartbeat load is measured.
const STEADY: Duration = Duration::from_secs(20);
/// The master's heartbeat interval (its default).
const HEARTBEAT: Duration = Duration::from_secs(5);

struct SimAgent {
    id: String,
    master: String,
    http: reqwest::Client,
    tasks: Mutex<Vec<TaskStatus>>,
    /// Heartbeats this agent sent, and how many the master answered with an error.
    beats: AtomicU64,
    failed_beats: AtomicU64,
}

/// Every simulated agent behind one listener (one port for all, so the bench needs no file
/// descriptor per agent): a launch names its agent in `HOST` (the agent's hostname, which the
/// master puts in every task's environment), a kill by the task's id.
#[derive(Default)]
struct Sims {
    by_host: std::collections::HashMap<String, Arc<SimAgent>>,
    by_task: Mutex<std::collections::HashMap<String, Arc<SimAgent>>>,
}

async fn launch(State(sims): State<Arc<Sims>>, Json(task): Json<LaunchTask>) -> StatusCode {
    let Some(agent) = task
        .env
        .get("HOST")
        .and_then(|h| sims.by_host.get(h))
        .cloned()
    else {
        return StatusCode::NOT_FOUND;
    };
    sims.by_task
        .lock()
        .expect("lock")
        .insert(task.task_id.clone(), Arc::clone(&agent));
    let status = common::running(task, &agent.id, &agent.http, &agent.master);
    agent.tasks.lock().expect("lock").push(status);
    StatusCode::ACCEPTED
}

async fn kill(
    State(sims): State<Arc<Sims>>,
    Path(task_id): Path<String>,
    Json(_): Json<KillTask>,
) -> StatusCode {
    let Some(agent) = sims.by_task.lock().expect("lock").remove(&task_id) else {
        return StatusCode::NOT_FOUND;
    };
    agent
        .tasks
        .lock()
        .expect("lock")
        .retain(|t| t.task_id != task_id);
    StatusCode::ACCEPTED
}

/// User + system CPU seconds the process has used (`/proc/<pid>/stat`, in USER_HZ = 100 ticks).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}

struct Figures {
    agents: usize,
    tasks: usize,
    register: Duration,
    to_running: Duration,
    rss_registered: u64,
    rss_running: u64,
    rss_peak: u64,
    cpu_steady: f64,
    beats_per_second: f64,
    failed_beats: u64,
    apps_embed: Vec<Duration>,
    master_state: Vec<Duration>,
    v2_tasks: Vec<Duration>,
    dns_qps: f64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes: Vec<usize> = match std::env::var("STRATO_SCALE_AGENTS") {
        Ok(n) => vec![n.parse().expect("STRATO_SCALE_AGENTS: a number")],
        Err(_) => vec![1_000, 10_000],
    };
    let mut all = Vec::new();
    for agents in sizes {
        all.push(measure(agents).await);
    }
    report(&all);
}

async fn get_json(http: &reqwest::Client, url: &str) -> Option<Value> {
    http.get(url).send().await.ok()?.json().await.ok()
}

/// Times `n` GETs of `url`, reading the whole body; sorted.
async fn timed_reads(http: &reqwest::Client, url: &str, n: usize) -> Vec<Duration> {
    let mut out = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let body = http
            .get(url)
            .send()
            .await
            .expect("get")
            .bytes()
            .await
            .expect("body");
        assert!(!body.is_empty());
        out.push(t.elapsed());
    }
    out.sort();
    out
}

async fn measure(agent_count: usize) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mesos_port, marathon_port, dns_port) = (free_port(), free_port(), free_port());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_strato-master"))
        .args(["--data-dir", &dir.path().display().to_string()])
        .args(["--dns-port", &dns_port.to_string()])
        .args(["--mesos-port", &mesos_port.to_string()])
        .args(["--marathon-port", &marathon_port.to_string()])
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("start strato-master (build it first)");
    let pid = child.id();
    let mesos = format!("http://127.0.0.1:{mesos_port}");
    let marathon = format!("http://127.0.0.1:{marathon_port}");
    let http = strato_tls::client();
    wait_for("the master", 30, Duration::from_millis(250), || async {
        get_json(&http, &format!("{marathon}/strato/v1/ha"))
            .await
            .is_some_and(|ha| ha["role"] == "leader")
    })
    .await;

    // Register every agent (16 at a time), all behind one listener.
    let started = Instant::now();
    let mut sims = Sims::default();
    let mut agents = Vec::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind agents");
    let port = listener.local_addr().expect("addr").port();
    for i in 0..agent_count {
        let agent = Arc::new(SimAgent {
            id: format!("sim-{i}"),
            master: mesos.clone(),
            http: http.clone(),
            tasks: Mutex::new(Vec::new()),
            beats: AtomicU64::new(0),
            failed_beats: AtomicU64::new(0),
        });
        sims.by_host
            .insert(format!("sim-{i}.example"), Arc::clone(&agent));
        agents.push((agent, port));
    }
    let router = Router::new()
        .route(strato_proto::PATH_TASKS, post(launch))
        .route(
            &format!("{}/{{task_id}}/kill", strato_proto::PATH_TASKS),
            post(kill),
        )
        .with_state(Arc::new(sims));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut registrations =
        futures_util::stream::iter(agents.iter().enumerate().map(|(i, (agent, port))| {
            let info = AgentInfo {
                id: agent.id.clone(),
                hostname: format!("sim-{i}.example"),
                address: "127.0.0.1".into(),
                port: *port,
                resources: Resources {
                    cpus: 32.0,
                    mem: 131_072.0,
                    disk: 100_000.0,
                    ports: vec![PortRange {
                        begin: 31000,
                        end: 32000,
                    }],
                },
                attributes: [("rack".to_string(), format!("r{}", i % 20))].into(),
                role: "*".into(),
                version: "bench".into(),
                container_engine: None,
            };
            let (http, url) = (
                http.clone(),
                format!("{mesos}{}", strato_proto::PATH_REGISTER),
            );
            async move {
                let response = http
                    .post(url)
                    .json(&RegisterAgent {
                        agent: info,
                        tasks: Vec::new(),
                    })
                    .send()
                    .await
                    .expect("register");
                assert!(
                    response.status().is_success(),
                    "register: {}",
                    response.status()
                );
            }
        }))
        .buffer_unordered(16);
    use futures_util::StreamExt;
    while registrations.next().await.is_some() {}
    drop(registrations);
    let register = started.elapsed();
    // Heartbeats, spread evenly over the interval as agents that started at different times.
    for (i, (agent, _)) in agents.iter().enumerate() {
        let agent = Arc::clone(agent);
        let offset = HEARTBEAT.mul_f64(i as f64 / agent_count as f64);
        tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut tick = tokio::time::interval(HEARTBEAT);
            loop {
                tick.tick().await;
                let heartbeat = Heartbeat {
                    agent_id: agent.id.clone(),
                    tasks: agent.tasks.lock().expect("lock").clone(),
                };
                agent.beats.fetch_add(1, Ordering::Relaxed);
                let ok = agent
                    .http
                    .post(format!("{}{}", agent.master, strato_proto::PATH_HEARTBEAT))
                    .json(&heartbeat)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if !ok {
                    agent.failed_beats.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    let rss_registered = proc_field(pid, "VmRSS:").unwrap_or(0);

    // POST the apps, then wait for every task to be TASK_RUNNING.
    let per_app = agent_count * TASKS_PER_AGENT / APPS;
    let started = Instant::now();
    common::post_apps(&http, &marathon, APPS, per_app, 0.1, 64.0).await;
    let total = per_app * APPS;
    wait_for(
        "all tasks running",
        1800,
        Duration::from_millis(250),
        || async {
            let Some(apps) = get_json(&http, &format!("{marathon}/v2/apps")).await else {
                return false;
            };
            let running: u64 = apps["apps"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|app| app["tasksRunning"].as_u64())
                        .sum()
                })
                .unwrap_or(0);
            running as usize == total
        },
    )
    .await;
    let to_running = started.elapsed();
    // One small app DNS can answer for in one UDP packet.
    let probe =
        json!({"id": "/probe", "cmd": "sleep 1000", "instances": 1, "cpus": 0.1, "mem": 16});
    http.post(format!("{marathon}/v2/apps"))
        .json(&probe)
        .send()
        .await
        .expect("post probe");
    wait_for(
        "deployments to finish",
        600,
        Duration::from_millis(250),
        || async {
            get_json(&http, &format!("{marathon}/v2/deployments"))
                .await
                .and_then(|v| v.as_array().map(Vec::is_empty))
                .unwrap_or(false)
        },
    )
    .await;

    // Steady state: every agent heartbeating its tasks, nothing else.
    tokio::time::sleep(HEARTBEAT).await;
    let beats = |agents: &[(Arc<SimAgent>, u16)]| -> (u64, u64) {
        agents.iter().fold((0, 0), |(b, f), (a, _)| {
            (
                b + a.beats.load(Ordering::Relaxed),
                f + a.failed_beats.load(Ordering::Relaxed),
            )
        })
    };
    let (cpu_before, (beats_before, _)) = (cpu_seconds(pid), beats(&agents));
    let t = Instant::now();
    tokio::time::sleep(STEADY).await;
    let elapsed = t.elapsed().as_secs_f64();
    let (beats_after, failed_beats) = beats(&agents);
    let cpu_steady = (cpu_seconds(pid) - cpu_before) / elapsed;
    let beats_per_second = (beats_after - beats_before) as f64 / elapsed;
    let rss_running = proc_field(pid, "VmRSS:").unwrap_or(0);

    // The big reads, while heartbeats go on.
    let apps_embed = timed_reads(&http, &format!("{marathon}/v2/apps?embed=apps.tasks"), 20).await;
    let master_state = timed_reads(&http, &format!("{mesos}/master/state"), 10).await;
    let v2_tasks = timed_reads(&http, &format!("{marathon}/v2/tasks"), 10).await;

    let dns_qps = dns_rate(SocketAddr::from(([127, 0, 0, 1], dns_port))).await;
    let rss_peak = proc_field(pid, "VmHWM:").unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    Figures {
        agents: agent_count,
        tasks: total,
        register,
        to_running,
        rss_registered,
        rss_running,
        rss_peak,
        cpu_steady,
        beats_per_second,
        failed_beats,
        apps_embed,
        master_state,
        v2_tasks,
        dns_qps,
    }
}

/// A queries per second for `probe.marathon.strato.`, 4 clients each waiting for its answer,
/// for 5 seconds.
async fn dns_rate(server: SocketAddr) -> f64 {
    let mut query = Message::query();
    query.add_query(Query::query(
        Name::from_str("probe.marathon.strato.").expect("name"),
        RecordType::A,
    ));
    let bytes = query.to_vec().expect("query bytes");
    let answered = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(5);
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (bytes, answered) = (bytes.clone(), Arc::clone(&answered));
        clients.push(tokio::spawn(async move {
            let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("udp");
            socket.connect(server).await.expect("connect");
            let mut buf = vec![0u8; 4096];
            while Instant::now() < until {
                socket.send(&bytes).await.expect("send");
                let got = tokio::time::timeout(Duration::from_secs(1), socket.recv(&mut buf)).await;
                if let Ok(Ok(n)) = got {
                    let answer = Message::from_vec(&buf[..n]).expect("answer");
                    assert_eq!(
                        answer.answers.len(),
                        1,
                        "probe.marathon.strato has one task"
                    );
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for client in clients {
        client.await.expect("dns client");
    }
    answered.load(Ordering::Relaxed) as f64 / 5.0
}

fn report(all: &[Figures]) {
    let mib = |kib: u64| format!("{:.0}", kib as f64 / 1024.0);
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    let p = |v: &[Duration], q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    println!("strato-master with simulated agents ({TASKS_PER_AGENT} tasks per agent in {APPS} apps, heartbeats every {} s)", HEARTBEAT.as_secs());
    print!("{:<52}", "measure");
    for f in all {
        print!(
            " {:>22}",
            format!("{} agents / {} tasks", f.agents, f.tasks)
        );
    }
    println!();
    let row = |name: &str, value: &dyn Fn(&Figures) -> String| {
        print!("{name:<52}");
        for f in all {
            print!(" {:>22}", value(f));
        }
        println!();
    };
    row("register every agent (s, 16 at a time)", &|f| {
        format!("{:.1}", f.register.as_secs_f64())
    });
    row("POST 10 apps -> all tasks TASK_RUNNING (s)", &|f| {
        format!("{:.1}", f.to_running.as_secs_f64())
    });
    row("RSS, agents registered (MiB)", &|f| mib(f.rss_registered));
    row("RSS, all tasks running (MiB)", &|f| mib(f.rss_running));
    row("RSS, peak (MiB)", &|f| mib(f.rss_peak));
    row("CPU at steady heartbeats (% of one core)", &|f| {
        format!("{:.1}", f.cpu_steady * 100.0)
    });
    row("heartbeats/s answered (failed in total)", &|f| {
        format!("{:.0} ({})", f.beats_per_second, f.failed_beats)
    });
    row("GET /v2/apps?embed=apps.tasks p50 / p99 (ms)", &|f| {
        format!(
            "{} / {}",
            ms(p(&f.apps_embed, 0.5)),
            ms(p(&f.apps_embed, 0.99))
        )
    });
    row("GET /master/state p50 / p99 (ms)", &|f| {
        format!(
            "{} / {}",
            ms(p(&f.master_state, 0.5)),
            ms(p(&f.master_state, 0.99))
        )
    });
    row("GET /v2/tasks p50 / p99 (ms)", &|f| {
        format!("{} / {}", ms(p(&f.v2_tasks, 0.5)), ms(p(&f.v2_tasks, 0.99)))
    });
    row("DNS A queries/s (4 clients)", &|f| {
        format!("{:.0}", f.dns_qps)
    });
}
