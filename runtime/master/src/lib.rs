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
mod gateway;
mod groups;
#[cfg(feature = "etcd")]
mod ha;
mod http;
mod jobs;
mod leader;
mod master;
mod metrics;
mod readiness;
mod reconcile;
mod registry;
mod state;
#[cfg(test)]
mod testing;
mod view;
mod writer;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use agent_client::{AgentAnswer, AgentCallError, AgentClient, AgentUrl, HttpAgentClient};
pub use changes::DeploymentResult;
pub use config::{ConfigError, MasterConfig};
pub use error::{ApiError, MasterError};
pub use master::{Master, MemberHealth, Members};

/// Every master route (agent protocol, Mesos endpoints, Marathon API), without the dashboard.
pub fn router(master: Arc<Master>) -> axum::Router {
    http::router(master)
}

/// The master's listening sockets.
pub struct Listeners {
    pub mesos: TcpListener,
    /// `None` when the Marathon port equals the Mesos port.
    pub marathon: Option<TcpListener>,
    /// With TLS: plain HTTP on 127.0.0.1 for the node's own tools (health checks, postflight).
    pub loopback: Vec<TcpListener>,
    /// `None` when `dns_port` is 0.
    pub dns: Option<strato_dns::DnsServer>,
    /// The TLS configuration of `mesos` and `marathon`; `None` serves them plain (loopback only).
    pub tls: Option<Arc<strato_tls::rustls::ServerConfig>>,
    /// The gateway, when `gateway_port` is set.
    pub gateway: Option<GatewayListeners>,
}

/// The gateway's sockets and what it needs to start (`runtime/gateway`).
pub struct GatewayListeners {
    pub https: TcpListener,
    /// Plain HTTP that redirects to HTTPS.
    pub http: Option<TcpListener>,
    pub tls: Arc<strato_tls::rustls::ServerConfig>,
    pub settings: strato_gateway::Settings,
}

impl GatewayListeners {
    pub fn https_addr(&self) -> Option<SocketAddr> {
        self.https.local_addr().ok()
    }
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

/// This master's TLS identity, loaded from the files master.toml names.
fn load_tls(config: &MasterConfig) -> Result<Option<strato_tls::MemberTls>, MasterError> {
    let files = config
        .tls_files()
        .map_err(|message| MasterError::Config { message })?;
    files
        .map(|files| {
            let tls = strato_tls::MemberTls::load(&files).map_err(|e| MasterError::Config {
                message: strato_tls_chain(&e),
            })?;
            if !tls.roles().contains(&strato_tls::MemberRole::Master) {
                return Err(MasterError::Config {
                    message: format!("{} is not a master certificate", files.cert.display()),
                });
            }
            Ok(tls)
        })
        .transpose()
}

fn strato_tls_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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
    let tls = load_tls(&config)?;
    let listeners = bind(&config).await?;
    let agents = match &tls {
        Some(identity) => HttpAgentClient::with_tls(identity).map_err(|e| MasterError::Config {
            message: strato_tls_chain(&e),
        })?,
        None => HttpAgentClient::new(),
    };
    let master = if config.etcd_endpoints.is_empty() {
        let store = strato_store::RedbStore::open(&config.data_dir.join("state.redb"))?;
        Master::new(config, Arc::new(store), Arc::new(agents)).await?
    } else {
        on_etcd(config, tls.as_ref(), Arc::new(agents)).await?
    };
    serve(master, listeners, shutdown).await
}

#[cfg(feature = "etcd")]
async fn on_etcd(
    config: MasterConfig,
    tls: Option<&strato_tls::MemberTls>,
    agents: Arc<dyn AgentClient>,
) -> Result<Arc<Master>, MasterError> {
    ha::master_on_etcd(config, tls, agents).await
}

#[cfg(not(feature = "etcd"))]
async fn on_etcd(
    _config: MasterConfig,
    _tls: Option<&strato_tls::MemberTls>,
    _agents: Arc<dyn AgentClient>,
) -> Result<Arc<Master>, MasterError> {
    Err(MasterError::Config {
        message: "etcd_endpoints is set but this build has no etcd support (build strato-master \
                  with its default feature `etcd`)"
            .into(),
    })
}

