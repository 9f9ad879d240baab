//! The HTTP surface: one router serving the agent protocol, the Mesos-style endpoints and the
//! Marathon API, used on both the Mesos and the Marathon port.

mod agent_api;
mod backup;
mod body;
mod follow;
mod guard;
mod ha;
mod marathon;
mod mesos;
mod metrics;
mod query;

use std::sync::Arc;

use axum::http::Uri;
use axum::Router;

use crate::error::ApiError;
use crate::master::Master;

/// Every route of the master, without the dashboard. Write bodies must be JSON
/// (`guard::json_bodies_only`).
pub fn router(master: Arc<Master>) -> Router {
    Router::new()
        .merge(agent_api::routes().layer(axum::middleware::from_fn(guard::agents_only)))
        .merge(mesos::routes())
        .merge(metrics::routes())
        .merge(marathon::routes())
        .merge(ha::routes())
        .merge(backup::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&master),
            follow::follow_leader,
        ))
        .layer(axum::middleware::from_fn(guard::json_bodies_only))
        .layer(axum::middleware::from_fn(guard::members_only))
        .with_state(master)
}

/// `router` for a listener on loopback: requests must also name a loopback host
/// (`guard::loopback_hosts_only`).
pub fn loopback_only(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(guard::loopback_hosts_only))
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound {
        message: format!("URI not found: {}", uri.path()),
    }
}
