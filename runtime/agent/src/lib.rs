//! The Strato agent: reports the node's resources to a master, runs tasks in sandboxes (as
//! systemd transient units where systemd is PID 1, otherwise as supervised process groups),
//! health-checks them, pushes every state change, and checkpoints them so a restarted agent
//! re-attaches instead of restarting them. [`run`] is the whole agent; the `strato-agent` binary
//! and `strato up --local` call it.

pub mod cgroup;
pub mod checkpoint;
pub mod client;
pub mod config;
pub mod error;
pub mod executor;
pub mod files;
pub mod health;
pub mod heartbeat;
pub mod http;
pub mod identity;
pub mod registration;
pub mod resources;

/// Status updates waiting for the link to the master; beyond this they are dropped (heartbeats
/// carry the latest state of every task).
pub(crate) const UPDATE_QUEUE: usize = 4096;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use strato_proto::{AgentInfo, ROLE_DEFAULT, ROLE_PUBLIC};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use config::{AgentConfig, LauncherChoice};
pub use error::{AgentError, ConfigError};
use executor::docker::DockerLauncher;
use executor::launcher::Launcher;
use executor::process::ProcessLauncher;
use executor::routed::Routed;
use executor::systemd::SystemdLauncher;
use executor::Executor;

/// A running agent; [`Agent::stop`] ends it.
pub struct Agent {
    info: AgentInfo,
    local_addr: SocketAddr,
    exec: Executor,
    stop_tasks: bool,
    stop_tx: watch::Sender<bool>,
    server: JoinHandle<()>,
    link: JoinHandle<()>,
    rotate: JoinHandle<()>,
}

/// The container engine `choice` names (`auto`, `none` or a socket path), if it answers.
async fn container_engine(choice: &str) -> Option<Arc<DockerLauncher>> {
    let found = match choice.trim() {
        "none" => return None,
        "auto" | "" => DockerLauncher::connect(None).await,
        socket => DockerLauncher::connect(Some(std::path::Path::new(socket))).await,
    };
    if found.is_none() && choice.trim() != "auto" {
        tracing::warn!(
            socket = choice,
            "no container engine answers: container apps will not run here"
        );
    }
    found.map(Arc::new)
}

async fn pick_launcher(choice: LauncherChoice) -> Arc<dyn Launcher> {
    let systemd = match choice {
        LauncherChoice::Process => false,
        LauncherChoice::Systemd => true,
        LauncherChoice::Auto => SystemdLauncher::available().await,
    };
    if systemd {
        let launcher = SystemdLauncher::with_probed_sandboxing().await;
        if !launcher.sandboxing {
            tracing::warn!(
                "systemd cannot give task units their own mount namespace here (an unprivileged \
                 container?): tasks run without ProtectSystem, ProtectHome and PrivateTmp"
            );
        }
        Arc::new(launcher)
    } else {
        Arc::new(ProcessLauncher)
    }
}

/// This agent's TLS identity, loaded from the files agent.toml names.
fn load_tls(config: &AgentConfig) -> Result<Option<strato_tls::MemberTls>, AgentError> {
    let files = config.tls_files().map_err(|message| AgentError::Config {
        key: "tls_cert",
        message,
    })?;
    let Some(files) = files else {
        return Ok(None);
    };
    let tls = strato_tls::MemberTls::load(&files).map_err(|e| AgentError::Config {
        key: "tls_cert",
        message: e.to_string(),
    })?;
    if !tls.roles().contains(&strato_tls::MemberRole::Agent) {
        return Err(AgentError::Config {
            key: "tls_cert",
            message: format!("{} is not an agent certificate", files.cert.display()),
        });
    }
    Ok(Some(tls))
}

