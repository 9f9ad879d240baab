//! DNS answers for a running app, asked on the cluster's DNS port with hickory's client.

use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use hickory_net::client::{Client, ClientHandle};
use hickory_net::proto::op::{DnsResponse, ResponseCode};
use hickory_net::proto::rr::{DNSClass, Name, RData, RecordType};
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::udp::UdpClientStream;
use serde_json::json;

use crate::common::cluster::LocalCluster;

/// One UDP query to `addr` (hickory's client); panics when nothing answers.
pub(crate) fn query(addr: SocketAddr, name: &str, rtype: RecordType) -> DnsResponse {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let stream = UdpClientStream::builder(addr, TokioRuntimeProvider::default()).build();
        let (mut client, bg) = Client::<TokioRuntimeProvider>::from_sender(stream);
        tokio::spawn(bg);
        client
            .query(Name::from_str(name).expect("name"), DNSClass::IN, rtype)
            .await
            .expect("dns query")
    })
}

#[test]
fn dns_names_a_running_app_and_its_ports() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    let app = json!({"id": "/shop/web", "cmd": "sleep 600", "cpus": 0.1, "mem": 16, "instances": 1,
                     "portDefinitions": [{"port": 0, "name": "http"}, {"port": 0, "name": "admin"}]});
    let (status, body) = cluster.post("/v2/apps", &app);
    assert_eq!(status, 201, "create failed: {body}");
    let running = cluster.wait_running("/shop/web", 1, Duration::from_secs(60));
    let task_ports: Vec<u16> = running["tasks"][0]["ports"]
        .as_array()
        .expect("task ports")
        .iter()
        .map(|p| u16::try_from(p.as_u64().expect("port")).expect("port fits u16"))
        .collect();
    assert_eq!(task_ports.len(), 2, "two ports were asked for: {running}");

    // /shop/web → web-shop (Mesos-DNS: segments reversed, joined with '-').
    let a = query(
        cluster.dns_addr(),
        "web-shop.marathon.strato.",
        RecordType::A,
    );
    assert_eq!(a.metadata.response_code, ResponseCode::NoError);
    let ips: Vec<Ipv4Addr> = a
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect();
    assert_eq!(ips, vec![Ipv4Addr::LOCALHOST]);

    let srv = query(
        cluster.dns_addr(),
        "_web-shop._tcp.marathon.strato.",
        RecordType::SRV,
    );
    let mut ports: Vec<u16> = srv
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(s) => Some(s.port),
            _ => None,
        })
        .collect();
    ports.sort_unstable();
    let mut expected = task_ports.clone();
    expected.sort_unstable();
    assert_eq!(ports, expected);

    let leader = query(cluster.dns_addr(), "leader.strato.", RecordType::A);
    assert_eq!(leader.answers.len(), 1, "leader.strato: {leader:?}");
    let missing = query(cluster.dns_addr(), "nope.marathon.strato.", RecordType::A);
    assert_eq!(missing.metadata.response_code, ResponseCode::NXDomain);
}
