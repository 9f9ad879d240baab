//! Shared helpers: a fake master recording what the agent sends, an agent on a temp work dir,
//! and polling with deadlines.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use strato_agent::{Agent, AgentConfig, LauncherChoice};
use strato_proto::{
    Heartbeat, HeartbeatAck, LaunchTask, RegisterAgent, Registered, StatusUpdate, TaskState,
    TaskStatus, PATH_HEARTBEAT, PATH_REGISTER, PATH_STATUS,
};

pub const DEADLINE: Duration = Duration::from_secs(20);

#[derive(Default)]
pub struct Recorded {
    pub registrations: Vec<RegisterAgent>,
    pub heartbeats: Vec<Heartbeat>,
    pub updates: Vec<StatusUpdate>,
}

#[derive(Clone)]
pub struct FakeMaster {
    pub addr: SocketAddr,
    pub recorded: Arc<Mutex<Recorded>>,
    /// What heartbeats are answered with.
    pub known: Arc<AtomicBool>,
}

impl FakeMaster {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("addr")).await
    }

    pub async fn start_on(bind: SocketAddr) -> Self {
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let known = Arc::new(AtomicBool::new(true));
        let app = Router::new()
            .route(PATH_REGISTER, post(register))
            .route(PATH_HEARTBEAT, post(heartbeat))
            .route(PATH_STATUS, post(status))
            .with_state((recorded.clone(), known.clone()));
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .expect("bind fake master");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Self {
            addr,
            recorded,
            known,
        }
    }

    pub fn with<T>(&self, f: impl FnOnce(&Recorded) -> T) -> T {
        f(&self.recorded.lock().expect("lock"))
    }

    /// The states pushed for one task, in order, repeats removed.
    pub fn states_of(&self, task_id: &str) -> Vec<TaskState> {
        self.with(|r| {
            let mut states: Vec<TaskState> = r
                .updates
                .iter()
                .filter(|u| u.status.task_id == task_id)
                .map(|u| u.status.state)
                .collect();
            states.dedup();
            states
        })
    }
}

type MasterState = (Arc<Mutex<Recorded>>, Arc<AtomicBool>);

async fn register(
    State((rec, known)): State<MasterState>,
    Json(r): Json<RegisterAgent>,
) -> Json<Registered> {
    let agent_id = r.agent.id.clone();
    rec.lock().expect("lock").registrations.push(r);
    known.store(true, Ordering::SeqCst);
    Json(Registered {
        agent_id,
        heartbeat_interval_ms: 100,
    })
}

async fn heartbeat(
    State((rec, known)): State<MasterState>,
    Json(h): Json<Heartbeat>,
) -> Json<HeartbeatAck> {
    rec.lock().expect("lock").heartbeats.push(h);
    Json(HeartbeatAck {
        known: known.load(Ordering::SeqCst),
    })
}

async fn status(
    State((rec, _)): State<MasterState>,
    Json(u): Json<StatusUpdate>,
) -> axum::http::StatusCode {
    rec.lock().expect("lock").updates.push(u);
    axum::http::StatusCode::NO_CONTENT
}

pub fn config(master: &FakeMaster, work_dir: &Path, stop_tasks: bool) -> AgentConfig {
    AgentConfig {
        masters: vec![master.addr.to_string()],
        advertise_ip: "127.0.0.1".into(),
        bind: "127.0.0.1".into(),
        port: 0,
        work_dir: work_dir.to_path_buf(),
        stop_tasks_on_shutdown: stop_tasks,
        launcher: LauncherChoice::Process,
        // No container engine, whatever the machine has: the tests say what a plain agent does.
        container_engine: "none".into(),
        ..AgentConfig::default()
    }
}

/// An agent with its own work dir, talking to its own fake master.
pub struct Harness {
    pub master: FakeMaster,
    pub work: tempfile::TempDir,
    pub agent: Option<Agent>,
    pub http: reqwest::Client,
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`Harness::start`] with a config adjusted by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut AgentConfig)) -> Self {
        let master = FakeMaster::start().await;
        let work = tempfile::tempdir().expect("work dir");
        let mut cfg = config(&master, work.path(), true);
        adjust(&mut cfg);
        let agent = Agent::start(cfg).await.expect("agent starts");
        Self {
            master,
            work,
            agent: Some(agent),
            http: strato_tls::client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        let addr = self.agent.as_ref().expect("agent running").local_addr();
        format!("http://{addr}{path}")
    }

    pub fn sandbox(&self, task_id: &str) -> PathBuf {
        self.work.path().join("sandboxes").join(task_id)
    }

    pub async fn launch(&self, task: &LaunchTask) -> reqwest::StatusCode {
        self.http
            .post(self.url("/v1/tasks"))
            .json(task)
            .send()
            .await
            .expect("launch request")
            .status()
    }

    pub async fn kill(&self, task_id: &str, grace: Option<u64>) -> reqwest::StatusCode {
        self.http
            .post(self.url(&format!("/v1/tasks/{task_id}/kill")))
            .json(&serde_json::json!({ "grace_period_seconds": grace }))
            .send()
            .await
            .expect("kill request")
            .status()
    }

    pub async fn tasks(&self) -> Vec<TaskStatus> {
        self.http
            .get(self.url("/v1/tasks"))
            .send()
            .await
            .expect("list request")
            .json()
            .await
            .expect("task list json")
    }

    pub async fn task(&self, task_id: &str) -> Option<TaskStatus> {
        self.tasks()
            .await
            .into_iter()
            .find(|t| t.task_id == task_id)
    }

    /// Polls the agent's task list until `task_id` satisfies `pred`.
    pub async fn wait_task(
        &self,
        task_id: &str,
        what: &str,
        pred: impl Fn(&TaskStatus) -> bool,
    ) -> TaskStatus {
        eventually(what, || async {
            self.task(task_id).await.filter(|t| pred(t))
        })
        .await
    }

    pub async fn wait_state(&self, task_id: &str, state: TaskState) -> TaskStatus {
        self.wait_task(task_id, state.as_str(), |t| t.state == state)
            .await
    }

    pub async fn stop(&mut self) {
        if let Some(agent) = self.agent.take() {
            agent.stop().await;
        }
    }
}

/// Polls `probe` every 50 ms until it yields a value; panics naming `what` after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn task(id: &str, cmd: &str) -> LaunchTask {
    let env: BTreeMap<String, String> = [
        ("PORT0", "31001"),
        ("PORTS", "31001"),
        ("HOST", "127.0.0.1"),
        ("MARATHON_APP_ID", "/test/app"),
        ("MESOS_TASK_ID", id),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    LaunchTask {
        task_id: id.to_string(),
        app_id: "/test/app".into(),
        app_version: "2026-01-01T00:00:00.000Z".into(),
        cmd: Some(cmd.to_string()),
        args: None,
        env,
        cpus: 0.1,
        mem: 32.0,
        disk: 0.0,
        ports: vec![31001],
        health_checks: vec![],
        kill_grace_period_seconds: 3,
        docker_image: None,
        container: None,
        fetch: Vec::new(),
        user: None,
    }
}

/// A port nothing listens on right now (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

pub fn process_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s
                .rsplit_once(')')
                .map(|(_, r)| r.trim_start().chars().next());
            !matches!(state, Some(Some('Z' | 'X')))
        })
        .unwrap_or(false)
}
