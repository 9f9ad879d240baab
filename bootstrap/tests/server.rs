//! The bootstrap server over HTTPS (a certificate of the cluster CA) on 127.0.0.1, with jobs on scripted nodes: auth, submit,
//! follow events, status, the serve tree, and a server killed mid-job that resumes it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strato_api::{Client, ClientError, Event, EventKind, HostState, JobKind, JobOptions, JobState};
use strato_bootstrap::{start, RunningServer, ServerOptions};
use strato_engine::testing::*;
use strato_engine::{Journal, StaticConnector};
use strato_host::{FakeTransport, Transport};

const TOKEN: &str = "s3cret-token";

async fn server(dir: &std::path::Path, nodes: &[(&str, Arc<dyn Transport>)]) -> RunningServer {
    let mut connector = StaticConnector::new();
    for (addr, t) in nodes {
        connector = connector.with(addr, t.clone());
    }
    // The CA `strato deploy` uploads beside the server; it serves HTTPS from it.
    strato_tls::ClusterCa::load_or_create(&dir.join("pki"), "test").expect("CA");
    let opts = ServerOptions {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        token: TOKEN.into(),
        serve_url: None,
        pki_dir: dir.join("pki"),
        https: true,
    };
    start(opts, Arc::new(connector))
        .await
        .expect("server starts")
}

/// The operator's identity from the server's CA, as `strato` holds it.
fn operator(s: &RunningServer) -> strato_tls::MemberTls {
    operator_tls(&s.pki_dir)
}

fn client(s: &RunningServer) -> Client {
    Client::with_tls(format!("https://{}", s.addr), TOKEN, &operator(s)).expect("client")
}

/// What a node has: the cluster CA's certificate, no certificate of its own.
fn node_http(s: &RunningServer) -> reqwest::Client {
    use strato_tls::rustls;
    use strato_tls::rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(s.pki_dir.join(strato_tls::CA_CERT)).expect("ca.crt");
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.expect("PEM")).expect("root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    strato_tls::client_builder()
        .tls_backend_preconfigured(config)
        .build()
        .expect("node client")
}

fn arc(f: &FakeTransport) -> Arc<dyn Transport> {
    Arc::new(f.clone())
}

