//! Fakes for tests here and in dependent crates (server, CLI): scripted nodes
//! (`FakeTransport`) that look like healthy Rocky 9 VMs, a rendered serve tree, cluster.yaml
//! texts and a runner over them. Not used by production code.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::{Runner, RunnerEnv, ServeTree, StaticConnector};
use async_trait::async_trait;
use strato_api::{Event, Job, JobKind, JobOptions, JobRequest};
use strato_host::{
    ExecOptions, ExecOutput, FakeCall, FakeReply, FakeTransport, Transport, TransportError,
    UploadOptions,
};
use tokio::sync::Notify;

const FACTS: &str = include_str!("../../host/tests/fixtures/facts/rocky-9-vm.txt");

/// The first master, two agents.
pub const MASTER: &str = "10.0.1.1";
pub const AGENT_1: &str = "10.0.2.1";
pub const AGENT_2: &str = "10.0.2.2";
/// The other two masters of a three-master cluster.
pub const MASTER_2: &str = "10.0.1.2";
pub const MASTER_3: &str = "10.0.1.3";

/// A cluster.yaml with `masters` and `agents`, the `minimal` profile unless `hardware` says
/// otherwise, at most `parallelism` hosts at once.
pub fn cluster_yaml(
    masters: &[&str],
    agents: &[&str],
    hardware: &str,
    parallelism: usize,
) -> String {
    format!(
        "cluster_name: demo\nbootstrap: 10.0.0.1\nssh:\n  user: root\n  parallelism: {parallelism}\n\
         masters: [{}]\nagents: [{}]\nhardware: {hardware}\n",
        masters.join(", "),
        agents.join(", ")
    )
}

/// The standard 1 master + 2 agents cluster.
pub fn small_cluster() -> String {
    cluster_yaml(&[MASTER], &[AGENT_1, AGENT_2], "minimal", 30)
}

/// The gather script's output for a healthy node with its own address, name and machine-id.
pub fn facts_for(ip: &str, n: usize) -> String {
    FACTS
        .replace("10.0.0.11", ip)
        .replace("master-1", &format!("node-{n}"))
        .replace(
            "5b4b7e0f2a8a4b0c9d3f6f1d2c3b4a59",
            &format!("5b4b7e0f2a8a4b0c9d3f6f1d2c3b4a{n:02}"),
        )
}

fn os_release() -> String {
    let start = FACTS.find("NAME=").expect("fixture has os-release");
    let end = FACTS.find("\n@@strato@@ nproc").expect("fixture has nproc");
    FACTS[start..end].to_string()
}

