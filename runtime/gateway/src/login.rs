//! `/acs/api/v1/auth/login` (DC/OS's body: `{"uid", "password"}` for users, `{"uid", "token"}`
//! for service accounts) answers `{"token"}` and sets the dashboard's cookie; `/login` is the
//! page a browser without a token is sent to. Failures are logged with the user name and client,
//! never the password, and limited (`rate_limit.rs`).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use strato_tls::Peer;

use crate::{credentials, Gateway};

const LOGIN_PAGE: &str = include_str!("assets/login.html");
/// A login body is a name and a password or a short JWT.
const MAX_BODY: usize = 16 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    uid: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    token: Option<String>,
    /// DC/OS clients may ask for an expiry; the cluster's own lifetime applies.
    #[serde(default)]
    #[allow(dead_code)]
    exp: Option<serde_json::Value>,
}

fn problem(status: StatusCode, title: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"title": title, "description": description})),
    )
        .into_response()
}

pub async fn login(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let client = request
        .extensions()
        .get::<Peer>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.addr.ip());
    let Ok(bytes) = axum::body::to_bytes(request.into_body(), MAX_BODY).await else {
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large",
            "A login body is at most 16 KiB",
        );
    };
    let body: LoginBody = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(error) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                &format!("The login body must be {{\"uid\": …, \"password\": …}} or {{\"uid\": …, \"token\": …}}: {error}"),
            )
        }
    };
    if let Some(wait) = gateway.limiter.refused(client, &body.uid, Instant::now()) {
        tracing::warn!(uid = %body.uid, %client, "login refused: too many failures");
        let mut response = problem(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            &format!(
                "Too many failed logins for this user or client: try again in {} s",
                wait.as_secs().max(1)
            ),
        );
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let accepted = match (&body.password, &body.token) {
        (Some(password), None) => {
            let (gw, uid, password) = (Arc::clone(&gateway), body.uid.clone(), password.clone());
            tokio::task::spawn_blocking(move || gw.accounts.password_matches(&uid, &password))
                .await
                .unwrap_or(false)
        }
        (None, Some(token)) => gateway.accounts.service_login_matches(&body.uid, token),
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "Send either \"password\" (a user) or \"token\" (a service account), not both",
            )
        }
    };
    if !accepted {
        gateway.limiter.failed(client, &body.uid, Instant::now());
        tracing::warn!(uid = %body.uid, %client, "login failed");
        let mut response = problem(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "The user name or password (or service login token) is wrong",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("acsjwt"));
        return response;
    }
    let (token, claims) = gateway.issue(&body.uid);
    tracing::info!(uid = %body.uid, %client, jti = %claims.jti, "login");
    let mut response = Json(json!({"token": token})).into_response();
    let max_age = claims.exp.saturating_sub(claims.iat);
    if let Ok(cookie) = HeaderValue::from_str(&credentials::set_cookie(&token, max_age)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Removes the dashboard's cookie (the token itself stays valid until it expires or is revoked).
pub async fn logout() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(cookie) = HeaderValue::from_str(&credentials::clear_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

pub async fn page() -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], Html(LOGIN_PAGE)).into_response()
}