impl Agent {
    /// Recovers checkpointed tasks, starts the HTTP API and registers with a master (in the
    /// background, retrying until one answers).
    pub async fn start(config: AgentConfig) -> Result<Agent, AgentError> {
        config
            .check()
            .map_err(|(key, message)| AgentError::Config { key, message })?;
        let port_range = config.port_range().map_err(|message| AgentError::Config {
            key: "port_range",
            message,
        })?;
        let work_dir = config.work_dir.clone();
        std::fs::create_dir_all(&work_dir).map_err(|source| AgentError::WorkDir {
            path: work_dir.clone(),
            source,
        })?;
        let id = identity::load_or_create(&work_dir)?;

        let (updates_tx, updates_rx) = mpsc::channel(UPDATE_QUEUE);
        let health_http =
            health::http_client().map_err(|source| AgentError::HttpClient { source })?;
        let containers = container_engine(&config.container_engine).await;
        let engine = containers.as_ref().map(|c| c.engine().to_string());
        let orphan_check = containers.clone();
        let launcher: Arc<dyn Launcher> = Arc::new(Routed {
            host: pick_launcher(config.launcher).await,
            containers,
        });
        let exec = Executor::new(
            launcher,
            work_dir.clone(),
            updates_tx,
            health_http,
            config.task_user.clone(),
        );
        let attached = exec.recover().await?;
        if let Some(engine) = &orphan_check {
            engine.remove_orphans(&exec.task_ids()).await;
        }

        let tls = load_tls(&config)?;
        let bind = std::net::SocketAddr::new(
            config.bind_ip().parse().map_err(|_| AgentError::Config {
                key: "bind",
                message: format!("{:?} is not an IP address", config.bind_ip()),
            })?,
            config.port,
        )
        .to_string();
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|source| AgentError::Bind {
                address: bind.clone(),
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| AgentError::Bind {
            address: bind.clone(),
            source,
        })?;

        let info = AgentInfo {
            id: id.clone(),
            hostname: resources::hostname(&config.hostname, &config.advertise_ip),
            address: config.advertise_ip.clone(),
            port: local_addr.port(),
            resources: resources::detect(&work_dir, port_range),
            attributes: config.attributes.clone(),
            role: if config.public {
                ROLE_PUBLIC
            } else {
                ROLE_DEFAULT
            }
            .to_string(),
            version: strato_runtime_types::version::runtime_version(),
            container_engine: engine,
        };
        tracing::info!(
            agent_id = %id,
            address = %local_addr,
            launcher = exec.launcher_name(),
            re_attached = attached,
            "agent started"
        );

        let (stop_tx, stop_rx) = watch::channel(false);
        let app = http::router(exec.clone(), info.clone());
        // Only masters may call the API over TLS; the node's own health check uses loopback.
        let server_tls = tls
            .as_ref()
            .map(|identity| {
                strato_tls::server_config(
                    identity,
                    strato_tls::ClientAuth::Required(vec![strato_tls::MemberRole::Master]),
                )
                .map_err(|e| AgentError::Config {
                    key: "tls_cert",
                    message: e.to_string(),
                })
            })
            .transpose()?;
        let health = match &server_tls {
            Some(_) if !local_addr.ip().is_loopback() => {
                let address = std::net::SocketAddr::from(([127, 0, 0, 1], local_addr.port()));
                Some(
                    tokio::net::TcpListener::bind(address)
                        .await
                        .map_err(|source| AgentError::Bind {
                            address: address.to_string(),
                            source,
                        })?,
                )
            }
            _ => None,
        };
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.changed().await;
        };
        let limits = strato_tls::Limits::default();
        let main = strato_tls::serve(listener, app, server_tls, limits, stopped(stop_rx.clone()));
        let health = health.map(|listener| {
            strato_tls::serve(
                listener,
                http::health_router(),
                None,
                limits,
                stopped(stop_rx.clone()),
            )
        });
        let server = tokio::spawn(async move {
            let result = match health {
                Some(health) => tokio::try_join!(main, health).map(|_| ()),
                None => main.await,
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "agent http server failed");
            }
        });
        let rotate = tokio::spawn(executor::log_rotate::run(
            work_dir.clone(),
            config.task_log_max_bytes,
            stop_rx.clone(),
        ));
        let client = client::MasterClient::new(config.masters.clone(), tls.as_ref())?;
        let link = tokio::spawn(
            heartbeat::Link {
                client: Arc::new(client),
                agent: info.clone(),
                exec: exec.clone(),
                updates: updates_rx,
                shutdown: stop_rx,
            }
            .run(),
        );
        Ok(Agent {
            info,
            local_addr,
            exec,
            stop_tasks: config.stop_tasks_on_shutdown,
            stop_tx,
            server,
            link,
            rotate,
        })
    }

    /// The address the HTTP API listens on (useful with `port = 0`).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// What the agent registers with.
    pub fn info(&self) -> &AgentInfo {
        &self.info
    }

    /// Stops the agent: kills its tasks first when `stop_tasks_on_shutdown` is set, delivers the
    /// last status updates (briefly), and waits for the HTTP server and master link to end.
    pub async fn stop(self) {
        self.exec.shutdown(self.stop_tasks).await;
        let _ = self.stop_tx.send(true);
        let _ = self.link.await;
        let _ = self.server.await;
        let _ = self.rotate.await;
        tracing::info!(agent_id = %self.info.id, "agent stopped");
    }
}

/// Runs until `shutdown` resolves. With `stop_tasks_on_shutdown` false (the default for the
/// systemd service) tasks keep running and are re-attached on the next start; `strato up
/// --local` sets it true so Ctrl-C stops its tasks.
pub async fn run(
    config: AgentConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), AgentError> {
    let agent = Agent::start(config).await?;
    shutdown.await;
    agent.stop().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `strato up --local` spawns the agent on a multi-threaded runtime.
    #[test]
    fn run_can_be_spawned() {
        fn assert_send<T: Send + 'static>(_: &T) {}
        let fut = run(AgentConfig::default(), async {});
        assert_send(&fut);
    }
}