/// A node that is reachable, healthy and has no Strato installed; install and health checks
/// succeed.
pub fn fresh_node(ip: &str, n: usize) -> FakeTransport {
    let fake = FakeTransport::new(format!("root@{ip}:22"));
    fake.on_prefix("cat /etc/os-release", FakeReply::ok(os_release()))
        .on_prefix("sh -c ", FakeReply::ok(facts_for(ip, n)))
        .on_prefix("cat /opt/strato/etc/deployed", FakeReply::fail(1, ""))
        .on_prefix("systemctl is-active strato", FakeReply::fail(3, ""))
        .on_prefix("mkdir -p /opt/strato", FakeReply::ok(""))
        .on_prefix(
            "sh /opt/strato/tmp/install.sh",
            FakeReply::Output(ExecOutput {
                stderr: b"install.sh: master installed at 10.0.1.1\n".to_vec(),
                ..ExecOutput::default()
            }),
        )
        .on_prefix("systemctl is-active --quiet", FakeReply::ok(""))
        // A running gateway: 401 without a token, Marathon's info with one.
        .on_contains("-w '%{http_code}' https://", FakeReply::ok("401"))
        .on_contains(
            "-H @- https://",
            FakeReply::ok(r#"{"name":"marathon","version":"1.11.0"}"#),
        );
    fake
}

/// A master of a three-master cluster whose etcd member already exists (it ran before).
pub fn etcd_member(fake: FakeTransport, ip: &str, n: usize) -> FakeTransport {
    let facts =
        facts_for(ip, n).replace("@@strato@@ etcd-member\nno", "@@strato@@ etcd-member\nyes");
    fake.on_prefix("sh -c ", FakeReply::ok(facts));
    fake
}

/// A node that already runs the tree with `digest` in `role` (a healthy, deployed node).
pub fn deployed_node(ip: &str, n: usize, marker: &str) -> FakeTransport {
    let fake = fresh_node(ip, n);
    fake.on_prefix(
        "cat /opt/strato/etc/deployed",
        FakeReply::ok(format!("{marker}\n")),
    )
    .on_prefix("systemctl is-active strato", FakeReply::ok("active\n"));
    fake
}

/// A rendered serve tree in `dir`, signed with the key in `<dir>/pki` as the installer signs it
/// (no bundle: the fake nodes never run install.sh for real).
pub fn serve_tree(dir: &Path, cluster_yaml: &str) -> ServeTree {
    serve_tree_with(dir, cluster_yaml, &strato_render::RenderOptions::default())
}

/// A bundle reference (not copied into the tree) whose manifest names Debian's etcd 3.4.23,
/// which needs glibc 2.34: what `strato bundle --etcd /usr/bin/etcd` records.
pub fn bundle_with_etcd() -> strato_render::RenderOptions {
    strato_render::RenderOptions {
        bundle: Some(strato_render::BundleRef {
            file_name: "strato-bundle-test.tar.gz".into(),
            sha256: "0".repeat(64),
            size: 1,
            source: None,
            etcd: Some(strato_bundle::EtcdInfo {
                version: "3.4.23".into(),
                min_glibc: Some("2.34".parse().expect("valid")),
            }),
            version: Some(strato_bundle::VERSION.into()),
        }),
        ..strato_render::RenderOptions::default()
    }
}

/// [`serve_tree`] rendered with `options` (e.g. [`bundle_with_etcd`]).
pub fn serve_tree_with(
    dir: &Path,
    cluster_yaml: &str,
    options: &strato_render::RenderOptions,
) -> ServeTree {
    let cluster = crate::parse_cluster(cluster_yaml, dir).expect("valid cluster");
    let mut tree = strato_render::render_tree(&cluster, options).expect("render");
    tree.sign(&dir.join("pki")).expect("sign");
    let serve = dir.join("serve");
    strato_render::write_tree(&tree, &serve).expect("write tree");
    ServeTree {
        dir: serve,
        url: "http://10.0.0.1:8090".into(),
    }
}

/// The digest the install phase records on a node.
pub fn digest(serve: &ServeTree) -> String {
    serve.digest().expect("digest")
}

/// The deployed marker a node installed by a deploy of `serve` from a runner in `dir` holds:
/// the tree's digest, the role and the fingerprints of the CA (made if missing) and the signing
/// key in `<dir>/pki`.
pub fn deployed_marker(dir: &Path, serve: &ServeTree, role: &str) -> String {
    let pki = dir.join("pki");
    let ca = strato_tls::ClusterCa::load_or_create(&pki, "test").expect("CA");
    let public = std::fs::read(pki.join(strato_tls::SIGNING_PUB)).expect("signing key");
    let marker = format!(
        "{} {role} {} {}",
        digest(serve),
        crate::phases::ca_fingerprint(&ca),
        &strato_render::sha256_hex(&public)[..16]
    );
    if role != "master" {
        return marker;
    }
    strato_tls::ensure_token_secret(&pki).expect("token secret");
    let (_, gateway) = crate::phases::gateway_files(&pki, &strato_config::Gateway::default(), dir)
        .expect("gateway files");
    format!("{marker} gw:{gateway}")
}

/// The marker of a master of a 3+ master cluster: [`deployed_marker`] and its etcd CA.
pub fn deployed_etcd_master_marker(dir: &Path, serve: &ServeTree) -> String {
    let etcd_ca = strato_tls::ClusterCa::load_or_create(
        &dir.join("pki").join(strato_tls::ETCD_CA_DIR),
        "test etcd",
    )
    .expect("etcd CA");
    format!(
        "{} etcd:{}",
        deployed_marker(dir, serve, "master"),
        crate::phases::ca_fingerprint(&etcd_ca)
    )
}

/// An operator identity from the CA in `pki` (made if missing), as `strato` holds one.
pub fn operator_tls(pki: &Path) -> strato_tls::MemberTls {
    let ca = strato_tls::ClusterCa::load_or_create(pki, "test").expect("CA");
    let issued = ca
        .issue(&strato_tls::MemberRequest {
            role: strato_tls::MemberRole::Operator,
            name: "operator".into(),
            ips: Vec::new(),
            dns: Vec::new(),
        })
        .expect("operator certificate");
    strato_tls::MemberTls::from_pem(ca.trust_pem(), &issued.cert_pem, &issued.key_pem)
        .expect("operator TLS")
}

/// A runner over `transports` with jobs in `<dir>/jobs`.
pub fn runner(dir: &Path, serve: &ServeTree, transports: &[(&str, Arc<dyn Transport>)]) -> Runner {
    let mut connector = StaticConnector::new();
    for (addr, t) in transports {
        connector = connector.with(addr, t.clone());
    }
    Runner::new(
        dir.join("jobs"),
        RunnerEnv {
            connector: Arc::new(connector),
            serve: serve.clone(),
            base_dir: dir.to_path_buf(),
            pki_dir: dir.join("pki"),
        },
    )
}

pub fn request(kind: JobKind, cluster: &str, options: JobOptions) -> JobRequest {
    JobRequest {
        kind,
        cluster: cluster.to_string(),
        options,
    }
}

/// Submit and wait for the end (a minute at most).
pub async fn run(runner: &Runner, req: JobRequest) -> Job {
    let job = runner.submit(req).expect("submit");
    runner
        .wait(&job.id, Duration::from_secs(60))
        .await
        .expect("job")
}

/// Every event the job journaled.
pub fn events(runner: &Runner, id: &str) -> Vec<Event> {
    runner.follow(id).expect("follow").replay
}

/// The recorded calls that change a host: uploads and commands that are not one of the
/// engine's reads.
pub fn mutating_calls(fake: &FakeTransport) -> Vec<String> {
    let reads = [
        "cat /etc/os-release",
        "sh -c ",
        "cat /opt/strato/etc/deployed",
        "systemctl is-active",
        "for p in ",
        "curl -fsS",
        "journalctl",
    ];
    fake.calls()
        .into_iter()
        .filter_map(|c| match c {
            FakeCall::Exec { command, .. } if !reads.iter().any(|r| command.starts_with(r)) => {
                Some(command)
            }
            FakeCall::Upload { path, .. } => Some(format!("upload {path}")),
            _ => None,
        })
        .collect()
}

/// Wraps a transport; commands starting with `prefix` wait forever (a host that hangs
/// mid-install), so a test can kill the job while it is stuck there.
#[derive(Debug)]
pub struct Hang {
    pub inner: FakeTransport,
    pub prefix: String,
    pub reached: Arc<Notify>,
}

#[async_trait]
impl Transport for Hang {
    fn address(&self) -> String {
        self.inner.address()
    }

    async fn exec(&self, command: &str, opts: ExecOptions) -> Result<ExecOutput, TransportError> {
        if command.starts_with(&self.prefix) {
            self.reached.notify_one();
            std::future::pending::<()>().await;
        }
        self.inner.exec(command, opts).await
    }

    async fn upload(
        &self,
        data: &[u8],
        path: &str,
        mode: u32,
        opts: UploadOptions,
    ) -> Result<(), TransportError> {
        self.inner.upload(data, path, mode, opts).await
    }

    async fn download(&self, path: &str, opts: UploadOptions) -> Result<Vec<u8>, TransportError> {
        self.inner.download(path, opts).await
    }
}

pub fn tempdir() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().to_path_buf();
    (d, p)
}

