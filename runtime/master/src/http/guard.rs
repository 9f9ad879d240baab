//! Request guards in front of every route.
//!
//! - Bodies of writes must be JSON (`Content-Type: application/json`), as Marathon's resources
//!   declare: an HTML form can only send `text/plain`, `application/x-www-form-urlencoded` or
//!   `multipart/form-data`, so a web page cannot post an app (a CSRF) to a master or to
//!   `strato up --local`. Writes without a body (restart, scale by query) need no type.
//! - On a loopback listener (`strato up --local`) the `Host` and `Origin` headers must name a
//!   loopback host too: a page that re-points its own DNS name at 127.0.0.1 (DNS rebinding) still
//!   sends its own name and is refused.
//! - Over mutual TLS (a deployed cluster) only cluster members get past health: a client
//!   certificate from the cluster CA (`strato_tls::Peer`); the agent protocol wants the agent
//!   role, the rest the operator or master role.
//!   Plain listeners are loopback-only (`lib.rs::bind` refuses anything else without TLS).

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use strato_tls::{MemberRole, Peer};

/// Paths anyone may ask over TLS: health probes.
const OPEN_PATHS: [&str; 3] = ["/health", "/master/health", "/ping"];

/// The agent protocol's paths (`runtime/proto`); [`agents_only`] guards them further.
const AGENT_PROTOCOL: &str = "/agent/v1/";

/// Over TLS: health for anyone, the agent protocol for members, everything else (Marathon,
/// Mesos state, metrics, the dashboard) for operators and masters only. 403 otherwise: an agent's
/// key, stolen from one node, must not start tasks on every other node.
pub async fn members_only(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let refused = request.extensions().get::<Peer>().and_then(|peer| {
        if !peer.tls || OPEN_PATHS.contains(&path) {
            None
        } else if !peer.is_member() {
            Some(
                "This master answers only cluster members (a client certificate from the \
                 cluster CA) and its own node over 127.0.0.1",
            )
        } else if !path.starts_with(AGENT_PROTOCOL)
            && !peer.has_role(MemberRole::Operator)
            && !peer.has_role(MemberRole::Master)
        {
            Some("This API is for operators (the operator certificate `strato deploy` makes)")
        } else {
            None
        }
    });
    if let Some(message) = refused {
        return refuse(StatusCode::FORBIDDEN, message);
    }
    next.run(request).await
}

/// 403 over TLS for an agent-protocol call without an agent certificate.
pub async fn agents_only(request: Request, next: Next) -> Response {
    let refused = request
        .extensions()
        .get::<Peer>()
        .is_some_and(|peer| peer.tls && !peer.has_role(MemberRole::Agent));
    if refused {
        return refuse(
            StatusCode::FORBIDDEN,
            "Only agents (a certificate of the agent role) may use the agent protocol",
        );
    }
    next.run(request).await
}

/// 415 for a write whose body is not declared as JSON.
pub async fn json_bodies_only(request: Request, next: Next) -> Response {
    let writes = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH
    );
    if writes && has_body(request.headers()) && !is_json(request.headers()) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: send the body with Content-Type: application/json",
        );
    }
    next.run(request).await
}

/// 403 for a request to a loopback listener that names another host.
pub async fn loopback_hosts_only(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host_ok = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_none_or(|h| is_loopback_name(host_of(h)));
    let origin_ok = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_none_or(|o| {
            o.split_once("://")
                .is_some_and(|(_, rest)| is_loopback_name(host_of(rest)))
        });
    if !(host_ok && origin_ok) {
        return refuse(
            StatusCode::FORBIDDEN,
            "This local cluster answers only requests addressed to localhost",
        );
    }
    next.run(request).await
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        Some(n) => n > 0,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || v.ends_with("+json"))
}

/// `host[:port]` or `[v6]:port` → the host part.
fn host_of(authority: &str) -> &str {
    let authority = authority.split('/').next().unwrap_or_default();
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

fn is_loopback_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(crate) fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_read_from_authorities() {
        assert_eq!(host_of("localhost:8080"), "localhost");
        assert_eq!(host_of("[::1]:8080"), "::1");
        assert_eq!(host_of("127.0.0.1"), "127.0.0.1");
        assert!(is_loopback_name("LOCALHOST"));
        assert!(is_loopback_name("127.0.0.2"));
        assert!(is_loopback_name("::1"));
        assert!(!is_loopback_name("evil.example"));
        assert!(!is_loopback_name("localhost.evil.example"));
    }
}
