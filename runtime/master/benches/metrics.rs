//! The API latency middleware's cost (runtime/master/src/metrics/api.rs). Part 1 repeats what
//! the middleware does per request outside the master (two clock reads, the route template
//! copied into the label set, the family lookup and one histogram observation), on one thread
//! and on two threads hitting the same series. Part 2 times whole requests (`GET /ping` and
//! `GET /v2/info`) through the master's router in process, middleware included, for scale.
//!
//! `cargo bench -p strato-master --bench metrics`

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use tower::ServiceExt;

const OBSERVATIONS: u32 = 1_000_000;
const REQUESTS: u32 = 100_000;

/// The same buckets and labels as runtime/master/src/metrics/api.rs.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    method: &'static str,
    route: String,
    status: &'static str,
}

type Latency = Family<ApiLabels, Histogram, fn() -> Histogram>;

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

fn observe(family: &Latency, route: &str) {
    let started = Instant::now();
    let labels = ApiLabels {
        method: "GET",
        route: route.to_string(),
        status: "2xx",
    };
    family
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
}

fn per_observation(threads: u32) -> Duration {
    let family: Arc<Latency> = Arc::new(Family::new_with_constructor(histogram));
    observe(&family, "/v2/apps");
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let family = Arc::clone(&family);
            std::thread::spawn(move || {
                for _ in 0..OBSERVATIONS {
                    observe(&family, "/v2/apps/{*rest}");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker");
    }
    started.elapsed() / OBSERVATIONS
}

async fn per_request(router: &axum::Router, path: &str) -> Duration {
    let request = || {
        axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .expect("request")
    };
    for _ in 0..1000 {
        let _ = router.clone().oneshot(request()).await;
    }
    let started = Instant::now();
    for _ in 0..REQUESTS {
        let response = router.clone().oneshot(request()).await.expect("response");
        assert!(response.status().is_success());
    }
    started.elapsed() / REQUESTS
}

#[tokio::main]
async fn main() {
    println!(
        "middleware work per request (1 thread): {:?}",
        per_observation(1)
    );
    println!(
        "middleware work per request (2 threads, one series): {:?}",
        per_observation(2)
    );
    let master = strato_master::Master::new(
        strato_master::MasterConfig::default(),
        Arc::new(strato_store::MemoryStore::new()),
        Arc::new(strato_master::HttpAgentClient::new()),
    )
    .await
    .expect("master");
    let router = strato_master::router(master);
    for path in ["/ping", "/v2/info"] {
        println!(
            "whole request through the router, in process, {path}: {:?}",
            per_request(&router, path).await
        );
    }
}
