//! Three masters on a real three-member etcd (loopback, one process each) and one real agent;
//! master i and etcd member i stand for node i. Used by the runtime HA tests
//! (tests/it/runtime/ha.rs) and the failover benchmark (tests/benches/failover.rs).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use strato_etcd::testing::{cluster as etcd_cluster, EtcdMember};

use super::bin_path;
use super::cluster::{free_port, wait_until};

pub struct MasterProcess {
    pub marathon: u16,
    dir: PathBuf,
    config: PathBuf,
    child: Option<Child>,
}

impl MasterProcess {
    pub fn start(&mut self) {
        let log = File::create(self.dir.join("master.log")).expect("log");
        let err = log.try_clone().expect("log");
        let child = Command::new(bin_path("strato-master"))
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("spawn strato-master");
        self.child = Some(child);
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.marathon)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("master.log")).unwrap_or_default()
    }
}

impl Drop for MasterProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct Ha {
    pub etcd: Vec<EtcdMember>,
    pub masters: Vec<MasterProcess>,
    agent: Option<Child>,
    agent_log: PathBuf,
    http: reqwest::blocking::Client,
}

impl Drop for Ha {
    fn drop(&mut self) {
        if let Some(mut agent) = self.agent.take() {
            // SIGTERM: the agent stops its tasks (stop_tasks_on_shutdown).
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(agent.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = agent.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = agent.kill();
            let _ = agent.wait();
        }
    }
}

fn write_master_config(
    dir: &Path,
    mesos: u16,
    marathon: u16,
    masters: &str,
    etcd: &str,
) -> PathBuf {
    std::fs::create_dir_all(dir).expect("dir");
    let path = dir.join("master.toml");
    let text = format!(
        "data_dir = \"{}\"\nadvertise_ip = \"127.0.0.1\"\nbind = \"127.0.0.1\"\nmesos_port = {mesos}\n\
         marathon_port = {marathon}\ndns_port = {dns}\nresolvers = []\nmasters = [{masters}]\n\
         etcd_endpoints = [{etcd}]\nagent_timeout_seconds = 20\nheartbeat_interval_seconds = 1\n\
         reconcile_interval_ms = 200\nelection_ttl_seconds = {ttl}\n",
        dir.join("data").display(),
        // No DNS: one port fewer to race for (DNS is checked on real nodes, tests/it/deploy/ha.rs).
        dns = 0,
        // The benchmark measures other lease lengths (tests/benches/failover.rs).
        ttl = std::env::var("STRATO_TEST_ELECTION_TTL").unwrap_or_else(|_| "1".into()),
    );
    std::fs::write(&path, text).expect("write master.toml");
    path
}

impl Ha {
    pub fn start(dir: &Path) -> Ha {
        let etcd = etcd_cluster(dir, 3);
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let master_list: Vec<String> = ports
            .iter()
            .map(|(mesos, _)| format!("\"127.0.0.1:{mesos}\""))
            .collect();
        let masters = ports
            .iter()
            .enumerate()
            .map(|(i, (mesos, marathon))| {
                let dir = dir.join(format!("master-{i}"));
                let config = write_master_config(
                    &dir,
                    *mesos,
                    *marathon,
                    &master_list.join(", "),
                    // Master i and etcd member i stand for one node: each master talks to the
                    // member beside it, as a deployed master does (strato_etcd::prefer_local).
                    &format!("\"{}\"", etcd[i].client_url),
                );
                let mut master = MasterProcess {
                    marathon: *marathon,
                    dir,
                    config,
                    child: None,
                };
                master.start();
                master
            })
            .collect();
        let agent_dir = dir.join("agent");
        std::fs::create_dir_all(&agent_dir).expect("agent dir");
        let begin = free_task_ports();
        let agent_toml = agent_dir.join("agent.toml");
        std::fs::write(
            &agent_toml,
            format!(
                "masters = [{}]\nadvertise_ip = \"127.0.0.1\"\nbind = \"127.0.0.1\"\nport = {}\n\
                 work_dir = \"{}\"\nport_range = \"{begin}-{}\"\nstop_tasks_on_shutdown = true\n",
                master_list.join(", "),
                // The agent binds a port the kernel picks and registers it: no race with other
                // processes for a port found free a moment before.
                0,
                agent_dir.join("work").display(),
                begin + 49
            ),
        )
        .expect("agent.toml");
        let log = File::create(agent_dir.join("agent.log")).expect("log");
        let err = log.try_clone().expect("log");
        let agent = Command::new(bin_path("strato-agent"))
            .arg("--config")
            .arg(&agent_toml)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("spawn strato-agent");
        Ha {
            etcd,
            masters,
            agent: Some(agent),
            agent_log: agent_dir.join("agent.log"),
            http: strato_tls::blocking_client_builder()
                .timeout(Duration::from_secs(10))
                .no_proxy()
                .build()
                .expect("http client"),
        }
    }

