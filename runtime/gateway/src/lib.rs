//! The Admin Router: one HTTPS front door on every master, as DC/OS's Admin Router was. It logs
//! users in (`/acs/api/v1/auth/login`), checks a token on every route but health, metadata and
//! login, and routes:
//!
//! | path | to |
//! |---|---|
//! | `/marathon/…`, `/service/marathon/…` | the Marathon API (the master, in process) |
//! | `/service/metronome/…` | the Jobs (Metronome v1) API (the master, in process) |
//! | `/mesos/…` | the master's Mesos endpoints |
//! | `/mesos_dns/v1/…` | DNS records as JSON |
//! | `/service/<name>/…` | healthy tasks of the app labelled `DCOS_SERVICE_NAME=<name>` |
//! | `/system/health/v1` (open), `/system/health/v1/nodes` | units and nodes |
//! | `/dcos-metadata/dcos-version.json`, `/metadata`, `/ca/dcos-ca.crt` (open) | version, cluster id, CA |
//! | `/login` (open), anything else | the login page; the dashboard and the master's API |
//!
//! A standby master's gateway serves the same: the master it calls forwards to the leader
//! (`runtime/master/src/http/follow.rs`). Plain HTTP only redirects to HTTPS (`redirect.rs`).

mod accounts;
mod auth;
mod credentials;
mod directory;
mod login;
mod open;
mod rate_limit;
mod redirect;
mod service;
mod token;
mod upstream;

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{any, get, post};
use axum::Router;

pub use accounts::{
    check_password_hash, check_public_key, hash_password, Accounts, ServiceAccount, User,
};
pub use directory::{Directory, Metadata, ServiceLookup};
pub use redirect::router as redirect_router;
pub use token::{claims_unverified, Claims, TokenError, TokenKey, MIN_SECRET_BYTES};

/// How long a login's token lasts unless configured: DC/OS's five days.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(5 * 24 * 3600);

/// The longest request head the gateway reads (431 beyond it): real clients send a few KiB.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// What a gateway is configured with (master.toml's `gateway_*` keys, read by the master).
#[derive(Debug)]
pub struct Settings {
    pub accounts: Accounts,
    pub key: TokenKey,
    pub token_ttl: Duration,
    /// The cluster CA certificate (PEM), served at `/ca/dcos-ca.crt` as DC/OS did, so the DC/OS
    /// CLI's `cluster setup` can show and pin it; `None` answers 404.
    pub ca_pem: Option<String>,
}

/// Everything the gateway needs.
pub struct Gateway {
    accounts: Accounts,
    key: TokenKey,
    token_ttl: Duration,
    ca_pem: Option<String>,
    directory: Arc<dyn Directory>,
    /// The master's own router, called in process for its routes.
    master: Router,
    client: service::Client,
    limiter: rate_limit::LoginLimiter,
    next_backend: AtomicUsize,
}

impl Gateway {
    pub fn new(settings: Settings, directory: Arc<dyn Directory>, master: Router) -> Arc<Self> {
        Arc::new(Self {
            accounts: settings.accounts,
            key: settings.key,
            token_ttl: settings.token_ttl,
            ca_pem: settings.ca_pem,
            directory,
            master,
            client: service::client(),
            limiter: rate_limit::LoginLimiter::default(),
            next_backend: AtomicUsize::new(0),
        })
    }

    /// A token for `uid` (what a login answers; the CLI's own calls use it too).
    pub fn issue(&self, uid: &str) -> (String, Claims) {
        self.key.issue(uid, self.token_ttl, now())
    }
}

/// The gateway's routes (serve them over TLS: `strato_tls::public_server_config`).
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/acs/api/v1/auth/login", post(login::login))
        .route("/acs/api/v1/auth/logout", any(login::logout))
        .route("/login", get(login::page))
        .route("/dcos-metadata/dcos-version.json", get(open::version))
        .route("/metadata", get(open::metadata))
        .route("/ca/dcos-ca.crt", get(open::ca_certificate))
        .route("/system/health/v1", get(open::health))
        .route("/system/health/v1/nodes", get(open::nodes))
        .route("/mesos_dns/{*path}", get(open::mesos_dns))
        .route("/service/{name}", any(service::forward))
        .route("/service/{name}/", any(service::forward))
        .route("/service/{name}/{*rest}", any(service::forward))
        .fallback(upstream::to_master)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&gateway),
            auth::require_token,
        ))
        .layer(axum::middleware::from_fn(auth::bounded_headers))
        .with_state(gateway)
}

/// Unix seconds.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
