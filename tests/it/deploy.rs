//! End-to-end on real nodes (Debian 12 containers with systemd and sshd, see
//! `common/nodes.rs`): Strato's own SSH engine and host layer against them, and the whole
//! `strato deploy | postflight | uninstall` path through a remote bootstrap host. One node set per
//! test, several assertions per set: each container costs seconds to boot on CI's two cores.
//!
//! These tests need a running Docker engine and fail (never skip) without one: `tests/run`
//! starts dockerd.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strato_config::{Hardware, Profile};
use strato_host::preflight::names;
use strato_host::{
    check_host, render_table, Change, CheckResult, GatherSpec, Host, PreflightSpec, Requirements,
    Role, SshTransport, Status, UploadOptions,
};
use strato_ssh::{AuthMethod, ConnectOptions, HostKeyPolicy, SshError, Target};

use crate::common::nodes::{Node, NodeSpec, Nodes};

mod gateway;
mod ha;
mod recovery;
mod rotation;
mod upgrade;

/// Every SSH step of a test must finish within this.
const JOB: Duration = Duration::from_secs(120);

/// cluster.yaml's hardware setting for `role`, in strato-host's units.
fn requirements(hardware: Hardware, role: Role) -> Requirements {
    let role = match role {
        Role::Bootstrap => strato_config::Role::Bootstrap,
        Role::Master => strato_config::Role::Master,
        Role::Agent => strato_config::Role::Agent,
        Role::PublicAgent => strato_config::Role::PublicAgent,
    };
    let r = hardware.requirement(role);
    Requirements {
        cpus: r.cpus,
        memory_mib: u64::from(r.memory_gib) * 1024,
        disk_mib: u64::from(r.disk_gib) * 1024,
    }
}

fn options(nodes: &Nodes, host_key: HostKeyPolicy) -> ConnectOptions {
    let mut opts = ConnectOptions::new(vec![AuthMethod::key(nodes.key_path())]);
    opts.host_key = host_key;
    opts
}

async fn connect(
    nodes: &Nodes,
    node: &Node,
    host_key: HostKeyPolicy,
) -> Result<SshTransport, SshError> {
    SshTransport::connect(
        &Target::new(node.ip.clone(), "root"),
        &options(nodes, host_key),
        Some(Instant::now() + JOB),
    )
    .await
}

async fn preflight(host: &Host, role: Role, hardware: Hardware) -> Vec<CheckResult> {
    let spec = PreflightSpec::for_role(role, requirements(hardware, role));
    let facts = host
        .gather_facts(&GatherSpec {
            data_dir: "/var/lib/strato".into(),
            binaries: spec.required_binaries.clone(),
            ip_detect: None,
        })
        .await
        .expect("gather facts over ssh");
    assert!(
        facts.problems.is_empty(),
        "{}: facts incomplete: {:?}",
        host.name(),
        facts.problems
    );
    let results = check_host(&facts, &spec);
    // In the test log: what an operator would read.
    eprintln!(
        "preflight {} as {role} ({hardware:?}):\n{}",
        host.name(),
        render_table(&results)
    );
    results
}

fn check<'a>(results: &'a [CheckResult], name: &str) -> &'a CheckResult {
    results
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no {name} check in:\n{}", render_table(results)))
}

/// The CPU count the node reports, read without Strato (docker exec).
fn node_cpus(nodes: &Nodes, node: &Node) -> u32 {
    let out = nodes.exec(node, "nproc");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("nproc prints a number")
}