/// Every command and upload of several nodes in one order, as `address: command`: for
/// asserting the order of work across hosts.
#[derive(Debug, Clone, Default)]
pub struct Timeline(Arc<std::sync::Mutex<Vec<String>>>);

impl Timeline {
    pub fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// `inner`, with its calls also written to this timeline.
    pub fn record(&self, inner: FakeTransport, name: &str) -> Arc<dyn Transport> {
        Arc::new(Recorded {
            inner,
            name: name.to_string(),
            log: self.clone(),
        })
    }

    fn push(&self, line: String) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }
}

#[derive(Debug)]
struct Recorded {
    inner: FakeTransport,
    name: String,
    log: Timeline,
}

#[async_trait]
impl Transport for Recorded {
    fn address(&self) -> String {
        self.inner.address()
    }

    async fn exec(&self, command: &str, opts: ExecOptions) -> Result<ExecOutput, TransportError> {
        self.log.push(format!("{}: {command}", self.name));
        self.inner.exec(command, opts).await
    }

    async fn upload(
        &self,
        data: &[u8],
        path: &str,
        mode: u32,
        opts: UploadOptions,
    ) -> Result<(), TransportError> {
        self.log.push(format!("{}: upload {path}", self.name));
        self.inner.upload(data, path, mode, opts).await
    }

    async fn download(&self, path: &str, opts: UploadOptions) -> Result<Vec<u8>, TransportError> {
        self.inner.download(path, opts).await
    }
}
