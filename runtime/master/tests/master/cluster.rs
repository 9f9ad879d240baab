//! A master on 127.0.0.1 (random ports) with fake agents, plus polling helpers.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use strato_master::{Master, MasterConfig};
use strato_proto::{AgentInfo, Heartbeat, HeartbeatAck, PortRange, RegisterAgent, Resources};
use strato_store::{RedbStore, Store};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::agents::FakeAgents;

pub struct Cluster {
    pub mesos: String,
    pub marathon: String,
    /// `https://127.0.0.1:<port>` when the config asks for the gateway.
    pub gateway: Option<String>,
    pub http: reqwest::Client,
    pub agents: Arc<FakeAgents>,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
    heartbeats: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

pub fn test_config(dir: &Path) -> MasterConfig {
    MasterConfig {
        data_dir: dir.to_path_buf(),
        bind: "127.0.0.1".into(),
        mesos_port: 0,
        marathon_port: 0,
        dns_port: 0,
        agent_timeout_seconds: 2,
        heartbeat_interval_seconds: 1,
        reconcile_interval_ms: 50,
        ..MasterConfig::default()
    }
}

impl Cluster {
    /// A master on a redb store in `dir`.
    pub async fn start(dir: &Path) -> Cluster {
        Self::start_with(test_config(dir)).await
    }

    pub async fn start_with(config: MasterConfig) -> Cluster {
        Self::start_with_agents(config, FakeAgents::new()).await
    }

    /// A master that calls `agents`, which may already run tasks (a master replaced under them).
    pub async fn start_with_agents(config: MasterConfig, agents: Arc<FakeAgents>) -> Cluster {
        std::fs::create_dir_all(&config.data_dir).expect("data dir");
        let store: Arc<dyn Store> =
            Arc::new(RedbStore::open(&config.data_dir.join("state.redb")).expect("open store"));
        let listeners = strato_master::bind(&config).await.expect("bind");
        let mesos = format!("http://{}", listeners.mesos_addr().expect("mesos addr"));
        let marathon = format!(
            "http://{}",
            listeners.marathon_addr().expect("marathon addr")
        );
        let gateway = listeners
            .gateway
            .as_ref()
            .and_then(|g| g.https_addr())
            .map(|addr| format!("https://{addr}"));
        agents.set_master(&mesos);
        let master = Master::new(config, store, agents.clone())
            .await
            .expect("master");
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            strato_master::serve(master, listeners, async {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
        Cluster {
            mesos,
            marathon,
            gateway,
            http: strato_tls::client(),
            agents,
            stop: Some(stop),
            handle: Some(handle),
            heartbeats: Default::default(),
        }
    }

    /// Stops the master and waits until its listeners are closed.
    pub async fn stop(mut self) {
        for heartbeat in self.heartbeats.lock().expect("lock").drain(..) {
            heartbeat.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.expect("master task");
        }
    }

    /// Registers a fake agent with 4 cpus, 4 GiB and ports 31000–31100.
    pub async fn add_agent(&self, id: &str, role: &str, attributes: &[(&str, &str)]) {
        self.add_agent_with_engine(id, role, attributes, Some("docker test"))
            .await;
    }

    /// [`Cluster::add_agent`] with the container engine it advertises (`None`: none).
    pub async fn add_agent_with_engine(
        &self,
        id: &str,
        role: &str,
        attributes: &[(&str, &str)],
        engine: Option<&str>,
    ) {
        let port = self.agents.add(id);
        let agent = AgentInfo {
            id: id.into(),
            hostname: format!("{id}.example"),
            address: "127.0.0.1".into(),
            port,
            resources: Resources {
                cpus: 4.0,
                mem: 4096.0,
                disk: 10_000.0,
                ports: vec![PortRange {
                    begin: 31000,
                    end: 31100,
                }],
            },
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            role: role.into(),
            version: "test".into(),
            container_engine: engine.map(str::to_string),
        };
        register(&self.http, &self.mesos, &self.agents, &agent).await;
        let (http, mesos, agents, id) = (
            self.http.clone(),
            self.mesos.clone(),
            self.agents.clone(),
            id.to_string(),
        );
        let heartbeat = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if agents.is_silenced(&id) {
                    continue;
                }
                let beat = Heartbeat {
                    agent_id: id.clone(),
                    tasks: agents.statuses(&id),
                };
                let Ok(response) = http
                    .post(format!("{mesos}{}", strato_proto::PATH_HEARTBEAT))
                    .json(&beat)
                    .send()
                    .await
                else {
                    continue;
                };
                if let Ok(ack) = response.json::<HeartbeatAck>().await {
                    if !ack.known {
                        register(&http, &mesos, &agents, &agent).await;
                    }
                }
            }
        });
        self.heartbeats.lock().expect("lock").push(heartbeat);
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.marathon))
            .header("Accept", "application/json")
            .send()
            .await
            .expect("get");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.marathon));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

async fn register(http: &reqwest::Client, mesos: &str, agents: &FakeAgents, agent: &AgentInfo) {
    let response = http
        .post(format!("{mesos}{}", strato_proto::PATH_REGISTER))
        .json(&RegisterAgent {
            agent: agent.clone(),
            tasks: agents.statuses(&agent.id),
        })
        .send()
        .await
        .expect("register");
    assert!(response.status().is_success());
}

/// Polls `check` until it returns `Some`, failing after `seconds`.
pub async fn eventually<T, F, Fut>(seconds: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The app's tasks as `/v2/apps/{id}/tasks` shows them.
pub async fn tasks_of(cluster: &Cluster, app: &str) -> Vec<Value> {
    let (_, body) = cluster.get(&format!("/v2/apps{app}/tasks")).await;
    body["tasks"].as_array().cloned().unwrap_or_default()
}

/// Waits until `app` has exactly `n` running tasks and no deployment.
pub async fn wait_running(cluster: &Cluster, app: &str, n: usize) -> Vec<Value> {
    eventually(10, &format!("{n} running tasks of {app}"), || async {
        let (_, body) = cluster.get(&format!("/v2/apps{app}")).await;
        let tasks = body["app"]["tasks"].as_array().cloned().unwrap_or_default();
        let running = tasks
            .iter()
            .filter(|t| t["state"] == "TASK_RUNNING")
            .count();
        let deployments = body["app"]["deployments"].as_array().map_or(0, Vec::len);
        (running == n && tasks.len() == n && deployments == 0).then_some(tasks)
    })
    .await
}
