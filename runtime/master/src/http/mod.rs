//! The HTTP surface: one router serving the agent protocol, the Mesos-style endpoints, the
//! Marathon API and the Metronome (DC/OS Jobs) API, used on both the Mesos and the Marathon port.

mod agent_api;
mod backup;
mod body;
mod files;
mod follow;
mod guard;
mod ha;
mod marathon;
mod mesos;
mod metrics;
mod metronome;
mod query;
mod tokens;

use std::sync::Arc;

use axum::extract::Request;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;

use crate::error::ApiError;
use crate::master::Master;

/// Every route of the master, without the dashboard. Write bodies must be JSON
/// (`guard::json_bodies_only`).
pub fn router(master: Arc<Master>) -> Router {
    let routes = Router::new()
        .merge(agent_api::routes().layer(axum::middleware::from_fn(guard::agents_only)))
        .merge(mesos::routes())
        .merge(metrics::routes())
        .merge(marathon::routes())
        .merge(metronome::routes())
        .merge(ha::routes())
        .merge(backup::routes())
        .merge(tokens::routes())
        .merge(files::routes())
        .with_state(Arc::clone(&master));
    // Marathon answers `/v2/apps/` as `/v2/apps` (the DC/OS CLI posts there): a path no route
    // matches is tried once more without its trailing slash.
    let retry = routes.clone().fallback(not_found);
    routes
        .fallback(move |request: Request| without_trailing_slash(retry.clone(), request))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&master),
            follow::follow_leader,
        ))
        .layer(axum::middleware::from_fn(guard::json_bodies_only))
        .layer(axum::middleware::from_fn(guard::members_only))
        // Outermost: the API latency histogram times every layer above (`metrics/api.rs`).
        .layer(axum::middleware::from_fn_with_state(
            master,
            crate::metrics::api::track,
        ))
}

async fn without_trailing_slash(routes: Router, mut request: Request) -> Response {
    let path = request.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let with_query = match request.uri().query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_string(),
        };
        if let Ok(uri) = with_query.parse::<Uri>() {
            *request.uri_mut() = uri;
            return match routes.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
        }
    }
    not_found(request.uri().clone()).await.into_response()
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
