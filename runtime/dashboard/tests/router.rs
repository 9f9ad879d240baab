//! The router serves the page and its assets, and the page refers to what it serves.

use std::net::SocketAddr;

async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, strato_dashboard::router()).await });
    addr
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let response = strato_tls::client()
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, response.text().await.expect("body"))
}

#[tokio::test]
async fn root_is_the_html_page_linking_its_script_and_styles() {
    let addr = serve().await;
    let (status, content_type, body) = get(addr, "/").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains(strato_dashboard::SCRIPT_PATH));
    assert!(body.contains(strato_dashboard::STYLE_PATH));
    for table in ["agents", "apps", "tasks", "deployments"] {
        assert!(
            body.contains(&format!("id=\"{table}\"")),
            "table {table} missing"
        );
    }
}

#[tokio::test]
async fn assets_are_served_with_their_types() {
    let addr = serve().await;
    let (status, content_type, body) = get(addr, strato_dashboard::SCRIPT_PATH).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("text/javascript"),
        "{content_type}"
    );
    for path in [
        "/master/state",
        "/v2/apps?embed=apps.tasks",
        "/v2/deployments",
    ] {
        assert!(body.contains(path), "script does not poll {path}");
    }
    let (status, content_type, _) = get(addr, strato_dashboard::STYLE_PATH).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/css"), "{content_type}");
}

#[tokio::test]
async fn other_paths_are_not_the_dashboards() {
    let addr = serve().await;
    let (status, _, _) = get(addr, "/ui/missing.js").await;
    assert_eq!(status, 404);
}