/// Upload the dev bundle and its `.sha256` to `/tmp`, check and unpack it into `/opt/strato`
/// as install.sh does, and run each binary's `--version`.
async fn install_bundle(host: &Host) {
    let bundle = crate::bundle::dev_bundle();
    let name = bundle
        .file_name()
        .and_then(|n| n.to_str())
        .expect("utf-8 bundle name")
        .to_string();
    let upload = |path: &std::path::Path, dest: String| {
        let data = std::fs::read(path).expect("read bundle");
        Change::Upload {
            data,
            path: dest,
            mode: 0o644,
            opts: UploadOptions {
                sudo: true,
                deadline: Some(Instant::now() + JOB),
                ..UploadOptions::default()
            },
        }
    };
    host.apply_ok(upload(&bundle, format!("/tmp/{name}")))
        .await
        .expect("upload the bundle");
    host.apply_ok(upload(
        &strato_bundle::checksum_path(&bundle),
        format!("/tmp/{name}.sha256"),
    ))
    .await
    .expect("upload its checksum");
    host.apply_ok(Change::exec_sudo(format!(
        "cd /tmp && sha256sum -c {name}.sha256 && mkdir -p /opt/strato && tar -xzf {name} -C /opt/strato"
    )))
    .await
    .expect("verify and unpack the bundle on the node");
    for bin in strato_bundle::NODE_BINARIES {
        let version = host
            .read_ok(&format!("/opt/strato/bin/{bin} --version"))
            .await
            .unwrap_or_else(|e| panic!("{bin} does not start on the node: {e}"));
        assert_eq!(
            version.trim(),
            format!("{bin} {}", strato_bundle::VERSION),
            "{bin} --version"
        );
    }
}

#[test]
fn preflight_os_detection_and_host_key_pinning_on_real_nodes() {
    let nodes = Nodes::start(&[
        NodeSpec::named("node-1"),
        NodeSpec {
            name: "small".into(),
            memory: Some("1g".into()),
        },
    ]);
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let node = nodes.node("node-1");
        let transport = connect(&nodes, node, HostKeyPolicy::TrustOnFirstUse)
            .await
            .expect("first connect (trust on first use)");
        let first_key = transport.session().host_key().clone();
        assert!(first_key.first_use, "a first contact must ask to pin");
        let host = Host::new(node.name.clone(), Arc::new(transport));

        // OS detection: the debootstrap image is Debian 12.
        let os = host.detect_os(None).await.expect("detect os");
        assert_eq!(os.module.id(), "debian");
        assert_eq!(os.release.version_id, "12");
        assert!(os.module.supports(&os.release));

        // Minimal profile: the whole preflight passes (WARNs allowed, no FAIL).
        let minimal = preflight(&host, Role::Master, Hardware::Profile(Profile::Minimal)).await;
        let table = render_table(&minimal);
        assert!(
            minimal.iter().all(|r| r.status != Status::Fail),
            "minimal profile must pass on a plain node:\n{table}"
        );
        for name in [names::CPU, names::MEMORY, names::DISK, names::OS] {
            assert_eq!(check(&minimal, name).status, Status::Pass, "{table}");
        }

        // Production profile: a master needs 4 CPUs; the node has what the machine has.
        let production =
            preflight(&host, Role::Master, Hardware::Profile(Profile::Production)).await;
        let table = render_table(&production);
        let cpus = node_cpus(&nodes, node);
        let cpu = check(&production, names::CPU);
        assert_eq!(cpu.measured, format!("{cpus} cores"), "{table}");
        assert_eq!(cpu.required, ">= 4 cores", "{table}");
        if cpus < 4 {
            assert_eq!(cpu.status, Status::Fail, "{table}");
            assert!(
                cpu.message.contains(&format!("{cpus} CPUs < 4")),
                "the message must say why:\n{table}"
            );
        } else {
            assert_eq!(cpu.status, Status::Pass, "{table}");
        }

        // A node started with --memory 1g: its cgroup limit, not the machine's RAM, counts.
        let small = nodes.node("small");
        let small_host = Host::new(
            small.name.clone(),
            Arc::new(
                connect(&nodes, small, HostKeyPolicy::TrustOnFirstUse)
                    .await
                    .expect("connect to the small node"),
            ),
        );
        let results = preflight(
            &small_host,
            Role::Agent,
            Hardware::Profile(Profile::Production),
        )
        .await;
        let table = render_table(&results);
        let memory = check(&results, names::MEMORY);
        assert_eq!(memory.status, Status::Fail, "{table}");
        assert_eq!(memory.measured, "1024 MiB (cgroup limit)", "{table}");
        assert!(memory.message.contains("cgroup memory limit"), "{table}");

        // The runtime bundle, uploaded through Strato's SSH engine, checks out with the node's
        // own sha256sum and its binaries start on the node.
        install_bundle(&host).await;

        // Changed host key: pin the first key, give the node new keys, connect again.
        let regenerate = nodes.exec(
            node,
            "rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && systemctl restart ssh",
        );
        assert!(
            regenerate.status.success(),
            "regenerating host keys: {}",
            String::from_utf8_lossy(&regenerate.stderr)
        );
        let pinned = HostKeyPolicy::from_pinned(Some(first_key.fingerprint.clone()));
        let err = connect(&nodes, node, pinned)
            .await
            .expect_err("a changed host key must be refused");
        let text = err.to_string();
        match &err {
            SshError::HostKeyChanged {
                expected, actual, ..
            } => {
                assert_eq!(expected, first_key.fingerprint.as_str());
                assert_ne!(actual, &first_key.fingerprint);
                assert!(text.contains(expected.as_str()), "{text}");
                assert!(text.contains(actual.as_str()), "{text}");
            }
            other => panic!("expected a host key change error, got: {other}"),
        }
    });
}

