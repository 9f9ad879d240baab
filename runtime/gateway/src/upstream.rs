//! The master's own routes (Marathon, Mesos, the dashboard, Strato's API), called in process:
//! `/marathon/…` and `/service/marathon/…` become the Marathon path, `/mesos/…` the Mesos path,
//! anything else is passed as it is. The master sees a request from its own node: the gateway
//! already checked the token, and drops it (and the cookie) so nothing downstream can replay it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, uri::PathAndQuery, Uri};
use axum::response::Response;
use tower::ServiceExt;

use crate::Gateway;

/// `/marathon/v2/apps?x` → `/v2/apps?x`; `None` when `prefix` does not lead the path.
pub fn strip_prefix(uri: &Uri, prefix: &str) -> Option<Uri> {
    let path = uri.path();
    let rest = path.strip_prefix(prefix)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let with_query = match uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_string(),
    };
    let path_and_query = PathAndQuery::try_from(with_query).ok()?;
    Uri::builder().path_and_query(path_and_query).build().ok()
}

pub async fn to_master(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let uri = request.uri().clone();
    let target = strip_prefix(&uri, "/marathon")
        .or_else(|| strip_prefix(&uri, "/mesos"))
        .unwrap_or(uri);
    call_master(&gateway, request, target).await
}

pub async fn call_master(gateway: &Gateway, request: Request, target: Uri) -> Response {
    // A fresh request: the gateway's own extensions (its route's path parameters, the client's
    // `Peer`) must not reach the master's routes, which would read them as their own.
    let (parts, body) = request.into_parts();
    let mut fresh = Request::new(body);
    *fresh.method_mut() = parts.method;
    *fresh.uri_mut() = target;
    *fresh.version_mut() = parts.version;
    *fresh.headers_mut() = parts.headers;
    let headers = fresh.headers_mut();
    crate::credentials::drop_from(headers);
    // The gateway is the origin the master sees; the browser's Origin was checked by the cookie's
    // SameSite rule.
    headers.remove(header::ORIGIN);
    match gateway.master.clone().oneshot(fresh).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_stripped_with_the_query_kept() {
        let uri: Uri = "/marathon/v2/apps?embed=apps.tasks".parse().expect("uri");
        assert_eq!(
            strip_prefix(&uri, "/marathon").map(|u| u.to_string()),
            Some("/v2/apps?embed=apps.tasks".into())
        );
        let root: Uri = "/marathon".parse().expect("uri");
        assert_eq!(
            strip_prefix(&root, "/marathon").map(|u| u.to_string()),
            Some("/".into())
        );
        let other: Uri = "/marathonx/v2".parse().expect("uri");
        assert_eq!(strip_prefix(&other, "/marathon"), None);
    }
}
