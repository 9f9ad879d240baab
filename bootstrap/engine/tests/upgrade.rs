//! `strato upgrade` against scripted nodes that keep their installed versions as a real node does
//! (`/opt/strato/current` and `previous`): pre-checks, skew rules, masters before agents and the
//! leader last, agents in batches, a node failing its gate rolled back and the upgrade stopped.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use strato_api::{HostState, JobKind, JobOptions, JobState};
use strato_engine::testing::*;
use strato_host::UploadOptions;
use strato_host::{ExecOptions, ExecOutput, FakeReply, FakeTransport, Transport, TransportError};

/// What a node has installed, and the order of the work that matters across nodes.
#[derive(Debug)]
struct Versions {
    current: String,
    previous: Option<String>,
    /// The version `install.sh` switches to.
    target: String,
    /// The target version's units never become healthy on this node.
    broken: bool,
    /// `install.sh` breaks the node (a bad configuration on the version it already runs).
    breaks_on_install: bool,
    /// On the target version this master never sees the agents register again.
    loses_agents: bool,
}

#[derive(Debug)]
struct Node {
    name: String,
    inner: FakeTransport,
    versions: Mutex<Versions>,
    log: Arc<Mutex<Vec<String>>>,
}

fn reply(stdout: String) -> ExecOutput {
    ExecOutput {
        stdout: stdout.into_bytes(),
        ..ExecOutput::default()
    }
}

#[async_trait]
impl Transport for Node {
    fn address(&self) -> String {
        self.inner.address()
    }

