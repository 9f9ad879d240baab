//! API latency: one histogram per method, route template and status class, recorded by a
//! middleware around every master route (`http/mod.rs`). The route is axum's `MatchedPath`
//! (`/v2/apps/{*id}`), never the request's own path, so the label set stays bounded whatever
//! clients ask; a path no route matches is `unmatched`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::master::Master;

/// The route label of a request no route matched.
pub(crate) const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ApiLabels {
    pub method: &'static str,
    pub route: String,
    pub status: &'static str,
}

type HistogramFamily = Family<ApiLabels, Histogram, fn() -> Histogram>;

pub(crate) struct ApiMetrics {
    duration: HistogramFamily,
}

fn seconds_histogram() -> Histogram {
    Histogram::new(super::SECONDS_BUCKETS)
}

impl ApiMetrics {
    pub(crate) fn register(registry: &mut Registry) -> ApiMetrics {
        let duration: HistogramFamily = Family::new_with_constructor(seconds_histogram);
        registry.register(
            "strato_api_request_duration_seconds",
            "Time from a request reaching the master's routes to its response head, by method, \
             route template and status class",
            duration.clone(),
        );
        ApiMetrics { duration }
    }

    pub(crate) fn observe(
        &self,
        method: &Method,
        route: String,
        status: StatusCode,
        took: Duration,
    ) {
        let labels = ApiLabels {
            method: method_label(method),
            route,
            status: status_class(status),
        };
        self.duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }
}

/// Methods outside HTTP's usual set share one label (a client may send any token as a method).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

/// The middleware: times the rest of the stack (guards, forwarding to the leader, the handler)
/// up to the response head; an event stream's body is not waited for.
pub(crate) async fn track(
    State(master): State<Arc<Master>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_string(), |m| m.as_str().to_string());
    let response = next.run(request).await;
    master
        .metrics
        .api
        .observe(&method, route, response.status(), started.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(registry: &Registry) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, registry).expect("encode");
        text
    }

    #[test]
    fn a_request_lands_in_its_route_templates_buckets() {
        let mut registry = Registry::default();
        let api = ApiMetrics::register(&mut registry);
        api.observe(
            &Method::GET,
            "/v2/apps/{*id}".into(),
            StatusCode::OK,
            Duration::from_millis(3),
        );
        api.observe(
            &Method::from_bytes(b"BREW").expect("method"),
            UNMATCHED.into(),
            StatusCode::NOT_FOUND,
            Duration::from_millis(3),
        );
        let text = text(&registry);
        assert!(
            text.contains(
                "strato_api_request_duration_seconds_bucket{method=\"GET\",route=\"/v2/apps/{*id}\",status=\"2xx\",le=\"0.005\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "strato_api_request_duration_seconds_bucket{method=\"GET\",route=\"/v2/apps/{*id}\",status=\"2xx\",le=\"0.0025\"} 0"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "strato_api_request_duration_seconds_count{method=\"other\",route=\"unmatched\",status=\"4xx\"} 1"
            ),
            "{text}"
        );
    }
}