/// The hostname cluster.yaml gives agent-2 (agent-1 keeps the default, its detected IP).
const AGENT_2_NAME: &str = "agent-2.e2e.test";

/// cluster.yaml for a bootstrap host, one master and two agents, in `dir`.
fn write_cluster_yaml(dir: &std::path::Path, nodes: &Nodes) -> std::path::PathBuf {
    let ip = |name: &str| nodes.node(name).ip.clone();
    let text = format!(
        "cluster_name: e2e\n\
         bootstrap: {boot}\n\
         ssh:\n  user: root\n  key_path: {key}\n\
         masters: [{master}]\n\
         agents: [{{address: {a1}, labels: {{rack: r1}}}}, {{address: {a2}, hostname: {AGENT_2_NAME}}}]\n\
         hardware: minimal\n",
        boot = ip("bootstrap"),
        key = nodes.key_path().display(),
        master = ip("master-1"),
        a1 = ip("agent-1"),
        a2 = ip("agent-2"),
    );
    let path = dir.join("cluster.yaml");
    std::fs::write(&path, text).expect("write cluster.yaml");
    path
}

/// The operator's certificate files `strato deploy` made beside cluster.yaml in `dir`.
fn operator_files(dir: &std::path::Path) -> strato_tls::TlsFiles {
    let pki = dir.join(".strato/pki");
    strato_tls::TlsFiles {
        ca: pki.join("ca.crt"),
        cert: pki.join("operator.crt"),
        key: pki.join("operator.key"),
    }
}

/// A mutual-TLS client with `files`' identity, for servers holding `server` role certificates.
fn member_client(
    files: &strato_tls::TlsFiles,
    server: strato_tls::MemberRole,
) -> reqwest::blocking::Client {
    let tls = strato_tls::MemberTls::load(files).expect("load the member identity");
    strato_tls::blocking_member_client_builder(&tls, &[server])
        .expect("member client")
        .timeout(Duration::from_secs(10))
        .build()
        .expect("member client")
}

