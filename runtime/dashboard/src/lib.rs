//! The web dashboard: one static page, with its script and style sheet embedded in the binary
//! (`include_str!`, no front-end build step). The page polls the master it is served from
//! (`/master/state`, `/v2/apps?embed=apps.tasks`, `/v2/deployments`, all same-origin) every two
//! seconds and shows agents with their resources, apps with instances and health, tasks with
//! host, ports and state, and running deployments.
//!
//! The crate owns only the page; the master mounts [`router`] next to its own routes.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// Path of the page's script, as the page refers to it.
pub const SCRIPT_PATH: &str = "/ui/app.js";
/// Path of the page's style sheet.
pub const STYLE_PATH: &str = "/ui/style.css";

/// `/` (the page) and its assets under `/ui/`, with no state: merge it into the master's router.
pub fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/ui/", get(index))
        .route(SCRIPT_PATH, get(script))
        .route(STYLE_PATH, get(style))
}

// The page changes with every release, so caches revalidate rather than serve a stale script.
const NO_CACHE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "no-cache");

async fn index() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), NO_CACHE],
        INDEX_HTML,
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            NO_CACHE,
        ],
        APP_JS,
    )
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), NO_CACHE],
        STYLE_CSS,
    )
}
