//! The pieces `strato up --local` relies on: DNS served by the master and the dashboard at `/`.

use std::time::Duration;

use crate::cluster::{test_config, Cluster};

/// A free UDP port on 127.0.0.1 (the DNS config treats port 0 as "disabled").
fn free_udp_port() -> u16 {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("addr").port()
}

#[tokio::test]
async fn dns_and_dashboard_are_served_by_the_master() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    config.dns_port = free_udp_port();
    config.resolvers = Vec::new();
    let dns = std::net::SocketAddr::from(([127, 0, 0, 1], config.dns_port));
    let cluster = Cluster::start_with(config).await;
    assert!(
        strato_dns::probe::answers(dns, "leader.strato", Duration::from_secs(5)).await,
        "dns answers"
    );

    let page = cluster
        .http
        .get(format!("{}/", cluster.mesos))
        .send()
        .await
        .expect("dashboard");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/html"));
    cluster.stop().await;
}