/// The checks an attacker on the nodes' network would try: plain HTTP, TLS without a
/// certificate, a certificate of another CA, and an agent's certificate used to pose as another
/// agent. Each is refused.
fn refuses_strangers(dir: &std::path::Path, nodes: &Nodes) {
    let master = &nodes.node("master-1").ip;
    let agent_1 = &nodes.node("agent-1").ip;
    let agent_2 = &nodes.node("agent-2").ip;
    let app = serde_json::json!({"id": "/evil", "cmd": "id > /tmp/owned", "cpus": 0.1, "mem": 16});

    // The master's and agents' APIs no longer listen in plain HTTP on the node's address.
    let plain = strato_tls::blocking_client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    for url in [
        format!("http://{master}:8080/v2/apps"),
        format!("http://{agent_1}:5051/state"),
    ] {
        assert!(plain.get(&url).send().is_err(), "{url} answered plain HTTP");
    }

    // The bootstrap server serves the tree over HTTPS only, with a certificate of the cluster CA
    // that deploy gave each node: an agent fetches with that CA, not without it, and never in
    // plain HTTP.
    let boot = &nodes.node("bootstrap").ip;
    let agent = nodes.node("agent-1");
    let fetch = |options: &str, scheme: &str| {
        nodes
            .exec(
                agent,
                &format!("curl -fsS --max-time 10 {options} {scheme}://{boot}:8090/SHA256SUMS"),
            )
            .status
            .success()
    };
    assert!(
        fetch("--cacert /opt/strato/etc/tls/ca.crt", "https"),
        "an agent cannot fetch the tree with the cluster CA"
    );
    assert!(
        !fetch("", "https"),
        "the bootstrap server's certificate is trusted without the cluster CA"
    );
    assert!(
        !fetch("", "http"),
        "the bootstrap server answered plain HTTP"
    );

    // TLS without a certificate: the master says 403 to writes and reads alike, the agent does
    // not finish the handshake.
    let anonymous = strato_tls::blocking_client_builder()
        .timeout(Duration::from_secs(10))
        .tls_danger_accept_invalid_certs(true)
        .build()
        .expect("https client");
    let resp = anonymous
        .post(format!("https://{master}:8080/v2/apps"))
        .json(&app)
        .send()
        .expect("the master answers a TLS client without a certificate");
    assert_eq!(
        resp.status().as_u16(),
        403,
        "POST /v2/apps without a certificate"
    );
    let resp = anonymous
        .get(format!("https://{master}:8080/v2/apps"))
        .send()
        .expect("GET /v2/apps");
    assert_eq!(
        resp.status().as_u16(),
        403,
        "GET /v2/apps without a certificate"
    );
    assert!(
        anonymous
            .get(format!("https://{agent_1}:5051/state"))
            .send()
            .is_err(),
        "an agent served a client without a certificate"
    );

    // A certificate of another CA, even one claiming the agent role, is not a member.
    let other = tempfile::tempdir().expect("tmp");
    let ca = strato_tls::ClusterCa::load_or_create(other.path(), "impostor").expect("CA");
    let issued = ca
        .issue(&strato_tls::MemberRequest {
            role: strato_tls::MemberRole::Agent,
            name: agent_2.clone(),
            ips: vec![agent_2.parse().expect("ip")],
            dns: Vec::new(),
        })
        .expect("issue");
    let impostor = strato_tls::blocking_client_builder()
        .timeout(Duration::from_secs(10))
        .tls_danger_accept_invalid_certs(true)
        .identity(
            reqwest::Identity::from_pem(
                format!("{}{}", issued.cert_pem, issued.key_pem).as_bytes(),
            )
            .expect("identity"),
        )
        .build()
        .expect("impostor client");
    let register = |client: &reqwest::blocking::Client, address: &str| {
        let body = serde_json::json!({
            "agent": {
                "id": "impostor", "hostname": "impostor", "address": address, "port": 5051,
                "resources": {"cpus": 64.0, "mem": 65536.0, "disk": 1000.0, "ports": []},
                "role": "*", "version": "0"
            },
            "tasks": []
        });
        client
            .post(format!("https://{master}:5050/agent/v1/register"))
            .json(&body)
            .send()
            .map(|r| r.status().as_u16())
    };
    // rustls refuses the unknown issuer during the handshake or the route says 403.
    let status = register(&impostor, agent_2);
    assert!(
        !matches!(status, Ok(s) if s < 400),
        "a certificate of another CA registered an agent: {status:?}"
    );

    // agent-1's own certificate does not let it register as agent-2.
    let pem = |path: &str| {
        String::from_utf8(
            nodes
                .exec(nodes.node("agent-1"), &format!("cat {path}"))
                .stdout,
        )
        .expect("PEM")
    };
    let agent_dir = tempfile::tempdir().expect("tmp");
    let files = strato_tls::TlsFiles {
        ca: agent_dir.path().join("ca.crt"),
        cert: agent_dir.path().join("node.crt"),
        key: agent_dir.path().join("node.key"),
    };
    for (path, name) in [
        (&files.ca, "ca.crt"),
        (&files.cert, "node.crt"),
        (&files.key, "node.key"),
    ] {
        std::fs::write(path, pem(&format!("/opt/strato/etc/tls/{name}"))).expect("write");
    }
    let agent_client = member_client(&files, strato_tls::MemberRole::Master);
    assert_eq!(
        register(&agent_client, agent_2).expect("the master answers agent-1"),
        403,
        "agent-1's certificate registered agent-2's address"
    );
    // Nor does an agent's certificate drive the Marathon API.
    let resp = agent_client
        .post(format!("https://{master}:8080/v2/apps"))
        .json(&app)
        .send()
        .expect("POST /v2/apps with an agent certificate");
    assert_eq!(
        resp.status().as_u16(),
        403,
        "an agent certificate posted an app"
    );

    // The operator's key stays the operator's.
    let mode = std::fs::metadata(operator_files(dir).key)
        .expect("operator.key")
        .permissions();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.mode() & 0o777, 0o600);
}

