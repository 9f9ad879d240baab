//! A `strato up --local` child process on free loopback ports with a temporary data dir, and the
//! polling helpers the runtime tests use instead of sleeps.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::bin_path;

/// How long a local cluster may take to answer after it is started.
pub const START_WITHIN: Duration = Duration::from_secs(90);

/// Polls `check` every 100 ms until it returns `Some`, or panics naming `what` after `within`.
pub fn wait_until<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A loopback port free for both TCP and UDP right now.
pub fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind a tcp port");
        let port = tcp.local_addr().expect("local addr").port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A block of 50 task ports below the kernel's ephemeral range, picked from the process id and the
/// clock so that clusters of tests running in parallel processes rarely share one.
fn task_port_range() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let block = (std::process::id().wrapping_mul(7919) ^ nanos) % 200;
    let begin = 20_000 + block * 50;
    format!("{begin}-{}", begin + 49)
}

/// Ports one cluster listens on.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub marathon: u16,
    pub mesos: u16,
    pub agent: u16,
    pub dns: u16,
}

/// A running `strato up --local`; dropping it stops it (SIGTERM, then SIGKILL).
pub struct LocalCluster {
    child: Option<Child>,
    pub ports: Ports,
    pub data_dir: PathBuf,
    task_ports: String,
    /// Extra environment and arguments of the `strato up` process (kept across a restart).
    env: Vec<(String, String)>,
    args: Vec<String>,
    log: PathBuf,
    http: reqwest::blocking::Client,
}

impl LocalCluster {
    /// Starts a cluster with its state in `data_dir` (which may hold a previous run's state) and
    /// waits until the Marathon API answers and the agent is registered.
    pub fn start(data_dir: &Path) -> Self {
        Self::start_with_env(data_dir, &[])
    }

    /// [`LocalCluster::start`] with more environment for `strato up` (and so its agent).
    pub fn start_with_env(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_with(data_dir, env, &[])
    }

    /// [`LocalCluster::start`] with more environment and arguments for `strato up`.
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Self {
        let ports = Ports {
            marathon: free_port(),
            mesos: free_port(),
            agent: free_port(),
            dns: free_port(),
        };
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let args = args.iter().map(|a| a.to_string()).collect();
        Self::start_on(data_dir, ports, task_port_range(), env, args)
    }

    fn start_on(
        data_dir: &Path,
        ports: Ports,
        task_ports: String,
        env: Vec<(String, String)>,
        args: Vec<String>,
    ) -> Self {
        std::fs::create_dir_all(data_dir).expect("create data dir");
        let log = data_dir.with_extension(format!("{}.log", ports.marathon));
        let out = File::create(&log).expect("create cluster log");
        let err = out.try_clone().expect("clone log handle");
        let child = Command::new(bin_path("strato"))
            .args(["up", "--local", "--data-dir"])
            .arg(data_dir)
            .args(["--marathon-port", &ports.marathon.to_string()])
            .args(["--mesos-port", &ports.mesos.to_string()])
            .args(["--agent-port", &ports.agent.to_string()])
            .args(["--dns-port", &ports.dns.to_string()])
            .args(["--task-ports", &task_ports])
            .args(&args)
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn strato up --local");
        let http = strato_tls::blocking_client_builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .expect("http client");
        let mut cluster = LocalCluster {
            child: Some(child),
            ports,
            data_dir: data_dir.to_path_buf(),
            task_ports,
            env,
            args,
            log,
            http,
        };
        cluster.wait_ready();
        cluster
    }

    /// Stops this cluster and starts another on the same data dir and ports.
    pub fn restart(mut self) -> Self {
        let status = self.stop();
        assert!(
            status.success(),
            "strato up --local exited with {status} on SIGTERM\n{}",
            self.log_text()
        );
        let (data_dir, ports, task_ports, env, args) = (
            self.data_dir.clone(),
            self.ports,
            self.task_ports.clone(),
            self.env.clone(),
            self.args.clone(),
        );
        drop(self);
        Self::start_on(&data_dir, ports, task_ports, env, args)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_WITHIN;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("try_wait"))
            {
                panic!(
                    "strato up --local exited early with {status}\n{}",
                    self.log_text()
                );
            }
            let ping = self
                .http
                .get(self.marathon_url("/ping"))
                .send()
                .map(|r| r.status().is_success());
            if ping.unwrap_or(false) && self.agent_count() > 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "strato up --local did not answer within {START_WITHIN:?}\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Agents the master counts as active (a restarted master also lists the previous run's).
    fn agent_count(&self) -> usize {
        self.http
            .get(self.mesos_url("/master/state"))
            .send()
            .ok()
            .and_then(|r| r.json::<Value>().ok())
            .and_then(|s| {
                let agents = s["slaves"].as_array()?;
                Some(
                    agents
                        .iter()
                        .filter(|a| a["active"] == Value::Bool(true))
                        .count(),
                )
            })
            .unwrap_or(0)
    }

