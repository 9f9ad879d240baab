//! `/service/<name>/…`: the tasks of the app labelled `DCOS_SERVICE_NAME=<name>`, one request
//! after another over its healthy tasks, with the body streamed both ways and websockets
//! (`Upgrade`) passed through. `/service/marathon/…` is the Marathon API and
//! `/service/metronome/…` the Jobs (Metronome) API, both the master's own.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;

use crate::directory::ServiceLookup;
use crate::upstream::{call_master, strip_prefix};
use crate::Gateway;

pub type Client = hyper_util::client::legacy::Client<HttpConnector, Body>;

pub fn client() -> Client {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    connector.set_nodelay(true);
    hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector)
}

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1); kept for an
/// upgrade, which needs `Connection` and `Upgrade` to reach the service.
const HOP_BY_HOP: [&str; 6] = [
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
];

fn answer(status: StatusCode, message: String) -> Response {
    (status, Json(json!({"message": message}))).into_response()
}

pub async fn forward(State(gateway): State<Arc<Gateway>>, mut request: Request) -> Response {
    let uri = request.uri().clone();
    let rest = uri.path().strip_prefix("/service/").unwrap_or_default();
    let name = rest.split('/').next().unwrap_or_default().to_string();
    let prefix = format!("/service/{name}");
    if name == "marathon" || name == "metronome" {
        let target = strip_prefix(&uri, &prefix).unwrap_or(uri);
        return call_master(&gateway, request, target).await;
    }
    let backends = match gateway.directory.service(&name) {
        ServiceLookup::Found(backends) if !backends.is_empty() => backends,
        ServiceLookup::Found(_) | ServiceLookup::NoHealthyTask => {
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("Service '{name}' has no running, healthy task"),
            )
        }
        ServiceLookup::Unknown => {
            return answer(
                StatusCode::NOT_FOUND,
                format!("No app is labelled DCOS_SERVICE_NAME={name}"),
            )
        }
        ServiceLookup::Unsupported(why) => {
            return answer(StatusCode::BAD_GATEWAY, format!("Service '{name}': {why}"))
        }
    };
    let backend = backends[gateway.next_backend.fetch_add(1, Ordering::Relaxed) % backends.len()];
    let path = strip_prefix(&uri, &prefix)
        .map(|u| u.to_string())
        .unwrap_or_else(|| "/".into());
    let Ok(target) = format!("http://{backend}{path}").parse::<Uri>() else {
        return answer(StatusCode::BAD_REQUEST, format!("Bad path {path}"));
    };
    let client_ip = request
        .extensions()
        .get::<strato_tls::Peer>()
        .map(|p| p.addr.ip().to_string());
    let original_host = request.headers().get(header::HOST).cloned();
    let upgrading = request.headers().contains_key(header::UPGRADE);
    let client_upgrade = upgrading.then(|| hyper::upgrade::on(&mut request));
    *request.uri_mut() = target;
    {
        let headers = request.headers_mut();
        crate::credentials::drop_from(headers);
        for name in HOP_BY_HOP {
            headers.remove(name);
        }
        if !upgrading {
            headers.remove(header::CONNECTION);
        }
        if let Ok(host) = HeaderValue::from_str(&backend.to_string()) {
            headers.insert(header::HOST, host);
        }
        let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &str| {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        };
        if let Some(ip) = client_ip {
            set(headers, "x-forwarded-for", &ip);
        }
        set(headers, "x-forwarded-proto", "https");
        set(headers, "x-forwarded-prefix", &prefix);
        if let Some(host) = original_host.as_ref().and_then(|h| h.to_str().ok()) {
            set(headers, "x-forwarded-host", host);
        }
    }
    request.extensions_mut().remove::<strato_tls::Peer>();
    let mut response = match gateway.client.request(request).await {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(%error, %backend, service = %name, "service unreachable");
            return answer(
                StatusCode::BAD_GATEWAY,
                format!("Service '{name}' did not answer at {backend}"),
            );
        }
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Some(client_upgrade) = client_upgrade {
            let service_upgrade = hyper::upgrade::on(&mut response);
            tokio::spawn(async move {
                if let (Ok(client), Ok(service)) = (client_upgrade.await, service_upgrade.await) {
                    let _ = tokio::io::copy_bidirectional(
                        &mut TokioIo::new(client),
                        &mut TokioIo::new(service),
                    )
                    .await;
                }
            });
        }
    }
    response.map(Body::new)
}