/// Binds the Mesos and Marathon ports on the bind address (`bind`, else `advertise_ip`): with
/// TLS when master.toml names the files, plus plain HTTP on 127.0.0.1; without TLS only a
/// loopback address is accepted.
pub async fn bind(config: &MasterConfig) -> Result<Listeners, MasterError> {
    let ip: std::net::IpAddr = config.bind_ip().parse().map_err(|_| MasterError::Config {
        message: format!("bind address {:?} is not an IP address", config.bind_ip()),
    })?;
    let member = load_tls(config)?;
    let tls = member
        .as_ref()
        .map(|identity| {
            strato_tls::server_config(identity, strato_tls::ClientAuth::Optional).map_err(|e| {
                MasterError::Config {
                    message: strato_tls_chain(&e),
                }
            })
        })
        .transpose()?;
    if tls.is_none() && !ip.is_loopback() {
        return Err(MasterError::Config {
            message: format!(
                "bind address {ip} is not loopback and no TLS is configured: set tls_ca, tls_cert \
                 and tls_key (strato deploy does), or bind to 127.0.0.1"
            ),
        });
    }
    let listen = |ip: std::net::IpAddr, port: u16, what: &'static str| {
        let address = SocketAddr::new(ip, port).to_string();
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
    let mesos = listen(ip, config.mesos_port, "mesos port").await?;
    let marathon = if config.marathon_port == config.mesos_port && config.mesos_port != 0 {
        None
    } else {
        Some(listen(ip, config.marathon_port, "marathon port").await?)
    };
    let mut loopback = Vec::new();
    if tls.is_some() && !ip.is_loopback() {
        let local = std::net::IpAddr::from([127, 0, 0, 1]);
        loopback.push(listen(local, config.mesos_port, "mesos port on 127.0.0.1").await?);
        if marathon.is_some() {
            loopback.push(listen(local, config.marathon_port, "marathon port on 127.0.0.1").await?);
        }
    }
    let dns = if config.dns_port == 0 {
        None
    } else {
        let bind = SocketAddr::new(ip, config.dns_port);
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
    let gateway = if let Some(port) = config.gateway_port {
        let settings = gateway_settings(config, member.as_ref())?;
        let https = listen(ip, port, "gateway port").await?;
        let http = match config.gateway_http_port {
            None => None,
            Some(port) => Some(listen(ip, port, "gateway http port").await?),
        };
        let (tls, settings) = settings;
        Some(GatewayListeners {
            https,
            http,
            tls,
            settings,
        })
    } else {
        None
    };
    Ok(Listeners {
        mesos,
        marathon,
        loopback,
        dns,
        tls,
        gateway,
    })
}

/// The gateway's certificate (the operator's, else `member`, this master's own), accounts and
/// token secret, from the files master.toml names.
fn gateway_settings(
    config: &MasterConfig,
    member: Option<&strato_tls::MemberTls>,
) -> Result<
    (
        Arc<strato_tls::rustls::ServerConfig>,
        strato_gateway::Settings,
    ),
    MasterError,
> {
    let bad = |message: String| MasterError::Config { message };
    let identity =
        match (&config.gateway_cert, &config.gateway_key) {
            (Some(cert), Some(key)) => strato_tls::ServerIdentity::load(cert, key)
                .map_err(|e| bad(strato_tls_chain(&e)))?,
            (None, None) => {
                let member = member.ok_or_else(|| {
                bad("gateway_port is set but no certificate is: set tls_ca, tls_cert and tls_key \
                     (strato deploy does), or gateway_cert and gateway_key"
                    .into())
            })?;
                strato_tls::ServerIdentity::of_member(member)
            }
            _ => {
                return Err(bad(
                    "gateway_cert and gateway_key go together: set both or neither".into(),
                ))
            }
        };
    let tls = strato_tls::public_server_config(&identity).map_err(|e| bad(strato_tls_chain(&e)))?;
    let accounts = match &config.gateway_accounts {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                bad(format!(
                    "cannot read gateway_accounts {}: {e}",
                    path.display()
                ))
            })?;
            serde_json::from_str::<strato_gateway::Accounts>(&text)
                .map_err(|e| bad(format!("gateway_accounts {}: {e}", path.display())))?
        }
        None => strato_gateway::Accounts::default(),
    };
    let secret_path = config.gateway_token_secret.as_ref().ok_or_else(|| {
        bad("gateway_port is set but gateway_token_secret is not (strato deploy writes it)".into())
    })?;
    let secret = std::fs::read(secret_path).map_err(|e| {
        bad(format!(
            "cannot read gateway_token_secret {}: {e}",
            secret_path.display()
        ))
    })?;
    let key =
        strato_gateway::TokenKey::new(secret.trim_ascii(), &config.cluster_name).map_err(|e| {
            bad(format!(
                "gateway_token_secret {}: {e}",
                secret_path.display()
            ))
        })?;
    // Served to DC/OS tools that pin it; the operator's own certificate has its own issuer.
    let ca_pem = match (&config.gateway_cert, &config.tls_ca) {
        (None, Some(ca)) => std::fs::read_to_string(ca).ok(),
        _ => None,
    };
    let settings = strato_gateway::Settings {
        accounts,
        key,
        token_ttl: std::time::Duration::from_secs(config.gateway_token_ttl_seconds.max(60)),
        ca_pem,
    };
    Ok((tls, settings))
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
    let leading = tokio::spawn(leader::run(Arc::clone(&master), stop_rx.clone()));
    let publishing = tokio::spawn(view::run(Arc::clone(&master), stop_rx.clone()));
    // A fresh master has a point of history at once; the sampler adds one every interval.
    master.sample_history();
    let sampling = tokio::spawn(metrics::history::run(Arc::clone(&master), stop_rx.clone()));
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
    let limits = strato_tls::Limits::default();
    let mut servers = vec![tokio::spawn(strato_tls::serve(
        listeners.mesos,
        mesos_router,
        listeners.tls.clone(),
        limits,
        stopped(stop_rx.clone()),
    ))];
    if let Some(listener) = listeners.marathon {
        let routes = guarded(&listener, router(Arc::clone(&master)));
        servers.push(tokio::spawn(strato_tls::serve(
            listener,
            routes,
            listeners.tls.clone(),
            limits,
            stopped(stop_rx.clone()),
        )));
    }
    for listener in listeners.loopback {
        let routes = guarded(
            &listener,
            router(Arc::clone(&master)).merge(strato_dashboard::router()),
        );
        servers.push(tokio::spawn(strato_tls::serve(
            listener,
            routes,
            None,
            limits,
            stopped(stop_rx.clone()),
        )));
    }
    if let Some(gateway) = listeners.gateway {
        let upstream = router(Arc::clone(&master)).merge(strato_dashboard::router());
        let https_port = gateway.https_addr().map_or(443, |a| a.port());
        let front = strato_gateway::Gateway::new(
            gateway.settings,
            gateway::MasterDirectory::shared(&master),
            upstream,
        );
        servers.push(tokio::spawn(strato_tls::serve(
            gateway.https,
            strato_gateway::router(front),
            Some(gateway.tls),
            limits,
            stopped(stop_rx.clone()),
        )));
        if let Some(http) = gateway.http {
            servers.push(tokio::spawn(strato_tls::serve(
                http,
                strato_gateway::redirect_router(https_port),
                None,
                limits,
                stopped(stop_rx.clone()),
            )));
        }
    }
    tracing::info!("master serving");
    let mut result = Ok(());
    for server in servers {
        match server.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => result = Err(error),
            Err(error) => result = Err(std::io::Error::other(error)),
        }
    }
    let _ = reconcile.await;
    let _ = leading.await;
    let _ = publishing.await;
    let _ = sampling.await;
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
