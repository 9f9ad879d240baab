//! The server on 127.0.0.1, queried over UDP and TCP with hickory's client.

use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use hickory_net::client::{Client, ClientHandle};
use hickory_net::proto::op::{DnsResponse, ResponseCode};
use hickory_net::proto::rr::{DNSClass, Name, RData, RecordType};
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::tcp::TcpClientStream;
use hickory_net::udp::UdpClientStream;
use strato_dns::{DnsConfig, DnsServer, DnsSnapshot, DnsTask};
use tokio::sync::oneshot;

fn view() -> DnsSnapshot {
    DnsSnapshot {
        leader: Some(Ipv4Addr::new(127, 0, 0, 1)),
        masters: vec![Ipv4Addr::new(127, 0, 0, 1)],
        tasks: vec![
            DnsTask {
                app_id: "/shop/web".into(),
                host: Ipv4Addr::new(127, 0, 0, 2),
                ports: vec![31000, 31001],
                running: true,
            },
            DnsTask {
                app_id: "/shop/web".into(),
                host: Ipv4Addr::new(127, 0, 0, 3),
                ports: vec![31002, 31003],
                running: true,
            },
            DnsTask {
                app_id: "/db".into(),
                host: Ipv4Addr::new(127, 0, 0, 4),
                ports: vec![31010],
                running: false,
            },
        ],
        ..Default::default()
    }
}

/// A running server; dropping it stops the server.
struct Running {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn start(domain: &str, resolvers: Vec<SocketAddr>, snapshot: DnsSnapshot) -> Running {
    let config = DnsConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        domain: domain.into(),
        resolvers,
    };
    let server = DnsServer::bind(config).await.expect("bind");
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run(Arc::new(snapshot), async move {
        let _ = stopped.await;
    }));
    Running { addr, _stop: stop }
}

async fn udp(addr: SocketAddr, name: &str, rtype: RecordType) -> DnsResponse {
    let stream = UdpClientStream::builder(addr, TokioRuntimeProvider::default()).build();
    let (mut client, bg) = Client::<TokioRuntimeProvider>::from_sender(stream);
    tokio::spawn(bg);
    client
        .query(Name::from_str(name).expect("name"), DNSClass::IN, rtype)
        .await
        .expect("udp query")
}

async fn tcp(addr: SocketAddr, name: &str, rtype: RecordType) -> DnsResponse {
    let (stream, sender) = TcpClientStream::new(addr, None, None, TokioRuntimeProvider::new());
    let stream = stream.await.expect("tcp connect");
    let (mut client, bg) = Client::<TokioRuntimeProvider>::new(stream, sender);
    tokio::spawn(bg);
    client
        .query(Name::from_str(name).expect("name"), DNSClass::IN, rtype)
        .await
        .expect("tcp query")
}

fn a_records(response: &DnsResponse) -> Vec<Ipv4Addr> {
    let mut ips: Vec<Ipv4Addr> = response
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect();
    ips.sort_unstable();
    ips
}

#[tokio::test]
async fn app_a_records_over_udp_name_the_hosts_of_running_tasks() {
    let server = start("strato", vec![], view()).await;
    let response = udp(server.addr, "web-shop.marathon.strato.", RecordType::A).await;
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert!(response.metadata.authoritative);
    assert_eq!(
        a_records(&response),
        vec![Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3)]
    );
}

#[tokio::test]
async fn srv_records_over_tcp_carry_every_port_and_resolvable_targets() {
    let server = start("strato", vec![], view()).await;
    let response = tcp(
        server.addr,
        "_web-shop._tcp.marathon.strato.",
        RecordType::SRV,
    )
    .await;
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    let mut targets: Vec<(String, u16)> = response
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(s) => Some((s.target.to_ascii(), s.port)),
            _ => None,
        })
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        vec![
            (
                "web-shop-127-0-0-2.marathon.slave.strato.".to_string(),
                31000
            ),
            (
                "web-shop-127-0-0-2.marathon.slave.strato.".to_string(),
                31001
            ),
            (
                "web-shop-127-0-0-3.marathon.slave.strato.".to_string(),
                31002
            ),
            (
                "web-shop-127-0-0-3.marathon.slave.strato.".to_string(),
                31003
            ),
        ]
    );
    let target = udp(
        server.addr,
        "web-shop-127-0-0-3.marathon.slave.strato.",
        RecordType::A,
    )
    .await;
    assert_eq!(a_records(&target), vec![Ipv4Addr::new(127, 0, 0, 3)]);
}

#[tokio::test]
async fn leader_and_master_names() {
    let server = start("strato", vec![], view()).await;
    assert_eq!(
        a_records(&udp(server.addr, "leader.strato.", RecordType::A).await),
        vec![Ipv4Addr::LOCALHOST]
    );
    assert_eq!(
        a_records(&tcp(server.addr, "master.strato.", RecordType::A).await),
        vec![Ipv4Addr::LOCALHOST]
    );
}

#[tokio::test]
async fn unknown_names_and_apps_without_running_tasks_are_nxdomain() {
    let server = start("strato", vec![], view()).await;
    for name in [
        "nope.marathon.strato.",
        "db.marathon.strato.",
        "whatever.strato.",
    ] {
        let response = udp(server.addr, name, RecordType::A).await;
        assert_eq!(
            response.metadata.response_code,
            ResponseCode::NXDomain,
            "{name}"
        );
        assert!(response.answers.is_empty(), "{name}");
    }
}

#[tokio::test]
async fn names_outside_the_domain_are_refused_without_upstreams() {
    let server = start("strato", vec![], view()).await;
    let response = udp(server.addr, "example.com.", RecordType::A).await;
    assert_eq!(response.metadata.response_code, ResponseCode::Refused);
}

#[tokio::test]
async fn names_outside_the_domain_are_forwarded_to_upstreams() {
    // The upstream is a second server, authoritative for another domain, on loopback.
    let upstream = start("upstream.test", vec![], view()).await;
    let front = start("strato", vec![upstream.addr], view()).await;

    let response = udp(
        front.addr,
        "web-shop.marathon.upstream.test.",
        RecordType::A,
    )
    .await;
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        a_records(&response),
        vec![Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3)]
    );

    let missing = udp(front.addr, "nope.upstream.test.", RecordType::A).await;
    assert_eq!(missing.metadata.response_code, ResponseCode::NXDomain);
}

#[tokio::test]
async fn probe_tells_a_serving_server_from_a_closed_port() {
    let server = start("strato", vec![], view()).await;
    let timeout = std::time::Duration::from_secs(2);
    assert!(strato_dns::probe::answers(server.addr, "leader.strato.", timeout).await);
    // A port nobody serves: bind it, learn it, free it.
    let closed = std::net::UdpSocket::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    assert!(
        !strato_dns::probe::answers(
            closed,
            "leader.strato.",
            std::time::Duration::from_millis(300)
        )
        .await
    );
}

#[tokio::test]
async fn edns_queries_get_edns_answers() {
    // hickory's client asks with EDNS by default.
    let server = start("strato", vec![], view()).await;
    let response = udp(server.addr, "leader.strato.", RecordType::A).await;
    let edns = response.edns.as_ref().expect("an OPT record in the answer");
    assert!(
        edns.max_payload() >= 512 && edns.max_payload() <= 1232,
        "{}",
        edns.max_payload()
    );
}