async fn follow_to_end(c: &Client, id: &str) -> Vec<Event> {
    let mut stream = c.events(id).await.expect("event stream");
    let mut events = Vec::new();
    let read = async {
        while let Some(e) = stream.next().await {
            events.push(e.expect("event"));
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the stream ends with the job");
    events
}

#[tokio::test]
async fn api_needs_the_token_but_health_and_files_do_not() {
    let (_d, dir) = tempdir();
    let serve = serve_tree(&dir, &small_cluster());
    let s = server(&dir, &[]).await;
    let http = node_http(&s);
    let base = format!("https://{}", s.addr);
    assert!(client(&s).health().await.expect("health"));
    // No plain HTTP on the node-facing port, and no TLS peer that does not trust the CA.
    assert!(strato_tls::client()
        .get(format!("http://{}/install.sh", s.addr))
        .send()
        .await
        .is_err_and(|e| !e.is_status()));
    assert!(strato_tls::client()
        .get(format!("{base}/install.sh"))
        .send()
        .await
        .is_err());
    let denied = http
        .get(format!("{base}/v1/jobs"))
        .send()
        .await
        .expect("send");
    assert_eq!(denied.status(), 401);
    let wrong = Client::with_tls(&base, "nope", &operator(&s)).expect("client");
    assert!(matches!(wrong.jobs().await, Err(ClientError::Status { status, .. }) if status == 401));

    let install = std::fs::read(serve.dir.join("install.sh")).expect("tree file");
    for path in ["/serve/install.sh", "/install.sh"] {
        let got = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("send");
        assert_eq!(got.status(), 200, "{path}");
        assert_eq!(got.bytes().await.expect("body").to_vec(), install, "{path}");
    }
    let manifest: strato_render::Manifest = http
        .get(format!("{base}/serve/manifest.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("manifest");
    assert_eq!(
        manifest.get("install.sh").expect("listed").sha256,
        strato_render::sha256_hex(&install)
    );
    let escape = http
        .get(format!("{base}/serve/../jobs"))
        .send()
        .await
        .expect("send");
    assert_eq!(escape.status(), 404);
}

#[tokio::test]
async fn a_bad_cluster_yaml_is_refused_naming_the_line() {
    let (_d, dir) = tempdir();
    serve_tree(&dir, &small_cluster());
    let s = server(&dir, &[]).await;
    let req = request(
        JobKind::Deploy,
        "cluster_name: demo\nmasterz: [1.2.3.4]\n",
        JobOptions::default(),
    );
    match client(&s).submit(&req).await {
        Err(ClientError::Status {
            status, message, ..
        }) => {
            assert_eq!(status, 400);
            assert!(message.contains("cluster.yaml:2"), "{message}");
        }
        other => panic!("expected 400, got {other:?}"),
    }
}

#[tokio::test]
async fn submit_follow_and_read_status_of_a_deploy() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    serve_tree(&dir, &yaml);
    let (m, a1, a2) = (
        fresh_node(MASTER, 1),
        fresh_node(AGENT_1, 2),
        fresh_node(AGENT_2, 3),
    );
    let s = server(
        &dir,
        &[(MASTER, arc(&m)), (AGENT_1, arc(&a1)), (AGENT_2, arc(&a2))],
    )
    .await;
    let c = client(&s);
    let job = c
        .submit(&request(JobKind::Deploy, &yaml, JobOptions::default()))
        .await
        .expect("submit");
    assert_eq!(job.hosts.len(), 3);
    let events = follow_to_end(&c, &job.id).await;
    assert!(matches!(
        events.first().map(|e| &e.kind),
        Some(EventKind::JobStarted { .. })
    ));
    assert!(matches!(
        events.last().map(|e| &e.kind),
        Some(EventKind::JobFinished {
            state: JobState::Succeeded
        })
    ));
    let hosts = c.hosts(&job.id).await.expect("hosts");
    assert!(
        hosts.iter().all(|h| h.state == HostState::Succeeded),
        "{hosts:#?}"
    );
    let listed = c.jobs().await.expect("jobs");
    assert_eq!(
        listed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        vec![job.id.as_str()]
    );
    // A late follower gets the same story from the journal.
    assert_eq!(follow_to_end(&c, &job.id).await, events);
}

#[tokio::test]
async fn a_killed_server_resumes_the_job_without_redoing_finished_hosts() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    serve_tree(&dir, &yaml);
    let reached = Arc::new(tokio::sync::Notify::new());
    let hang = Hang {
        inner: fresh_node(AGENT_2, 3),
        prefix: "sh /opt/strato/tmp/install.sh".into(),
        reached: reached.clone(),
    };
    let (m, a1) = (fresh_node(MASTER, 1), fresh_node(AGENT_1, 2));
    let s = server(
        &dir,
        &[
            (MASTER, arc(&m)),
            (AGENT_1, arc(&a1)),
            (AGENT_2, Arc::new(hang)),
        ],
    )
    .await;
    let job = client(&s)
        .submit(&request(JobKind::Deploy, &yaml, JobOptions::default()))
        .await
        .expect("submit");
    tokio::time::timeout(Duration::from_secs(30), reached.notified())
        .await
        .expect("agent 2 hangs in install");
    let journal = Journal::at(dir.join("jobs").join(&job.id));
    let until = Instant::now() + Duration::from_secs(30);
    while journal
        .read_host(AGENT_1)
        .expect("record")
        .done("Install agents")
        .is_none()
    {
        assert!(Instant::now() < until, "agent 1 never finished installing");
        tokio::task::yield_now().await;
    }
    drop(s); // the kill

    let (m2, a1b, a2b) = (
        fresh_node(MASTER, 1),
        fresh_node(AGENT_1, 2),
        fresh_node(AGENT_2, 3),
    );
    let s = server(
        &dir,
        &[
            (MASTER, arc(&m2)),
            (AGENT_1, arc(&a1b)),
            (AGENT_2, arc(&a2b)),
        ],
    )
    .await;
    assert_eq!(s.resumed, vec![job.id.clone()]);
    let c = client(&s);
    let events = follow_to_end(&c, &job.id).await;
    assert!(matches!(
        events.last().map(|e| &e.kind),
        Some(EventKind::JobFinished {
            state: JobState::Succeeded
        })
    ));
    assert_eq!(mutating_calls(&m2), Vec::<String>::new());
    assert_eq!(mutating_calls(&a1b), Vec::<String>::new());
    assert!(a2b
        .commands()
        .iter()
        .any(|c| c.starts_with("sh /opt/strato/tmp/install.sh")));
    let skipped: Vec<&str> = events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::HostSkipped { reason } if reason.starts_with("done in an earlier run")))
        .filter_map(|e| e.host.as_deref())
        .collect();
    assert_eq!(skipped, vec![MASTER, AGENT_1]);
}

#[test]
fn debug_output_never_shows_the_token() {
    let opts = ServerOptions {
        data_dir: "/var/lib/strato-bootstrap".into(),
        listen: "127.0.0.1:8090".parse().expect("addr"),
        token: "planted-token-4f1c".into(),
        serve_url: None,
        pki_dir: "/var/lib/strato-bootstrap/pki".into(),
        https: true,
    };
    let client =
        strato_api::Client::new("http://127.0.0.1:8090", "planted-token-4f1c").expect("client");
    for text in [format!("{opts:?}"), format!("{client:?}")] {
        assert!(!text.contains("planted-token"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
}
