//! A CA made in a temporary directory issues members; servers and clients on 127.0.0.1 accept
//! exactly the peers whose certificate chains to that CA and grants the expected role.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use axum::routing::get;
use axum::{Extension, Router};
use strato_tls::{
    member_client_builder, serve, server_config, ClientAuth, ClusterCa, Limits, MemberRequest,
    MemberRole, MemberTls, Peer,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn member(ca: &ClusterCa, role: MemberRole) -> MemberTls {
    let issued = ca
        .issue(&MemberRequest {
            role,
            name: format!("{role}.test"),
            ips: vec![LOOPBACK],
            dns: vec!["localhost".into()],
        })
        .expect("issue");
    MemberTls::from_pem(ca.cert_pem(), &issued.cert_pem, &issued.key_pem).expect("load")
}

async fn who(Extension(peer): Extension<Peer>) -> String {
    let roles: Vec<&str> = peer.roles.iter().map(|r| r.as_str()).collect();
    format!("tls={} roles={}", peer.tls, roles.join(","))
}

struct Server {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn start(identity: &MemberTls, auth: ClientAuth) -> Server {
    let listener = TcpListener::bind((LOOPBACK, 0)).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = server_config(identity, auth).expect("server config");
    let (stop, stopped) = oneshot::channel::<()>();
    let router = Router::new().route("/who", get(who));
    tokio::spawn(serve(
        listener,
        router,
        Some(config),
        Limits::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    Server { addr, _stop: stop }
}

async fn ask(
    client: &MemberTls,
    server_roles: &[MemberRole],
    addr: SocketAddr,
) -> Result<String, String> {
    let http = member_client_builder(client, server_roles)
        .expect("client")
        .build()
        .expect("build");
    let response = http
        .get(format!("https://{addr}/who"))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    response.text().await.map_err(|e| e.to_string())
}

fn new_ca(dir: &Path) -> ClusterCa {
    ClusterCa::load_or_create(dir, "test").expect("ca")
}

#[tokio::test]
async fn the_ca_is_made_once_with_its_key_private() {
    let dir = tempfile::tempdir().expect("tmp");
    let first = new_ca(dir.path());
    let again = new_ca(dir.path());
    assert_eq!(
        first.cert_pem(),
        again.cert_pem(),
        "a second load must not make a new CA"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("ca.key"))
            .expect("ca.key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!format!("{first:?}").contains("PRIVATE KEY"));

    // A CA certificate without its key is an error naming the missing file.
    std::fs::remove_file(dir.path().join("ca.key")).expect("rm");
    let err = ClusterCa::load_or_create(dir.path(), "test").expect_err("half a CA");
    assert!(err.to_string().contains("ca.key"), "{err}");
}

#[tokio::test]
async fn a_listener_for_masters_refuses_agents_operators_strangers_and_other_cas() {
    let dir = tempfile::tempdir().expect("tmp");
    let ca = new_ca(dir.path());
    let agent = member(&ca, MemberRole::Agent);
    let server = start(&agent, ClientAuth::Required(vec![MemberRole::Master])).await;

    let master = member(&ca, MemberRole::Master);
    let answer = ask(&master, &[MemberRole::Agent], server.addr)
        .await
        .expect("master");
    assert_eq!(answer, "tls=true roles=master");

    for role in [MemberRole::Agent, MemberRole::Operator] {
        let other = member(&ca, role);
        assert!(
            ask(&other, &[MemberRole::Agent], server.addr)
                .await
                .is_err(),
            "a {role} certificate must not be accepted"
        );
    }

    let elsewhere = tempfile::tempdir().expect("tmp");
    let foreign = member(&new_ca(elsewhere.path()), MemberRole::Master);
    let err = ask(&foreign, &[MemberRole::Agent], server.addr)
        .await
        .expect_err("a master certificate from another CA");
    assert!(!err.is_empty());

    // No certificate at all.
    let plain = strato_tls::client_builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).expect("ca")])
        .build()
        .expect("client");
    assert!(plain
        .get(format!("https://{}/who", server.addr))
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn an_optional_listener_tells_routes_who_is_calling() {
    let dir = tempfile::tempdir().expect("tmp");
    let ca = new_ca(dir.path());
    let master = member(&ca, MemberRole::Master);
    let server = start(&master, ClientAuth::Optional).await;

    let operator = member(&ca, MemberRole::Operator);
    let answer = ask(&operator, &[MemberRole::Master], server.addr)
        .await
        .expect("operator");
    assert_eq!(answer, "tls=true roles=operator");

    let anonymous = strato_tls::client_builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).expect("ca")])
        .build()
        .expect("client");
    let answer = anonymous
        .get(format!("https://{}/who", server.addr))
        .send()
        .await
        .expect("an anonymous client gets through the handshake")
        .text()
        .await
        .expect("body");
    assert_eq!(answer, "tls=true roles=");
}

#[tokio::test]
async fn a_client_refuses_a_server_without_the_expected_role() {
    let dir = tempfile::tempdir().expect("tmp");
    let ca = new_ca(dir.path());
    // An agent certificate posing as a master: the agent's client expects a master.
    let impostor = member(&ca, MemberRole::Agent);
    let server = start(&impostor, ClientAuth::Optional).await;
    let agent = member(&ca, MemberRole::Agent);
    assert!(ask(&agent, &[MemberRole::Master], server.addr)
        .await
        .is_err());
    assert!(ask(&agent, &[MemberRole::Agent], server.addr).await.is_ok());
}
