//! The one route table and its shared state. `/v1/*` needs the bearer token; `/health` and the
//! serve tree (`/serve/*`, and the same files at the root, which is the URL `genconf` bakes
//! into the install scripts) are open: nodes fetch files without a token, and every file is
//! checked against the tree's sha256 manifest by the node.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use strato_engine::{Connector, Runner, RunnerEnv, ServeTree};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::services::ServeDir;

use crate::error::ApiError;
use crate::route;

/// How to run a server. `Debug` leaves the token out.
#[derive(Clone)]
pub struct ServerOptions {
    /// `jobs/` (journals), `serve/` (the genconf tree and bundle), `known_hosts.json`.
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub token: String,
    /// The URL nodes download the tree from when cluster.yaml's `bootstrap:` gives none
    /// (`bootstrap: local`); default `https://<listen>` (`http://` when `https` is off).
    pub serve_url: Option<String>,
    /// The cluster CA deploys issue node certificates from (made on the first deploy).
    pub pki_dir: PathBuf,
    /// Serve over HTTPS with a certificate of the cluster CA in `pki_dir` (which must exist).
    /// Plain HTTP only for tests and a tree re-served behind another TLS front end.
    pub https: bool,
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("token", &"<redacted>")
            .field("serve_url", &self.serve_url)
            .field("pki_dir", &self.pki_dir)
            .field("https", &self.https)
            .finish()
    }
}

impl ServerOptions {
    pub fn serve_dir(&self) -> PathBuf {
        self.data_dir.join("serve")
    }
}

/// What every handler sees.
#[derive(Clone)]
pub struct AppState {
    pub runner: Arc<Runner>,
    pub token: Arc<str>,
}

/// Server startup failures.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serve HTTPS from the cluster CA in {pki_dir} (strato deploy puts it there; --plain-http serves without TLS)")]
    Tls {
        pki_dir: PathBuf,
        #[source]
        source: strato_tls::TlsError,
    },
    #[error("cannot create the data directory {path}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The route table.
pub fn router(state: AppState, serve_dir: PathBuf) -> Router {
    let api = Router::new()
        .route("/v1/jobs", get(route::jobs::list).post(route::jobs::submit))
        .route("/v1/jobs/{id}", get(route::jobs::get))
        .route("/v1/jobs/{id}/hosts", get(route::jobs::hosts))
        .route("/v1/jobs/{id}/events", get(route::events::follow))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .merge(api)
        .route("/health", get(route::health::health))
        .nest_service("/serve", route::serve::tree(&serve_dir))
        .fallback_service(ServeDir::new(serve_dir))
        .with_state(state)
}

async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let given = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix(strato_api::BEARER));
    match given {
        Some(t) if constant_time_eq(t.as_bytes(), state.token.as_bytes()) => {
            Ok(next.run(request).await)
        }
        _ => Err(ApiError::Unauthorized),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A running server. Dropping it stops the listener and aborts running jobs where they stand
/// (like a killed process); a new server on the same data directory resumes them.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub runner: Arc<Runner>,
    /// The cluster CA it issues from and serves HTTPS with.
    pub pki_dir: PathBuf,
    /// Jobs resumed at startup.
    pub resumed: Vec<String>,
    task: JoinHandle<()>,
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.task.abort();
        self.runner.shutdown();
    }
}

impl RunningServer {
    /// Serve until `shutdown` resolves, then stop.
    pub async fn until(self, shutdown: impl std::future::Future<Output = ()>) {
        shutdown.await;
        drop(self);
    }
}

/// Bind, resume unfinished jobs, and serve on a task. Nodes are reached through `connector`
/// (SSH in production, fakes in tests).
pub async fn start(
    opts: ServerOptions,
    connector: Arc<dyn Connector>,
) -> Result<RunningServer, ServerError> {
    let serve_dir = opts.serve_dir();
    for dir in [opts.data_dir.join("jobs"), serve_dir.clone()] {
        std::fs::create_dir_all(&dir).map_err(|source| ServerError::DataDir {
            path: dir.clone(),
            source,
        })?;
    }
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: opts.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: opts.listen,
        source,
    })?;
    let tls = if opts.https {
        Some(
            crate::serving_cert::serving_config(&opts.pki_dir, addr, opts.serve_url.as_deref())
                .map_err(|source| ServerError::Tls {
                    pki_dir: opts.pki_dir.clone(),
                    source,
                })?,
        )
    } else {
        None
    };
    let scheme = if opts.https { "https" } else { "http" };
    let runner = Arc::new(Runner::new(
        opts.data_dir.join("jobs"),
        RunnerEnv {
            connector,
            serve: ServeTree {
                dir: serve_dir.clone(),
                url: opts
                    .serve_url
                    .clone()
                    .unwrap_or_else(|| format!("{scheme}://{addr}")),
            },
            base_dir: opts.data_dir.clone(),
            pki_dir: opts.pki_dir.clone(),
        },
    ));
    let resumed = runner.resume_unfinished();
    for id in &resumed {
        tracing::info!(job = %id, "resumed an unfinished job");
    }
    let app = router(
        AppState {
            runner: runner.clone(),
            token: opts.token.clone().into(),
        },
        serve_dir,
    );
    let task = tokio::spawn(async move {
        // Header-read timeout and a connection cap (strato-tls's serve loop), like every listener.
        let limits = strato_tls::Limits::default();
        if let Err(e) = strato_tls::serve(listener, app, tls, limits, std::future::pending()).await
        {
            tracing::error!("server stopped: {e}");
        }
    });
    tracing::info!(%addr, scheme, "strato-bootstrap listening");
    Ok(RunningServer {
        addr,
        runner,
        pki_dir: opts.pki_dir.clone(),
        resumed,
        task,
    })
}