/// The secrets a deploy handles (the SSH key, the bootstrap API token, the CA, operator and
/// signing keys) appear in none of what it printed, its debug log, the bootstrap server's journal
/// and job files, or the nodes' journals.
fn no_secret_leaked(dir: &std::path::Path, nodes: &Nodes, printed: &str) {
    let text = |out: std::process::Output| String::from_utf8_lossy(&out.stdout).into_owned();
    let boot = nodes.node("bootstrap");
    let token = text(nodes.exec(boot, "cat /var/lib/strato-bootstrap/token"));
    assert!(
        token.trim().len() >= 16,
        "the bootstrap token is readable: {token:?}"
    );
    let mut secrets = vec![token.trim().to_string()];
    let pki = dir.join(".strato/pki");
    for key in [
        nodes.key_path(),
        pki.join("ca.key"),
        pki.join("operator.key"),
        pki.join("serve-signing.key"),
    ] {
        let pem =
            std::fs::read_to_string(&key).unwrap_or_else(|e| panic!("{}: {e}", key.display()));
        // Each base64 line of the key body is a secret on its own.
        secrets.extend(
            pem.lines()
                .filter(|l| !l.starts_with("-----") && l.len() >= 24)
                .map(str::to_string),
        );
    }
    // The gateway's: its token secret, the generated admin password and its hash.
    for file in [
        "gateway-token.secret",
        "admin-password",
        "admin-password.hash",
    ] {
        let text =
            std::fs::read_to_string(pki.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(text.trim().len() >= 16, "{file} holds a secret");
        secrets.push(text.trim().to_string());
    }
    let mut places = vec![
        ("the CLI's output".to_string(), printed.to_string()),
        (
            "the CLI's log".to_string(),
            std::fs::read_to_string(dir.join("strato.log")).expect("strato.log"),
        ),
        (
            "the bootstrap server's journal and job files".to_string(),
            text(nodes.exec(
                boot,
                "journalctl --no-pager -u strato-bootstrap; cat /var/lib/strato-bootstrap/jobs/*/* 2>/dev/null",
            )),
        ),
    ];
    for name in ["master-1", "agent-1"] {
        places.push((
            format!("{name}'s journal"),
            text(nodes.exec(nodes.node(name), "journalctl --no-pager -u 'strato*'")),
        ));
    }
    for (place, content) in &places {
        assert!(!content.is_empty(), "{place} is empty: nothing was checked");
        for secret in &secrets {
            assert!(
                !content.contains(secret.as_str()),
                "{place} shows a secret ({}…)",
                &secret[..8]
            );
        }
    }
}

/// `strato <command> -c cluster.yaml` with the dev bundle; prints its output to the test log.
fn strato_job(command: &str, config: &std::path::Path) -> std::process::Output {
    let out = crate::common::strato()
        // Each test's own debug log, beside its cluster.yaml (the default is shared).
        .env("STRATO_LOG_FILE", config.with_file_name("strato.log"))
        .args(command.split_whitespace())
        .arg("-c")
        .arg(config)
        .arg("--bundle")
        .arg(crate::bundle::dev_bundle())
        .timeout(Duration::from_secs(900))
        .output()
        .expect("run strato");
    eprintln!(
        "strato {command}: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Polls `check` every 500 ms until it returns `Some`, or panics naming `what`.
fn poll<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn deploy_runs_an_app_on_real_nodes_and_a_second_deploy_changes_nothing() {
    let nodes = Nodes::start(&[
        NodeSpec::named("bootstrap"),
        NodeSpec::named("master-1"),
        NodeSpec::named("agent-1"),
        NodeSpec::named("agent-2"),
    ]);
    // Built before the clock starts: the deploy's wall time is what an operator waits for.
    crate::bundle::dev_bundle();
    let dir = tempfile::tempdir().expect("tmp");
    let config = write_cluster_yaml(dir.path(), &nodes);

    // A dry run lists what it would do to the bootstrap host and changes nothing there.
    let out = crate::common::strato()
        .args(["deploy", "--dry-run", "-c"])
        .arg(&config)
        .arg("--bundle")
        .arg(crate::bundle::dev_bundle())
        .timeout(Duration::from_secs(300))
        .output()
        .expect("run strato");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dry run failed: {stderr}");
    assert!(
        stderr.contains("would upload: /opt/strato-bootstrap/bin/strato-bootstrap"),
        "{stderr}"
    );
    assert!(
        stderr.contains("systemctl restart strato-bootstrap"),
        "{stderr}"
    );
    let left = nodes.exec(
        nodes.node("bootstrap"),
        "ls -d /opt/strato-bootstrap /var/lib/strato-bootstrap /etc/systemd/system/strato-bootstrap.service 2>/dev/null | wc -l",
    );
    assert_eq!(
        String::from_utf8_lossy(&left.stdout).trim(),
        "0",
        "the dry run changed the bootstrap host"
    );

    let mut printed = String::new();
    let mut keep = |out: &std::process::Output| {
        printed.push_str(&String::from_utf8_lossy(&out.stdout));
        printed.push_str(&String::from_utf8_lossy(&out.stderr));
    };
    let started = Instant::now();
    let out = strato_job("deploy", &config);
    let took = started.elapsed();
    keep(&out);
    eprintln!("deploy of bootstrap + 1 master + 2 agents took {took:?}");
    assert!(out.status.success(), "strato deploy failed");
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        summary.contains("deploy: 3 ok, 0 failed, 0 skipped of 3 hosts; 3 changed"),
        "{summary}"
    );
    for name in ["master-1", "agent-1", "agent-2"] {
        let ip = &nodes.node(name).ip;
        assert!(
            summary.contains(ip.as_str()),
            "summary names {ip}:\n{summary}"
        );
    }

    let out = strato_job("postflight", &config);
    keep(&out);
    assert!(out.status.success(), "strato postflight failed");

    // agent-1's labels from cluster.yaml reach its agent.toml (Marathon constraints match on them).
    let agent_toml = nodes.exec(nodes.node("agent-1"), "cat /opt/strato/etc/agent.toml");
    let agent_toml = String::from_utf8_lossy(&agent_toml.stdout).into_owned();
    assert!(
        agent_toml.contains(r#"attributes = { "rack" = "r1" }"#),
        "agent-1's agent.toml lacks its labels:\n{agent_toml}"
    );

    // Nothing on the network but cluster members reaches the cluster (README "Security model").
    let master = &nodes.node("master-1").ip;
    refuses_strangers(dir.path(), &nodes);

    // An app posted to the master's Marathon API with the operator certificate `strato deploy`
    // left beside cluster.yaml runs on the agents and answers HTTP.
    let http = member_client(&operator_files(dir.path()), strato_tls::MemberRole::Master);
    let plain = strato_tls::blocking_client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let app = serde_json::json!({
        "id": "/web",
        "cmd": "exec python3 -m http.server $PORT0",
        "instances": 2,
        "cpus": 0.1,
        "mem": 32,
        "portDefinitions": [{"port": 0}],
        "constraints": [["hostname", "UNIQUE"]],
        // The gateway routes /service/web/ here.
        "labels": {"DCOS_SERVICE_NAME": "web"},
    });
    let resp = http
        .post(format!("https://{master}:8080/v2/apps"))
        .json(&app)
        .send()
        .expect("POST /v2/apps to the master");
    assert_eq!(
        resp.status().as_u16(),
        201,
        "{}",
        resp.text().unwrap_or_default()
    );
    let agents = [
        nodes.node("agent-1").ip.clone(),
        nodes.node("agent-2").ip.clone(),
    ];
    let tasks = poll(Duration::from_secs(120), "2 running tasks of /web", || {
        let body: serde_json::Value = http
            .get(format!("https://{master}:8080/v2/apps/web?embed=app.tasks"))
            .send()
            .ok()?
            .json()
            .ok()?;
        let tasks = body["app"]["tasks"].as_array()?.clone();
        let running: Vec<(String, String, u64)> = tasks
            .iter()
            .filter(|t| t["state"] == "TASK_RUNNING")
            .filter_map(|t| {
                // Marathon's `host` is the agent's hostname: agent-1's detected IP, and the name
                // cluster.yaml gives agent-2, which only this test knows how to reach.
                let host = t["host"].as_str()?;
                let ip = if host == AGENT_2_NAME {
                    nodes.node("agent-2").ip.clone()
                } else {
                    host.to_string()
                };
                Some((host.to_string(), ip, t["ports"][0].as_u64()?))
            })
            .collect();
        (running.len() == 2).then_some(running)
    });
    let mut reported: Vec<&str> = tasks.iter().map(|(h, _, _)| h.as_str()).collect();
    reported.sort_unstable();
    let mut wanted = vec![agents[0].as_str(), AGENT_2_NAME];
    wanted.sort_unstable();
    assert_eq!(
        reported, wanted,
        "task hosts: agent-1's IP, and agent-2's hostname from cluster.yaml"
    );
    let tasks: Vec<(String, u64)> = tasks.into_iter().map(|(_, ip, port)| (ip, port)).collect();
    let mut hosts: Vec<&str> = tasks.iter().map(|(h, _)| h.as_str()).collect();
    hosts.sort_unstable();
    let mut expected: Vec<&str> = agents.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(hosts, expected, "one task on each agent: {tasks:?}");
    for (host, port) in &tasks {
        poll(
            Duration::from_secs(60),
            &format!("http on {host}:{port}"),
            || {
                let resp = plain.get(format!("http://{host}:{port}/")).send().ok()?;
                resp.status().is_success().then_some(())
            },
        );
    }

    // The gateway: logins, tokens, the Marathon API and /service/web/ for DC/OS's tools.
    gateway::check_the_gateway(dir.path(), &config, &nodes);

    // Tasks are not root: /web runs as the cluster's task user, an app naming a user as that.
    let resp = http
        .post(format!("https://{master}:8080/v2/apps"))
        .json(&serde_json::json!({
            "id": "/as-nobody", "cmd": "exec sleep 600", "user": "nobody",
            "instances": 1, "cpus": 0.1, "mem": 16,
            // The check leaves where it ran: as whom, in which cgroup.
            "healthChecks": [{"protocol": "COMMAND", "intervalSeconds": 1,
                "command": {"value": "id -un > check-user; cat /proc/self/cgroup > check-cgroup"}}],
        }))
        .send()
        .expect("POST /v2/apps /as-nobody");
    assert_eq!(
        resp.status().as_u16(),
        201,
        "{}",
        resp.text().unwrap_or_default()
    );
    let agent_nodes = [nodes.node("agent-1"), nodes.node("agent-2")];
    poll(Duration::from_secs(60), "sleep running as nobody", || {
        agent_nodes
            .iter()
            .any(|n| nodes.exec(n, "pgrep -u nobody -x sleep").status.success())
            .then_some(())
    });
    // Its COMMAND health check ran as nobody inside the task's unit, so under the task's memory
    // and CPU limits (review H-5).
    let (user, cgroup) = poll(Duration::from_secs(60), "the health check's marks", || {
        agent_nodes.iter().find_map(|n| {
            let out = nodes.exec(
                n,
                "d=$(dirname \"$(find /var/lib/strato -name check-cgroup -path '*as-nobody*' | head -1)\") && \
                 test -s \"$d/check-cgroup\" && cat \"$d/check-user\" && cat \"$d/check-cgroup\"",
            );
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let (user, cgroup) = text.split_once('\n')?;
            (out.status.success() && !cgroup.is_empty())
                .then(|| (user.to_string(), cgroup.to_string()))
        })
    });
    assert_eq!(user, "nobody", "the COMMAND check's user");
    let memory = cgroup
        .lines()
        .find(|l| l.contains(":memory:") || l.starts_with("0::"))
        .unwrap_or_default();
    assert!(
        memory.contains("/strato-task-as-nobody.") && memory.ends_with(".service"),
        "the COMMAND check ran outside the task's unit: {cgroup}"
    );
    for node in agent_nodes {
        let web = nodes.exec(node, "pgrep -u strato-task -f [h]ttp.server");
        assert!(
            web.status.success(),
            "/web's task on {} does not run as strato-task",
            node.name
        );
        // `[h]` keeps the pattern from matching this shell's own command line.
        let root = nodes.exec(node, "pgrep -u root -f [h]ttp.server");
        assert!(!root.status.success(), "/web runs as root on {}", node.name);
    }

    // A second deploy on the healthy cluster changes nothing and says so.
    let out = strato_job("deploy", &config);
    keep(&out);
    no_secret_leaked(dir.path(), &nodes, &printed);
    // The SSH key copied to the bootstrap host for the job is gone once the job is.
    let left = nodes.exec(
        nodes.node("bootstrap"),
        "ls -A /var/lib/strato-bootstrap/files 2>&1 || true",
    );
    let left = String::from_utf8_lossy(&left.stdout).into_owned();
    assert!(
        left.contains("No such file"),
        "the bootstrap host still holds copied files: {left}"
    );
    assert!(out.status.success(), "second strato deploy failed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("3 ok, 0 failed, 0 skipped of 3 hosts; nothing changed"),
        "a second deploy must say nothing changed:\n{text}"
    );

    rotation::rotates_the_ca_keeping_tasks(dir.path(), &config, &nodes, &tasks);

    // Uninstall leaves no Strato unit (the services nor the tasks' transient units) and no
    // Strato process on the nodes; the app's tasks are gone with them.
    let out = strato_job("uninstall", &config);
    assert!(out.status.success(), "strato uninstall failed");
    for name in ["master-1", "agent-1", "agent-2"] {
        let node = nodes.node(name);
        let units = nodes.exec(
            node,
            "systemctl list-units --all --plain --no-legend 'strato*'",
        );
        let units = String::from_utf8_lossy(&units.stdout).into_owned();
        assert!(units.trim().is_empty(), "{name} still has units:\n{units}");
        // `[s]` keeps the pattern from matching this shell's own command line.
        let procs = nodes.exec(node, "pgrep -af '[s]trato-|[h]ttp.server' || true");
        let procs = String::from_utf8_lossy(&procs.stdout).into_owned();
        assert!(procs.trim().is_empty(), "{name} still runs:\n{procs}");
    }
}
