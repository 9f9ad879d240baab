//! `strato up --local`: a whole one-node cluster in this process — master (Mesos endpoints,
//! Marathon API, dashboard), agent and DNS — with state under `--data-dir`. Ctrl-C (or SIGTERM)
//! stops the tasks and then the cluster; the next start finds the apps again because the master's
//! state is kept on disk and the scheduler relaunches what should run.
use std::path::PathBuf;

use clap::Args;

use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Run master, agent, Marathon API, DNS and dashboard on this machine (the only mode so far;
    /// multi-node clusters are installed from cluster.yaml).
    #[arg(long)]
    pub local: bool,
    /// Where the cluster keeps its state (master/ and agent/ beneath). Default: the user's data
    /// directory, e.g. ~/.local/share/strato/local.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Port of the Marathon API v2.
    #[arg(long, value_name = "PORT", default_value_t = 8080)]
    pub marathon_port: u16,
    /// Port of the Mesos-style endpoints and the dashboard.
    #[arg(long, value_name = "PORT", default_value_t = 5050)]
    pub mesos_port: u16,
    /// Port of the agent's API.
    #[arg(long, value_name = "PORT", default_value_t = 5051)]
    pub agent_port: u16,
    /// Port of the service-discovery DNS on 127.0.0.1 (UDP and TCP).
    #[arg(long, value_name = "PORT", default_value_t = 8053)]
    pub dns_port: u16,
    /// Host ports handed to tasks (`PORT0`, …), as `begin-end`.
    #[arg(long, value_name = "RANGE", default_value = "31000-32000")]
    pub task_ports: String,
    /// What runs Docker-image apps: `auto` (the first of Docker's and Podman's sockets that
    /// answers), `docker`, `podman`, `none`, or the path of an engine's API socket.
    #[arg(long, value_name = "ENGINE", default_value = "auto")]
    pub container_engine: String,
    /// Let apps run `privileged` containers (refused with a 422 otherwise).
    #[arg(long)]
    pub allow_privileged_containers: bool,
    /// The `docker.parameters` keys apps may use, comma-separated (label, env, cap-add, cap-drop,
    /// hostname, workdir, shm-size, ulimit); none by default.
    #[arg(long, value_name = "KEYS", value_delimiter = ',')]
    pub container_parameters: Vec<String>,
}

pub fn run(args: UpArgs) -> Result<Exit, CliError> {
    if !args.local {
        return Err(CliError::Usage(
            "`strato up` needs --local: it runs a one-node cluster on this machine (clusters on \
             several machines are installed from cluster.yaml)"
                .into(),
        ));
    }
    local::run(args)
}

#[cfg(not(target_os = "linux"))]
mod local {
    use super::UpArgs;
    use crate::{CliError, Exit};

    pub fn run(_args: UpArgs) -> Result<Exit, CliError> {
        Err(CliError::Usage(format!(
            "`strato up --local` runs the Strato runtime, which needs Linux (this is {}); \
             use a Linux VM or container",
            std::env::consts::OS
        )))
    }
}

#[cfg(target_os = "linux")]
mod local {
    use std::net::{Ipv4Addr, SocketAddr};
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use anyhow::{anyhow, Context};
    use tokio::signal::unix::{signal, Signal, SignalKind};
    use tokio::sync::watch;
    use tokio::task::JoinHandle;

    use super::UpArgs;
    use crate::{CliError, Exit};

    /// Every listener of a local cluster is on loopback: nothing is reachable from elsewhere.
    const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;
    /// How long the cluster may take to answer on every port before `up` gives up.
    const READY_WITHIN: Duration = Duration::from_secs(60);
    /// How long the dashboard and DNS may take once the API answers.
    const EXTRAS_WITHIN: Duration = Duration::from_secs(10);
    /// How long the agent (stopping its tasks) and then the master may take to stop.
    const STOP_WITHIN: Duration = Duration::from_secs(120);
    const DNS_DOMAIN: &str = "strato";

    /// `--container-engine` as agent.toml's `container_engine`: a name becomes its socket.
    fn engine_socket(engine: &str) -> &str {
        match strato_config::runtime::ContainerEngine::parse(engine) {
            Some(known) => known.socket(),
            None => engine,
        }
    }

