//! Plain HTTP (port 80): health answers as on HTTPS, everything else is sent to HTTPS with the same
//! host and path (308 keeps the method), so a bookmark or a typed address ends up on TLS.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// `https_port`: where the HTTPS side listens (443 leaves it out of the address).
pub fn router(https_port: u16) -> Router {
    Router::new().fallback(move |request: Request| async move { redirect(request, https_port) })
}

fn redirect(request: Request, https_port: u16) -> Response {
    let path = request.uri().path();
    if path == "/health" || path == "/system/health/v1" {
        return (StatusCode::OK, "OK").into_response();
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(host_without_port);
    let Some(host) = host.filter(|h| !h.is_empty()) else {
        return (StatusCode::BAD_REQUEST, "A Host header is required").into_response();
    };
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("https://{host}{port}{path_and_query}");
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response()
}

/// `example.com:80` → `example.com`; `[::1]:80` → `[::1]`.
fn host_without_port(authority: &str) -> String {
    if authority.starts_with('[') {
        return authority
            .split_inclusive(']')
            .next()
            .unwrap_or(authority)
            .to_string();
    }
    authority.split(':').next().unwrap_or(authority).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_dropped_from_hosts() {
        assert_eq!(host_without_port("example.com:80"), "example.com");
        assert_eq!(host_without_port("10.0.0.1"), "10.0.0.1");
        assert_eq!(host_without_port("[::1]:80"), "[::1]");
    }
}
