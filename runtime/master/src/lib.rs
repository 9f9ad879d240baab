//! The Strato master: agent registry and heartbeats, the task/app/deployment state (kept in an
//! embedded store so a restart loses nothing), the reconcile loop that applies the scheduler's
//! plans by calling agents, and the HTTP surface: the agent protocol, Mesos-style endpoints and
//! the Marathon API v2 (served on both the Mesos and the Marathon port).
//!
//! Entry points: [`run`] (what `strato-master` and `strato up --local` call), or [`bind`] +
//! [`serve`] with a [`Master`] built on any [`strato_store::Store`] and [`AgentClient`] (tests).

mod agent_client;
mod changes;
mod config;
mod dns_view;
mod error;
mod events;
mod http;
mod master;
mod readiness;
mod reconcile;
mod registry;
mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use agent_client::{AgentCallError, AgentClient, AgentUrl, HttpAgentClient};
pub use changes::DeploymentResult;
pub use config::{ConfigError, MasterConfig};
pub use error::{ApiError, MasterError};
pub use master::Master;

/// Every master route (agent protocol, Mesos endpoints, Marathon API), without the dashboard.
pub fn router(master: Arc<Master>) -> axum::Router {
    http::router(master)
}

/// The master's listening sockets.
pub struct Listeners {
    pub mesos: TcpListener,
    /// `None` when the Marathon port equals the Mesos port.
    pub marathon: Option<TcpListener>,
    /// `None` when `dns_port` is 0.
    pub dns: Option<strato_dns::DnsServer>,
}

impl Listeners {
    pub fn mesos_addr(&self) -> Option<SocketAddr> {
        self.mesos.local_addr().ok()
    }

    pub fn dns_addr(&self) -> Option<SocketAddr> {
        self.dns.as_ref().map(strato_dns::DnsServer::local_addr)
    }

    pub fn marathon_addr(&self) -> Option<SocketAddr> {
        self.marathon
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .or_else(|| self.mesos_addr())
    }
}

/// Opens the store under `data_dir` and serves until `shutdown` resolves; returns once every
/// listener has stopped.
pub async fn run(
    config: MasterConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), MasterError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| MasterError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let store = strato_store::RedbStore::open(&config.data_dir.join("state.redb"))?;
    let listeners = bind(&config).await?;
    let master = Master::new(config, Arc::new(store), Arc::new(HttpAgentClient::new()))?;
    serve(master, listeners, shutdown).await
}

/// Binds the Mesos and Marathon ports on `config.bind`.
pub async fn bind(config: &MasterConfig) -> Result<Listeners, MasterError> {
    let listen = |port: u16, what: &'static str| {
        let address = format!("{}:{}", config.bind, port);
        async move {
            TcpListener::bind(&address)
                .await
                .map_err(|source| MasterError::Bind {
                    address,
                    what,
                    source,
                })
        }
    };
    let mesos = listen(config.mesos_port, "mesos port").await?;
    let marathon = if config.marathon_port == config.mesos_port && config.mesos_port != 0 {
        None
    } else {
        Some(listen(config.marathon_port, "marathon port").await?)
    };
    let dns = if config.dns_port == 0 {
        None
    } else {
        let bind = format!("{}:{}", config.bind, config.dns_port);
        let bind: SocketAddr = bind.parse().map_err(|_| MasterError::Config {
            message: format!("bind address {bind} is not an IP address and port"),
        })?;
        let resolvers = config
            .resolvers
            .iter()
            .map(|r| {
                r.parse::<SocketAddr>()
                    .or_else(|_| format!("{r}:53").parse::<SocketAddr>())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| MasterError::Config {
                message: format!(
                    "resolvers {:?} must be IP addresses (optionally with a port)",
                    config.resolvers
                ),
            })?;
        let dns_config = strato_dns::DnsConfig {
            bind,
            domain: config.dns_domain.clone(),
            resolvers,
        };
        Some(strato_dns::DnsServer::bind(dns_config).await?)
    };
    Ok(Listeners {
        mesos,
        marathon,
        dns,
    })
}

/// A loopback listener (`strato up --local`) also checks `Host`/`Origin` (http::loopback_only).
fn guarded(listener: &tokio::net::TcpListener, routes: axum::Router) -> axum::Router {
    match listener.local_addr() {
        Ok(addr) if addr.ip().is_loopback() => http::loopback_only(routes),
        _ => routes,
    }
}

/// Serves the routers and runs the reconcile loop until `shutdown` resolves.
pub async fn serve(
    master: Arc<Master>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), MasterError> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopping = master.stopping.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
        stopping.send_replace(true);
    });
    let reconcile = tokio::spawn(reconcile::run(Arc::clone(&master), stop_rx.clone()));
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let mesos_router = guarded(
        &listeners.mesos,
        router(Arc::clone(&master)).merge(strato_dashboard::router()),
    );
    let dns = listeners.dns.map(|server| {
        let view = dns_view::MasterDnsView::shared(&master);
        tokio::spawn(server.run(view, stopped(stop_rx.clone())))
    });
    let mesos =
        axum::serve(listeners.mesos, mesos_router).with_graceful_shutdown(stopped(stop_rx.clone()));
    let marathon = listeners.marathon.map(|listener| {
        let routes = guarded(&listener, router(Arc::clone(&master)));
        axum::serve(listener, routes).with_graceful_shutdown(stopped(stop_rx.clone()))
    });
    tracing::info!("master serving");
    let result = match marathon {
        Some(marathon) => {
            tokio::try_join!(async { mesos.await }, async { marathon.await }).map(|_| ())
        }
        None => mesos.await,
    };
    let _ = reconcile.await;
    if let Some(dns) = dns {
        match dns.await {
            Ok(Err(error)) => tracing::error!(%error, "dns server failed"),
            Err(error) => tracing::error!(%error, "dns server task failed"),
            Ok(Ok(())) => {}
        }
    }
    result.map_err(|source| MasterError::Serve {
        what: "http",
        source,
    })
}
