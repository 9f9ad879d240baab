//! The HTTP surface: one router serving the agent protocol, the Mesos-style endpoints and the
//! Marathon API, used on both the Mesos and the Marathon port.

mod agent_api;
mod body;
mod marathon;
mod mesos;
mod metrics;
mod query;

use std::sync::Arc;

use axum::http::Uri;
use axum::Router;

use crate::error::ApiError;
use crate::master::Master;

/// Every route of the master, without the dashboard.
pub fn router(master: Arc<Master>) -> Router {
    Router::new()
        .merge(agent_api::routes())
        .merge(mesos::routes())
        .merge(metrics::routes())
        .merge(marathon::routes())
        .fallback(not_found)
        .with_state(master)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound {
        message: format!("URI not found: {}", uri.path()),
    }
}
