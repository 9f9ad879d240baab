//! What a master does with a request depending on whether it leads.
//!
//! - The leader answers; a write (POST, PUT, PATCH, DELETE) is answered only once what it
//!   changed is durable, else 503 saying why (quorum lost): Marathon's contract that an accepted
//!   change is kept. Agents' reports are the exception: they are repeated by every heartbeat.
//! - A standby forwards API requests to the leader as Marathon does (with its own master
//!   certificate), redirects `/v2/events` there, and refuses the agent protocol with 503 so the
//!   agent tries the next master. With no leader reachable it answers reads from its own copy
//!   of the state and refuses writes with 503.
//!
//! Health, `/v2/leader`, `/master/redirect`, `/strato/v1/ha` and metrics are always answered
//! locally.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::master::Master;

/// Paths every master answers itself.
const LOCAL: [&str; 11] = [
    "/health",
    "/master/health",
    "/ping",
    "/v2/leader",
    "/v2/info",
    "/master/redirect",
    "/redirect",
    "/strato/v1/ha",
    "/metrics",
    "/metrics/snapshot",
    "/favicon.ico",
];

/// The most a forwarded request body may be (apps and groups are far smaller).
const MAX_FORWARDED_BODY: usize = 8 * 1024 * 1024;

pub(crate) const QUORUM_LOST: &str = "Quorum lost: a majority of the masters' state store is \
     unreachable, so nothing can be written now. Reads serve the last known state; writes are \
     accepted again once enough masters are back.";

fn unavailable(message: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"message": message})),
    )
        .into_response()
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

pub async fn follow_leader(
    State(master): State<Arc<Master>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    if LOCAL.contains(&path.as_str()) {
        return next.run(request).await;
    }
    if master.is_leader() {
        // Agents' reports (heartbeats, status updates) are not waited on or published: an agent
        // reads nothing back, and what it reported comes again with its next heartbeat's full
        // task list, so a report lost with a leader is repaired then. At thousands of agents, a
        // barrier and a copy of the state per report were the master's whole CPU
        // (docs/benchmarks.md, "The master at scale"). A registration, once per agent start,
        // still is.
        let report = path == strato_proto::PATH_HEARTBEAT || path == strato_proto::PATH_STATUS;
        let write = is_write(request.method()) && !report;
        let response = next.run(request).await;
        if write && response.status().is_success() {
            if let Err(error) = master.durable().await {
                tracing::warn!(%error, %path, "a write was not stored");
                return unavailable(if error.is_unavailable() {
                    QUORUM_LOST.to_string()
                } else {
                    format!("The change could not be stored: {error}")
                });
            }
            // Read-your-writes: the readers' copy includes the stored change before it is
            // answered.
            master.publish();
        }
        return response;
    }
    let leader = master
        .leader_address()
        .await
        .filter(|leader| *leader != crate::leader::LeaderAddress::of(&master));
    if path.starts_with("/agent/v1/") {
        return unavailable(match &leader {
            Some(leader) => format!("This master is a standby; the leader is {}", leader.mesos),
            None => "This master is a standby and no leader is elected".into(),
        });
    }
    let Some(leader) = leader else {
        return answer_locally(request, next).await;
    };
    if path == "/v2/events" {
        let scheme = if master.config.tls_files().ok().flatten().is_some() {
            "https"
        } else {
            "http"
        };
        let query = request
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let location = format!("{scheme}://{}{path}{query}", leader.marathon);
        return match HeaderValue::from_str(&location) {
            Ok(location) => (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, location)],
            )
                .into_response(),
            Err(_) => unavailable("The leader's address is not a valid URL".into()),
        };
    }
    let method = request.method().clone();
    match forward(&master, &leader.mesos, request).await {
        Ok(response) => response,
        Err(request) => {
            tracing::debug!(%method, %path, "the leader did not answer; answering locally");
            answer_locally(*request, next).await
        }
    }
}

/// Reads from this master's copy; writes refused (no leader to take them).
async fn answer_locally(request: Request, next: Next) -> Response {
    if is_write(request.method()) {
        return unavailable(QUORUM_LOST.to_string());
    }
    next.run(request).await
}

/// Sends the request to the leader; gives it back when the leader cannot be reached, so the
/// caller can still answer a read.
async fn forward(
    master: &Master,
    leader: &str,
    request: Request,
) -> Result<Response, Box<Request>> {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORWARDED_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Ok((
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(json!({"message": "Request body too large"})),
            )
                .into_response())
        }
    };
    let scheme = if master.config.tls_files().ok().flatten().is_some() {
        "https"
    } else {
        "http"
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_string(), ToString::to_string);
    let url = format!("{scheme}://{leader}{path_and_query}");
    let mut outgoing = master.leader_http.request(parts.method.clone(), &url);
    for name in [header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(value) = parts.headers.get(&name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let sent = outgoing.body(bytes.clone()).send().await;
    let response = match sent {
        Ok(response) => response,
        Err(_) => {
            let request = Request::from_parts(parts, Body::from(bytes));
            return Err(Box::new(request));
        }
    };
    let status = response.status();
    let mut headers = axum::http::HeaderMap::new();
    for name in [
        header::CONTENT_TYPE,
        header::LOCATION,
        header::HeaderName::from_static("marathon-deployment-id"),
    ] {
        if let Some(value) = response.headers().get(&name) {
            headers.insert(name, value.clone());
        }
    }
    match response.bytes().await {
        Ok(body) => {
            let mut out = (status, body).into_response();
            out.headers_mut().extend(headers);
            Ok(out)
        }
        Err(error) => Ok(unavailable(format!(
            "The leader at {leader} did not finish answering: {error}"
        ))),
    }
}