    /// Sends SIGTERM and waits (with a deadline) for the process to exit.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("cluster is running");
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid fits i32"));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "strato up --local did not stop within 60s of SIGTERM\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Everything the cluster printed so far (stdout and stderr), for failure messages.
    pub fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        // The tail is what explains a failure; keep messages readable.
        let tail: String = text
            .chars()
            .rev()
            .take(20_000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!(
            "--- strato up --local output ({}) ---\n{tail}",
            self.log.display()
        )
    }

    pub fn marathon_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports.marathon)
    }

    pub fn mesos_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports.mesos)
    }

    pub fn dns_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.ports.dns))
    }

    /// GET on the Marathon API; the status and the JSON body (Null when not JSON).
    pub fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.marathon_url(path)))
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.post(self.marathon_url(path)).json(body))
    }

    pub fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.put(self.marathon_url(path)).json(body))
    }

    pub fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(self.marathon_url(path)))
    }

    fn send(&self, request: reqwest::blocking::RequestBuilder) -> (u16, Value) {
        let response = request
            .send()
            .unwrap_or_else(|e| panic!("request failed: {e}\n{}", self.log_text()));
        let status = response.status().as_u16();
        let text = response.text().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The app as `GET /v2/apps/{id}` shows it, or None when it does not exist.
    pub fn app(&self, id: &str) -> Option<Value> {
        let (status, body) = self.get(&format!("/v2/apps{id}?embed=app.tasks"));
        (status == 200).then(|| body["app"].clone())
    }

    /// Waits until the app has `instances` running tasks (all healthy when it has health checks)
    /// and no deployment in progress; returns the app.
    pub fn wait_running(&self, id: &str, instances: u64, within: Duration) -> Value {
        let what = format!("{id} to run {instances} task(s)");
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_until(within, &what, || {
                let app = self.app(id)?;
                let running = app["tasksRunning"].as_u64()?;
                let checks = app["healthChecks"].as_array().map_or(0, Vec::len);
                let healthy = checks == 0 || app["tasksHealthy"].as_u64() == Some(instances);
                let settled = app["deployments"].as_array().is_none_or(Vec::is_empty);
                (running == instances && healthy && settled).then_some(app)
            })
        }));
        match found {
            Ok(app) => app,
            Err(_) => panic!(
                "timed out waiting for {what}; app is now {}\n{}",
                self.app(id)
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "missing".into()),
                self.log_text()
            ),
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if self.child.is_some() && !std::thread::panicking() {
            let _ = self.stop();
        } else if let Some(mut child) = self.child.take() {
            // A failing test still must not leave a cluster (and its tasks) behind.
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A chromium binary, or a failure that says how to install it.
pub fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        if let Some(path) = find_on_path(name) {
            return path;
        }
    }
    panic!(
        "chromium is not installed: the dashboard test needs it. Run tests/run (it installs \
         Debian's chromium) or `apt-get install chromium`"
    );
}

/// `.venv/bin/python` with the marathon client, or a failure that says how to create it.
/// Runs `tests/python/<script>` with the venv's Python against `cluster` (its Marathon URL in
/// `url_var`, plus `env`), and fails with the script's output and the cluster's log unless it
/// exits 0 having printed `PASSED`.
pub fn run_python_client(
    cluster: &LocalCluster,
    script: &str,
    url_var: &str,
    env: &[(&str, &str)],
) {
    let script = super::repo_root().join("tests/python").join(script);
    let output = Command::new(marathon_python())
        .arg(&script)
        .env(url_var, cluster.marathon_url(""))
        .env("PYTHONUNBUFFERED", "1")
        .envs(env.iter().copied())
        .output()
        .expect("run the client script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n{}",
        script.display(),
        output.status,
        cluster.log_text()
    );
    assert!(
        stdout.contains("PASSED"),
        "the script did not reach its end:\n{stdout}"
    );
}

pub fn marathon_python() -> PathBuf {
    let python = super::repo_root().join(".venv/bin/python");
    let ok = python.exists()
        && Command::new(&python)
            .args(["-c", "import marathon"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
    assert!(
        ok,
        "{} with the `marathon` package is missing: run tests/run (it creates .venv and installs \
         marathon==0.13.0 from PyPI), or `bash -c '. tests/prereqs.sh && need_marathon_venv'`",
        python.display()
    );
    python
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