    pub fn run(args: UpArgs) -> Result<Exit, CliError> {
        // Checked before anything starts, so a typo is a usage error rather than a failed agent.
        strato_agent::config::parse_port_range(&args.task_ports)
            .map_err(|message| CliError::Usage(format!("--task-ports: {message}")))?;
        if let Some(unknown) = args
            .container_parameters
            .iter()
            .find(|p| !strato_proto::DOCKER_PARAMETERS.contains(&p.as_str()))
        {
            return Err(CliError::Usage(format!(
                "--container-parameters: '{unknown}' is not one of {}",
                strato_proto::DOCKER_PARAMETERS.join(", ")
            )));
        }
        let engine = args.container_engine.as_str();
        if engine != "auto"
            && strato_config::runtime::ContainerEngine::parse(engine).is_none()
            && !Path::new(engine).exists()
        {
            return Err(CliError::Usage(format!(
                "--container-engine: {engine:?} is not auto, docker, podman, none or an \
                 existing socket path"
            )));
        }
        let data_dir = match &args.data_dir {
            Some(dir) => dir.clone(),
            None => default_data_dir()?,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(up(args, data_dir))?;
        Ok(Exit::Success)
    }

    fn default_data_dir() -> Result<PathBuf, CliError> {
        dirs::data_dir()
            .map(|d| d.join("strato").join("local"))
            .ok_or_else(|| {
                CliError::Usage(
                    "cannot find your data directory (is HOME set?): pass --data-dir".into(),
                )
            })
    }

    /// Resolves once `true` is sent on the channel (or its sender is gone).
    async fn stopped(mut rx: watch::Receiver<bool>) {
        let _ = rx.wait_for(|stop| *stop).await;
    }

    async fn up(args: UpArgs, data_dir: PathBuf) -> Result<(), CliError> {
        let master_dir = data_dir.join("master");
        let agent_dir = data_dir.join("agent");
        for dir in [&master_dir, &agent_dir] {
            std::fs::create_dir_all(dir).map_err(|source| CliError::Write {
                path: dir.clone(),
                source,
            })?;
        }

        let master_config = strato_master::MasterConfig {
            data_dir: master_dir,
            advertise_ip: LOOPBACK.to_string(),
            bind: LOOPBACK.to_string(),
            mesos_port: args.mesos_port,
            marathon_port: args.marathon_port,
            dns_port: args.dns_port,
            dns_domain: DNS_DOMAIN.into(),
            // A laptop's cluster answers only for its own names: no upstreams, so other names are
            // refused rather than sent to a public resolver.
            resolvers: Vec::new(),
            masters: vec![LOOPBACK.to_string()],
            allow_privileged_containers: args.allow_privileged_containers,
            container_parameters: args.container_parameters.clone(),
            ..strato_master::MasterConfig::default()
        };
        let agent_config = strato_agent::AgentConfig {
            masters: vec![format!("{LOOPBACK}:{}", args.mesos_port)],
            advertise_ip: LOOPBACK.to_string(),
            bind: LOOPBACK.to_string(),
            port: args.agent_port,
            work_dir: agent_dir,
            port_range: args.task_ports.clone(),
            stop_tasks_on_shutdown: true,
            container_engine: engine_socket(&args.container_engine).to_string(),
            ..strato_agent::AgentConfig::default()
        };

        // Installed before anything starts, so a signal during start-up also stops cleanly.
        let mut signals = Signals::install()?;
        let urls = Urls::new(&args);

        // The agent stops first (killing its tasks and reporting their end), then the master.
        let (stop_agent, agent_stop) = watch::channel(false);
        let (stop_master, master_stop) = watch::channel(false);
        let mut master: JoinHandle<anyhow::Result<()>> = tokio::spawn(async move {
            strato_master::run(master_config, stopped(master_stop))
                .await
                .map_err(anyhow::Error::from)
        });
        let mut agent: Option<JoinHandle<anyhow::Result<()>>> = None;

        let outcome: anyhow::Result<()> = async {
            tokio::select! {
                ready = wait_master(&urls) => ready?,
                ended = &mut master => return Err(ended_early("master", ended)),
                () = signals.recv() => return Ok(()),
            }
            let agent = agent.insert(tokio::spawn(async move {
                strato_agent::run(agent_config, stopped(agent_stop))
                    .await
                    .map_err(anyhow::Error::from)
            }));
            let problems = tokio::select! {
                ready = async { wait_agent(&urls).await?; wait_extras(&urls).await } => ready?,
                ended = &mut *agent => return Err(ended_early("agent", ended)),
                ended = &mut master => return Err(ended_early("master", ended)),
                () = signals.recv() => return Ok(()),
            };
            for problem in problems {
                eprintln!("strato: warning: {problem}");
            }
            urls.print(&data_dir);
            tokio::select! {
                () = signals.recv() => Ok(()),
                ended = &mut *agent => Err(ended_early("agent", ended)),
                ended = &mut master => Err(ended_early("master", ended)),
            }
        }
        .await;

        eprintln!("strato: stopping tasks and the cluster…");
        let _ = stop_agent.send(true);
        if let Some(agent) = agent.filter(|a| !a.is_finished()) {
            // The tasks' grace periods bound this; the agent kills with SIGKILL after them.
            if let Ok(Ok(Err(err))) = tokio::time::timeout(STOP_WITHIN, agent).await {
                eprintln!("strato: the agent stopped with an error: {err:#}");
            }
        }
        let _ = stop_master.send(true);
        if !master.is_finished() {
            if let Ok(Ok(Err(err))) = tokio::time::timeout(STOP_WITHIN, master).await {
                eprintln!("strato: the master stopped with an error: {err:#}");
            }
        }
        outcome?;
        eprintln!("strato: stopped");
        Ok(())
    }

    fn ended_early(
        what: &str,
        ended: Result<anyhow::Result<()>, tokio::task::JoinError>,
    ) -> anyhow::Error {
        match ended {
            Ok(Ok(())) => anyhow!("the {what} stopped unexpectedly"),
            Ok(Err(err)) => err.context(format!("the {what} failed")),
            Err(join) => anyhow!("the {what} crashed: {join}"),
        }
    }

    /// Ctrl-C (SIGINT) or SIGTERM (what `systemctl stop`, `kill` and test harnesses send).
    struct Signals {
        interrupt: Signal,
        terminate: Signal,
    }

    impl Signals {
        fn install() -> anyhow::Result<Self> {
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
            })
        }