    pub fn send(&self, request: reqwest::blocking::RequestBuilder) -> Option<(u16, Value)> {
        let response = request.send().ok()?;
        let status = response.status().as_u16();
        let text = response.text().unwrap_or_default();
        Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    pub fn get(&self, master: usize, path: &str) -> Option<(u16, Value)> {
        self.send(self.http.get(self.masters[master].url(path)))
    }

    pub fn post(&self, master: usize, path: &str, body: &Value) -> Option<(u16, Value)> {
        self.send(self.http.post(self.masters[master].url(path)).json(body))
    }

    pub fn running(&self) -> Vec<usize> {
        (0..self.masters.len())
            .filter(|i| self.masters[*i].child.is_some())
            .collect()
    }

    /// The leader's index once every running master reports the same single leader.
    pub fn one_leader(&self, within: Duration) -> usize {
        wait_until(within, "one leader every master names", || {
            let mut leaders = Vec::new();
            let mut named = Vec::new();
            for i in self.running() {
                let (_, ha) = self.get(i, "/strato/v1/ha")?;
                if ha["role"] == "leader" {
                    leaders.push(i);
                }
                let (status, leader) = self.get(i, "/v2/leader")?;
                if status != 200 {
                    return None;
                }
                named.push(leader["leader"].as_str()?.to_string());
            }
            let [leader] = leaders[..] else { return None };
            let expected = format!("127.0.0.1:{}", self.masters[leader].marathon);
            named.iter().all(|n| *n == expected).then_some(leader)
        })
    }

    pub fn task_ids(&self, master: usize, app: &str) -> Option<Vec<String>> {
        let (status, body) = self.get(master, &format!("/v2/apps{app}/tasks"))?;
        if status != 200 {
            return None;
        }
        let mut ids: Vec<String> = body["tasks"]
            .as_array()?
            .iter()
            .filter(|t| t["state"] == "TASK_RUNNING")
            .filter_map(|t| t["id"].as_str().map(str::to_string))
            .collect();
        ids.sort();
        Some(ids)
    }

    pub fn task_ports(&self, master: usize, app: &str) -> Vec<u16> {
        let (_, body) = self
            .get(master, &format!("/v2/apps{app}/tasks"))
            .expect("tasks");
        body["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter_map(|t| t["ports"][0].as_u64())
            .map(|p| p as u16)
            .collect()
    }

    pub fn logs(&self) -> String {
        self.masters
            .iter()
            .enumerate()
            .map(|(i, m)| format!("--- master {i}\n{}", m.log()))
            .chain(std::iter::once(format!(
                "--- agent\n{}",
                std::fs::read_to_string(&self.agent_log).unwrap_or_default()
            )))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The first port of 50 consecutive loopback ports free right now (for the agent's tasks),
/// searched from a place that differs between test processes.
fn free_task_ports() -> u32 {
    let start = std::process::id() % 200;
    (0..200)
        .map(|i| 20_000 + ((start + i) % 200) * 50)
        .find(|begin| {
            (*begin..*begin + 50)
                .all(|port| std::net::TcpListener::bind(("127.0.0.1", port as u16)).is_ok())
        })
        .expect("50 free loopback ports between 20000 and 29999")
}

pub fn answers(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(1),
    )
    .is_ok()
}