    async fn exec(&self, command: &str, opts: ExecOptions) -> Result<ExecOutput, TransportError> {
        if command.contains("/strato/v1/ha") {
            // The scripted view, with the version this node's master runs.
            let current = self.versions.lock().expect("versions").current.clone();
            let mut out = self.inner.exec(command, opts).await?;
            let mut view: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or_else(|_| serde_json::json!({}));
            view["version"] = serde_json::Value::String(current);
            out.stdout = view.to_string().into_bytes();
            return Ok(out);
        }
        {
            let mut v = self.versions.lock().expect("versions");
            let note = |what: &str| {
                self.log
                    .lock()
                    .expect("log")
                    .push(format!("{} {what}", self.name))
            };
            if command.starts_with("cat /opt/strato/current/VERSION") {
                return Ok(reply(if command.contains("--") {
                    format!(
                        "{}\n--\n{}",
                        v.current,
                        v.previous.clone().unwrap_or_default()
                    )
                } else {
                    format!("{}\n", v.current)
                }));
            }
            if command.starts_with("sh /opt/strato/tmp/install.sh") {
                note("install");
                v.broken |= v.breaks_on_install;
                if v.current != v.target {
                    let target = v.target.clone();
                    v.previous = Some(std::mem::replace(&mut v.current, target));
                }
                return Ok(ExecOutput::default());
            }
            if command.contains("upgrade.sh --rollback") {
                // The engine forgets the deploy marker with it, so the next deploy reinstalls.
                note(if command.contains("rm -f /opt/strato/etc/deployed") {
                    "rollback"
                } else {
                    "rollback keeping the deploy marker"
                });
                let previous = v.previous.take().expect("a previous version");
                v.previous = Some(std::mem::replace(&mut v.current, previous));
                return Ok(ExecOutput::default());
            }
            if command.contains("/master/slaves") && v.loses_agents && v.current == v.target {
                return Ok(reply(r#"{"slaves":[]}"#.into()));
            }
            if command.starts_with("systemctl is-active --quiet") {
                if v.broken && v.current == v.target {
                    return Ok(ExecOutput {
                        exit_status: 3,
                        ..ExecOutput::default()
                    });
                }
                note("healthy");
                return Ok(ExecOutput::default());
            }
            if command.starts_with("journalctl") {
                return Ok(reply("strato-master: cannot start: exit 1\n".into()));
            }
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

/// A serve tree whose runtime bundle is version `version` (fake binaries, real bundle format).
fn tree_with_bundle(dir: &std::path::Path, yaml: &str, version: &str) -> strato_engine::ServeTree {
    let bins = dir.join("bins");
    std::fs::create_dir_all(&bins).expect("bins");
    let mut files = Vec::new();
    for name in ["strato-master", "strato-agent", "strato-bootstrap", "etcd"] {
        std::fs::write(bins.join(name), format!("#!/bin/sh\n# {name}\n")).expect("bin");
        files.push(strato_bundle::PackFile {
            path: format!("bin/{name}"),
            source: bins.join(name),
            mode: 0o755,
        });
    }
    let inputs = strato_bundle::PackInputs {
        version: version.into(),
        target: "x86_64-unknown-linux-gnu".into(),
        files,
        etcd_version: Some("3.4.23".into()),
    };
    let info = strato_bundle::pack(&inputs, &dir.join("bundles")).expect("pack");
    let options = strato_render::RenderOptions {
        bundle: Some(strato_render::BundleRef::from_file(&info.path).expect("bundle")),
        ..strato_render::RenderOptions::default()
    };
    serve_tree_with(dir, yaml, &options)
}

struct Cluster {
    nodes: Vec<(&'static str, Arc<Node>)>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Cluster {
    /// Nodes (address, installed version) reachable and healthy; the first master names
    /// `leader` as leader, every agent registered.
    fn new(nodes: &[(&'static str, &str)], target: &str, leader: &str) -> Cluster {
        let log = Arc::new(Mutex::new(Vec::new()));
        let agents: Vec<String> = nodes
            .iter()
            .filter(|(a, _)| a.starts_with("10.0.2."))
            .map(|(a, _)| format!(r#"{{"hostname":"{a}","active":true}}"#))
            .collect();
        let slaves = format!(r#"{{"slaves":[{}]}}"#, agents.join(","));
        let nodes = nodes
            .iter()
            .enumerate()
            .map(|(i, (address, version))| {
                let inner = fresh_node(address, i + 1);
                let role = if *address == leader {
                    "leader"
                } else {
                    "standby"
                };
                inner
                    .on_contains(
                        "/v2/leader",
                        FakeReply::ok(format!(r#"{{"leader":"{leader}:8080"}}"#)),
                    )
                    .on_contains("/master/slaves", FakeReply::ok(slaves.clone()))
                    .on_contains("/strato/v1/ha", FakeReply::ok(ha(role, leader)));
                let node = Node {
                    name: address.to_string(),
                    inner,
                    versions: Mutex::new(Versions {
                        current: version.to_string(),
                        previous: None,
                        target: target.to_string(),
                        broken: false,
                        breaks_on_install: false,
                        loses_agents: false,
                    }),
                    log: log.clone(),
                };
                (*address, Arc::new(node))
            })
            .collect();
        Cluster { nodes, log }
    }

    fn node(&self, address: &str) -> &Node {
        &self
            .nodes
            .iter()
            .find(|(a, _)| *a == address)
            .expect("node")
            .1
    }

    fn transports(&self) -> Vec<(&str, Arc<dyn Transport>)> {
        self.nodes
            .iter()
            .map(|(a, n)| (*a, n.clone() as Arc<dyn Transport>))
            .collect()
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// Where `entry` first appears in the log.
    fn at(&self, entry: &str) -> usize {
        let log = self.log();
        log.iter()
            .position(|e| e == entry)
            .unwrap_or_else(|| panic!("{entry} not in {log:#?}"))
    }

    fn installs(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|e| e.ends_with(" install"))
            .collect()
    }
}

const MASTERS: [&str; 3] = [MASTER, MASTER_2, MASTER_3];

fn ha(role: &str, leader: &str) -> String {
    let members: Vec<String> = MASTERS
        .iter()
        .map(|m| format!(r#"{{"name":"{m}","client_url":"https://{m}:2379","healthy":true}}"#))
        .collect();
    format!(
        r#"{{"role":"{role}","leader":"{leader}:5050","store":"etcd","quorum":true,"members":[{}]}}"#,
        members.join(",")
    )
}

fn options(batch: usize) -> JobOptions {
    JobOptions {
        batch,
        gate_timeout_seconds: 1,
        ..JobOptions::default()
    }
}

#[tokio::test]
async fn an_upgrade_goes_masters_first_then_agents_in_batches_and_reports_versions() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let serve = tree_with_bundle(&dir, &yaml, "0.2.0");
    let c = Cluster::new(
        &[(MASTER, "0.1.0"), (AGENT_1, "0.1.0"), (AGENT_2, "0.1.0")],
        "0.2.0",
        MASTER,
    );
    let r = runner(&dir, &serve, &c.transports());
    let job = run(&r, request(JobKind::Upgrade, &yaml, options(1))).await;
    assert_eq!(job.state, JobState::Succeeded, "{:#?}", job.hosts);
    for h in &job.hosts {
        assert_eq!(h.version.as_deref(), Some("0.2.0"), "{h:?}");
    }
    let upgraded: Vec<String> = events(&r, &job.id)
        .into_iter()
        .filter_map(|e| match e.kind {
            strato_api::EventKind::HostDone { message, .. }
                if e.phase.as_deref().is_some_and(|p| p.starts_with("Upgrade")) =>
            {
                Some(format!("{} {message}", e.host.unwrap_or_default()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(upgraded.len(), 3, "{upgraded:#?}");
    assert!(
        upgraded
            .iter()
            .all(|m| m.contains("upgraded 0.1.0 → 0.2.0")),
        "{upgraded:#?}"
    );
    // The master is upgraded and healthy before any agent; agent 1 passes its gate before
    // agent 2 (batches of one) starts.
    let master_done = c.at(&format!("{MASTER} install")) < c.at(&format!("{AGENT_1} install"));
    assert!(master_done, "{:#?}", c.log());
    let log = c.log();
    let agent_1_healthy = log
        .iter()
        .rposition(|e| e == &format!("{AGENT_1} healthy"))
        .expect("agent 1 gated");
    assert!(
        agent_1_healthy < c.at(&format!("{AGENT_2} install")),
        "{log:#?}"
    );
    assert_eq!(
        c.node(AGENT_2)
            .versions
            .lock()
            .expect("v")
            .previous
            .as_deref(),
        Some("0.1.0")
    );
}

#[tokio::test]
async fn a_node_failing_its_gate_is_rolled_back_and_no_further_batch_starts() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let serve = tree_with_bundle(&dir, &yaml, "0.2.0");
    let c = Cluster::new(
        &[(MASTER, "0.1.0"), (AGENT_1, "0.1.0"), (AGENT_2, "0.1.0")],
        "0.2.0",
        MASTER,
    );
    c.node(AGENT_1).versions.lock().expect("v").broken = true;
    let r = runner(&dir, &serve, &c.transports());
    let job = run(&r, request(JobKind::Upgrade, &yaml, options(1))).await;
    assert_eq!(job.state, JobState::Failed);
    let host = |a: &str| {
        job.hosts
            .iter()
            .find(|h| h.host == a)
            .expect("host")
            .clone()
    };
    let agent_1 = host(AGENT_1);
    assert_eq!(agent_1.state, HostState::Failed);
    assert_eq!(agent_1.phase.as_deref(), Some("Upgrade agents"));
    assert!(
        agent_1.message.contains("gate \"units healthy\" failed")
            && agent_1.message.contains("rolled back to 0.1.0")
            && agent_1.message.contains("cannot start"),
        "{}",
        agent_1.message
    );
    assert_eq!(c.node(AGENT_1).versions.lock().expect("v").current, "0.1.0");
    assert!(c.log().contains(&format!("{AGENT_1} rollback")));
    let agent_2 = host(AGENT_2);
    assert_eq!(agent_2.state, HostState::Skipped, "{agent_2:?}");
    assert!(
        agent_2.message.contains("failed in an earlier batch"),
        "{agent_2:?}"
    );
    assert_eq!(c.node(AGENT_2).versions.lock().expect("v").current, "0.1.0");
}

#[tokio::test]
async fn skew_rules_stop_the_upgrade_before_any_node_changes() {
    for (versions, allowed, expected) in [
        (
            ["0.3.0", "0.3.0", "0.3.0"],
            JobOptions::default(),
            "--allow-downgrade",
        ),
        (
            ["0.0.1", "0.0.1", "0.0.1"],
            JobOptions::default(),
            "--allow-skip",
        ),
        (
            ["0.1.0", "0.0.9", "0.2.0"],
            JobOptions::default(),
            "every node must run one version",
        ),
    ] {
        let (_d, dir) = tempdir();
        let yaml = small_cluster();
        let serve = tree_with_bundle(&dir, &yaml, "0.2.0");
        let c = Cluster::new(
            &[
                (MASTER, versions[0]),
                (AGENT_1, versions[1]),
                (AGENT_2, versions[2]),
            ],
            "0.2.0",
            MASTER,
        );
        let r = runner(&dir, &serve, &c.transports());
        let job = run(&r, request(JobKind::Upgrade, &yaml, allowed)).await;
        assert_eq!(job.state, JobState::Failed, "{versions:?}");
        assert!(
            job.hosts
                .iter()
                .all(|h| h.phase.as_deref() == Some("Plan the upgrade")
                    && h.message.contains(expected)),
            "{versions:?}: {:#?}",
            job.hosts
        );
        assert_eq!(c.installs(), Vec::<String>::new(), "{versions:?}");
    }
    // Allowed, the downgrade goes ahead; a cluster half on the target resumes.
    for (versions, allowed) in [
        (
            ["0.3.0", "0.3.0", "0.3.0"],
            JobOptions {
                allow_downgrade: true,
                ..options(0)
            },
        ),
        (["0.2.0", "0.1.0", "0.2.0"], options(0)),
    ] {
        let (_d, dir) = tempdir();
        let yaml = small_cluster();
        let serve = tree_with_bundle(&dir, &yaml, "0.2.0");
        let c = Cluster::new(
            &[
                (MASTER, versions[0]),
                (AGENT_1, versions[1]),
                (AGENT_2, versions[2]),
            ],
            "0.2.0",
            MASTER,
        );
        let r = runner(&dir, &serve, &c.transports());
        let job = run(&r, request(JobKind::Upgrade, &yaml, allowed)).await;
        assert_eq!(
            job.state,
            JobState::Succeeded,
            "{versions:?}: {:#?}",
            job.hosts
        );
    }
}

#[tokio::test]
async fn a_node_failing_a_pre_check_stops_the_upgrade_with_nothing_changed() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster().replace(
        "  parallelism: 30\n",
        "  parallelism: 30\n  job_timeout_seconds: 8\n",
    );
    let serve = tree_with_bundle(&dir, &yaml, "0.2.0");
    let c = Cluster::new(
        &[(MASTER, "0.1.0"), (AGENT_1, "0.1.0"), (AGENT_2, "0.1.0")],
        "0.2.0",
        MASTER,
    );
    // Agent 2's unit is down before the upgrade starts.
    c.node(AGENT_2).versions.lock().expect("v").target = "0.1.0".into();
    c.node(AGENT_2).versions.lock().expect("v").broken = true;
    let r = runner(&dir, &serve, &c.transports());
    let job = run(&r, request(JobKind::Upgrade, &yaml, options(0))).await;
    assert_eq!(job.state, JobState::Failed);
    let agent_2 = job
        .hosts
        .iter()
        .find(|h| h.host == AGENT_2)
        .expect("agent 2");
    assert_eq!(
        agent_2.phase.as_deref(),
        Some("Check agents before the upgrade")
    );
    for h in job.hosts.iter().filter(|h| h.host != AGENT_2) {
        assert_eq!(h.state, HostState::Skipped, "{h:?}");
        assert!(
            h.message
                .contains("Check agents before the upgrade failed on 10.0.2.2"),
            "{h:?}"
        );
    }
    assert_eq!(c.installs(), Vec::<String>::new());
}

#[tokio::test]
async fn masters_go_one_at_a_time_with_the_leader_last() {
    let (_d, dir) = tempdir();
    let yaml = cluster_yaml(&MASTERS, &[AGENT_1], "minimal", 30);
    let serve = tree_with_bundle(&dir, &yaml, "0.2.0");
    let c = Cluster::new(
        &[
            (MASTER, "0.1.0"),
            (MASTER_2, "0.1.0"),
            (MASTER_3, "0.1.0"),
            (AGENT_1, "0.1.0"),
        ],
        "0.2.0",
        MASTER_2,
    );
    let r = runner(&dir, &serve, &c.transports());
    let job = run(&r, request(JobKind::Upgrade, &yaml, options(0))).await;
    assert_eq!(job.state, JobState::Succeeded, "{:#?}", job.hosts);
    assert_eq!(
        c.installs(),
        [MASTER, MASTER_3, MASTER_2, AGENT_1]
            .map(|a| format!("{a} install"))
            .to_vec()
    );
    // Each master is healthy on the new version before the next one is touched.
    assert!(c.at(&format!("{MASTER} healthy")) < c.at(&format!("{MASTER_3} install")));
}

#[tokio::test]
async fn rollback_returns_every_node_to_its_previous_version() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let serve = tree_with_bundle(&dir, &yaml, "0.2.0");
    let c = Cluster::new(
        &[(MASTER, "0.2.0"), (AGENT_1, "0.2.0"), (AGENT_2, "0.2.0")],
        "0.2.0",
        MASTER,
    );
    for (_, n) in &c.nodes {
        n.versions.lock().expect("v").previous = Some("0.1.0".into());
    }
    let r = runner(&dir, &serve, &c.transports());
    let rollback = JobOptions {
        rollback: true,
        ..options(0)
    };
    let job = run(&r, request(JobKind::Upgrade, &yaml, rollback)).await;
    assert_eq!(job.state, JobState::Succeeded, "{:#?}", job.hosts);
    for (a, n) in &c.nodes {
        assert_eq!(n.versions.lock().expect("v").current, "0.1.0", "{a}");
    }
    assert!(job
        .hosts
        .iter()
        .all(|h| h.version.as_deref() == Some("0.1.0")));
    assert!(c.at(&format!("{MASTER} rollback")) < c.at(&format!("{AGENT_1} rollback")));
}

#[tokio::test]
async fn a_node_on_its_version_failing_its_gate_is_not_switched_to_an_older_one() {
    // A configuration or certificate change (a CA rotation) reinstalls nodes on the version they
    // run: a failed gate must not move them to their previous, older version.
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let serve = tree_with_bundle(&dir, &yaml, "0.2.0");
    let c = Cluster::new(
        &[(MASTER, "0.2.0"), (AGENT_1, "0.2.0"), (AGENT_2, "0.2.0")],
        "0.2.0",
        MASTER,
    );
    for (_, n) in &c.nodes {
        n.versions.lock().expect("v").previous = Some("0.1.0".into());
    }
    c.node(AGENT_1)
        .versions
        .lock()
        .expect("v")
        .breaks_on_install = true;
    let r = runner(&dir, &serve, &c.transports());
    let job = run(&r, request(JobKind::Upgrade, &yaml, options(1))).await;
    assert_eq!(job.state, JobState::Failed, "{:#?}", job.hosts);
    let agent_1 = job
        .hosts
        .iter()
        .find(|h| h.host == AGENT_1)
        .expect("agent 1");
    assert!(
        agent_1
            .message
            .contains("not switched back: the node was already on 0.2.0"),
        "{}",
        agent_1.message
    );
    assert!(
        !c.log().iter().any(|e| e.ends_with(" rollback")),
        "{:#?}",
        c.log()
    );
    assert_eq!(c.node(AGENT_1).versions.lock().expect("v").current, "0.2.0");
}

#[tokio::test]
async fn a_master_the_agents_do_not_register_with_again_is_rolled_back() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let serve = tree_with_bundle(&dir, &yaml, "0.2.0");
    let c = Cluster::new(
        &[(MASTER, "0.1.0"), (AGENT_1, "0.1.0"), (AGENT_2, "0.1.0")],
        "0.2.0",
        MASTER,
    );
    c.node(MASTER).versions.lock().expect("v").loses_agents = true;
    let r = runner(&dir, &serve, &c.transports());
    let job = run(&r, request(JobKind::Upgrade, &yaml, options(0))).await;
    assert_eq!(job.state, JobState::Failed);
    let master = job.hosts.iter().find(|h| h.host == MASTER).expect("master");
    assert!(
        master
            .message
            .contains("gate \"agents re-registered\" failed: 0 of 2 agents registered")
            && master.message.contains("rolled back to 0.1.0"),
        "{}",
        master.message
    );
    assert_eq!(c.node(MASTER).versions.lock().expect("v").current, "0.1.0");
    assert_eq!(
        c.installs(),
        vec![format!("{MASTER} install")],
        "no agent touched"
    );
}
