//! Every request but health, metadata and login needs a valid token; a browser that has none is
//! sent to the login page, any other client gets 401 with DC/OS's `WWW-Authenticate: acsjwt`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde_json::json;

use crate::token::TokenError;
use crate::{credentials, Gateway, MAX_HEADER_BYTES};

/// Paths anyone may ask: health, metadata, login.
pub const OPEN_PATHS: [&str; 9] = [
    "/ca/dcos-ca.crt",
    "/acs/api/v1/auth/login",
    "/acs/api/v1/auth/logout",
    "/login",
    "/dcos-metadata/dcos-version.json",
    "/metadata",
    "/system/health/v1",
    "/health",
    "/favicon.ico",
];

pub async fn require_token(
    State(gateway): State<Arc<Gateway>>,
    mut request: Request,
    next: Next,
) -> Response {
    if OPEN_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let verdict = match credentials::token(request.headers()) {
        None => Err(None),
        Some(token) => match gateway.key.verify(token, crate::now()) {
            Ok(claims) if gateway.directory.revoked(&claims) => Err(Some(TokenError::Revoked)),
            Ok(claims) => Ok(claims),
            Err(error) => Err(Some(error)),
        },
    };
    match verdict {
        Ok(claims) => {
            request.extensions_mut().insert(claims);
            next.run(request).await
        }
        Err(error) => unauthorized(&request, error),
    }
}

fn unauthorized(request: &Request, error: Option<TokenError>) -> Response {
    let wants_page = request.method() == Method::GET
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    if wants_page {
        return Redirect::to("/login").into_response();
    }
    let description = error.map_or_else(
        || {
            "Authentication required: log in at /acs/api/v1/auth/login and send the token as \
             `Authorization: token=<token>`"
                .to_string()
        },
        |e| {
            format!(
                "{}{}",
                e.to_string()[..1].to_uppercase(),
                &e.to_string()[1..]
            )
        },
    );
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({
            "title": "Unauthorized",
            "description": description,
            "code": "ERR_MISSING_OR_INVALID_TOKEN",
            // What the DC/OS CLI prints of an error.
            "message": description,
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("acsjwt"));
    response
}

/// 431 for a request head over [`MAX_HEADER_BYTES`]: clear, early, and before any work.
pub async fn bounded_headers(request: Request, next: Next) -> Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + request.uri().to_string().len();
    if size > MAX_HEADER_BYTES {
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Json(json!({
                "title": "Request Header Fields Too Large",
                "description": format!(
                    "The request's headers and URI are {size} bytes; the gateway reads at most \
                     {MAX_HEADER_BYTES}"
                ),
            })),
        )
            .into_response();
    }
    next.run(request).await
}