        async fn recv(&mut self) {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        }
    }

    struct Urls {
        dashboard: String,
        marathon: String,
        mesos: String,
        agent: String,
        dns: SocketAddr,
    }

    impl Urls {
        fn new(args: &UpArgs) -> Self {
            Self {
                dashboard: format!("http://{LOOPBACK}:{}/", args.mesos_port),
                marathon: format!("http://{LOOPBACK}:{}", args.marathon_port),
                mesos: format!("http://{LOOPBACK}:{}", args.mesos_port),
                agent: format!("http://{LOOPBACK}:{}", args.agent_port),
                dns: SocketAddr::from((LOOPBACK, args.dns_port)),
            }
        }

        fn print(&self, data_dir: &Path) {
            println!(
                "Strato one-node cluster is up (state in {})",
                data_dir.display()
            );
            println!("  Dashboard     {}", self.dashboard);
            println!("  Marathon API  {}/v2/apps", self.marathon);
            println!("  Mesos API     {}/master/state", self.mesos);
            if self.dns.port() != 0 {
                println!(
                    "  DNS           {}  (dig @{} -p {} leader.{DNS_DOMAIN})",
                    self.dns,
                    self.dns.ip(),
                    self.dns.port()
                );
            }
            println!("Press Ctrl-C to stop: tasks are stopped, apps come back on the next start.");
        }
    }

    async fn wait_master(urls: &Urls) -> anyhow::Result<()> {
        let client = http_client()?;
        let deadline = Instant::now() + READY_WITHIN;
        poll_ok(&client, &format!("{}/ping", urls.marathon), deadline).await?;
        poll_ok(&client, &format!("{}/master/state", urls.mesos), deadline).await?;
        Ok(())
    }

    /// The dashboard and DNS, once the API answers; what still does not answer after a short
    /// while is reported (the cluster is usable without them).
    async fn wait_extras(urls: &Urls) -> anyhow::Result<Vec<String>> {
        let client = http_client()?;
        let deadline = Instant::now() + EXTRAS_WITHIN;
        let mut missing = Vec::new();
        if let Err(err) = poll_ok(&client, &urls.dashboard, deadline).await {
            missing.push(format!("the dashboard does not answer: {err:#}"));
        }
        if urls.dns.port() != 0 {
            let name = format!("leader.{DNS_DOMAIN}.");
            loop {
                if strato_dns::probe::answers(urls.dns, &name, Duration::from_millis(500)).await {
                    break;
                }
                if Instant::now() > deadline {
                    missing.push(format!("DNS on {} does not answer", urls.dns));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(missing)
    }

    /// The agent answers and the master lists it.
    async fn wait_agent(urls: &Urls) -> anyhow::Result<()> {
        let client = http_client()?;
        let deadline = Instant::now() + READY_WITHIN;
        poll_ok(&client, &format!("{}/health", urls.agent), deadline).await?;
        let state_url = format!("{}/master/state", urls.mesos);
        loop {
            let registered = match client.get(&state_url).send().await {
                Ok(response) => response
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|state| {
                        // A restarted master remembers the previous run's agent (inactive).
                        state
                            .get("slaves")
                            .and_then(|s| s.as_array())
                            .map(|agents| {
                                agents.iter().any(|a| {
                                    a.get("active") == Some(&serde_json::Value::Bool(true))
                                })
                            })
                    })
                    .unwrap_or(false),
                Err(_) => false,
            };
            if registered {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(anyhow!(
                    "the agent did not register with the master within {READY_WITHIN:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn http_client() -> anyhow::Result<reqwest::Client> {
        strato_tls::client_builder()
            .timeout(Duration::from_secs(2))
            .no_proxy()
            .build()
            .context("cannot build an HTTP client")
    }

    async fn poll_ok(client: &reqwest::Client, url: &str, deadline: Instant) -> anyhow::Result<()> {
        loop {
            let last = match client.get(url).send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => format!("answered {}", response.status()),
                Err(err) => err.to_string(),
            };
            if Instant::now() > deadline {
                return Err(anyhow!("{url} did not answer in time (last: {last})"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
