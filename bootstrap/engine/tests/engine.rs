//! The engine against scripted nodes: phase order, masters before agents, failure isolation,
//! bounded concurrency, dry-run, convergent re-runs and resume after a kill.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use strato_api::{EventKind, HostState, JobKind, JobOptions, JobState, Role};
use strato_engine::testing::*;
use strato_engine::{
    Action, EventBus, HostCtx, JobCtx, Journal, Manager, Outcome, Phase, PhaseError,
    StaticConnector,
};
use strato_host::{FakeReply, Transport};

fn arc(f: &strato_host::FakeTransport) -> Arc<dyn Transport> {
    Arc::new(f.clone())
}

/// A deploy of the small cluster whose agent 2 hangs in `install.sh`; returns once it hangs.
async fn deploy_hanging_on_agent_2(
    dir: &std::path::Path,
) -> (
    String,
    strato_engine::ServeTree,
    strato_engine::Runner,
    strato_api::Job,
) {
    let yaml = small_cluster();
    let serve = serve_tree(dir, &yaml);
    let (m, a1) = (fresh_node(MASTER, 1), fresh_node(AGENT_1, 2));
    let reached = Arc::new(tokio::sync::Notify::new());
    let hang = Hang {
        inner: fresh_node(AGENT_2, 3),
        prefix: "sh /opt/strato/tmp/install.sh".into(),
        reached: reached.clone(),
    };
    let r = runner(
        dir,
        &serve,
        &[
            (MASTER, arc(&m)),
            (AGENT_1, arc(&a1)),
            (AGENT_2, Arc::new(hang)),
        ],
    );
    let job = r
        .submit(request(JobKind::Deploy, &yaml, JobOptions::default()))
        .expect("submit");
    tokio::time::timeout(Duration::from_secs(30), reached.notified())
        .await
        .expect("agent 2 hangs in install");
    (yaml, serve, r, job)
}

#[tokio::test]
async fn deploy_installs_masters_first_then_agents_and_succeeds() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let serve = serve_tree(&dir, &yaml);
    let (m, a1, a2) = (
        fresh_node(MASTER, 1),
        fresh_node(AGENT_1, 2),
        fresh_node(AGENT_2, 3),
    );
    let r = runner(
        &dir,
        &serve,
        &[(MASTER, arc(&m)), (AGENT_1, arc(&a1)), (AGENT_2, arc(&a2))],
    );
    let job = run(&r, request(JobKind::Deploy, &yaml, JobOptions::default())).await;

    assert_eq!(job.state, JobState::Succeeded, "{job:#?}");
    assert!(job
        .hosts
        .iter()
        .all(|h| h.state == HostState::Succeeded && h.changed));
    assert!(m.commands().contains(
        &"sh /opt/strato/tmp/install.sh --url https://10.0.0.1:8090 --host 10.0.1.1 master"
            .to_string()
    ));
    assert!(a1.commands().iter().any(|c| c.ends_with(" agent")));
    assert_eq!(
        m.file("/opt/strato/etc/deployed")
            .map(|f| String::from_utf8_lossy(&f.0).into_owned()),
        Some(format!("{}\n", deployed_marker(&dir, &serve, "master")))
    );

    // Each node holds a certificate of the cluster CA for its role, its key readable by root only.
    let identity = |node: &strato_host::FakeTransport| {
        let pem = |name: &str| {
            let (data, _) = node
                .file(&format!("/opt/strato/etc/tls/{name}"))
                .unwrap_or_else(|| panic!("{name} uploaded"));
            String::from_utf8(data).expect("PEM")
        };
        assert_eq!(
            node.file("/opt/strato/etc/tls/node.key").map(|f| f.1),
            Some(0o600)
        );
        strato_tls::MemberTls::from_pem(&pem("ca.crt"), &pem("node.crt"), &pem("node.key"))
            .expect("the node's files form a member identity")
    };
    assert_eq!(identity(&m).roles(), [strato_tls::MemberRole::Master]);
    assert_eq!(identity(&a1).roles(), [strato_tls::MemberRole::Agent]);

    // Every agent starts installing after the master is healthy.
    let events = events(&r, &job.id);
    let seq_of = |pred: &dyn Fn(&strato_api::Event) -> bool| {
        events
            .iter()
            .filter(|e| pred(e))
            .map(|e| e.seq)
            .collect::<Vec<_>>()
    };
    let master_healthy = seq_of(&|e| {
        e.phase.as_deref() == Some("Wait for masters")
            && matches!(e.kind, EventKind::HostDone { .. })
    });
    let agents_started = seq_of(&|e| {
        e.phase.as_deref() == Some("Install agents") && matches!(e.kind, EventKind::HostStarted)
    });
    assert_eq!((master_healthy.len(), agents_started.len()), (1, 2));
    assert!(agents_started.iter().all(|s| *s > master_healthy[0]));
    // Phases start in the action's order.
    let phases: Vec<&str> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PhaseStarted { .. }))
        .filter_map(|e| e.phase.as_deref())
        .collect();
    assert_eq!(phases, Action::for_kind(JobKind::Deploy).titles());
}

#[tokio::test]
async fn a_failing_agent_fails_alone_and_a_failing_master_stops_the_agents() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let serve = serve_tree(&dir, &yaml);
    let (m, a1, a2) = (
        fresh_node(MASTER, 1),
        fresh_node(AGENT_1, 2),
        fresh_node(AGENT_2, 3),
    );
    a1.on_prefix(
        "sh /opt/strato/tmp/install.sh",
        FakeReply::fail(1, "install.sh: error: cannot download bundle\n"),
    );
    let r = runner(
        &dir,
        &serve,
        &[(MASTER, arc(&m)), (AGENT_1, arc(&a1)), (AGENT_2, arc(&a2))],
    );
    let job = run(&r, request(JobKind::Deploy, &yaml, JobOptions::default())).await;
    assert_eq!(job.state, JobState::Failed);
    let a1s = job
        .hosts
        .iter()
        .find(|h| h.host == AGENT_1)
        .expect("agent 1");
    assert_eq!(
        (a1s.state, a1s.phase.as_deref()),
        (HostState::Failed, Some("Install agents"))
    );
    assert!(
        a1s.message.contains("cannot download bundle"),
        "{}",
        a1s.message
    );
    assert_eq!(job.count(HostState::Succeeded), 2);
    // The failed host is not probed by the later phase.
    assert!(!a1
        .commands()
        .iter()
        .any(|c| c.starts_with("systemctl is-active --quiet")));

    // Now the master fails: no agent is touched.
    let (_d, dir) = tempdir();
    let serve = serve_tree(&dir, &yaml);
    let (m, a1, a2) = (
        fresh_node(MASTER, 1),
        fresh_node(AGENT_1, 2),
        fresh_node(AGENT_2, 3),
    );
    m.on_prefix(
        "sh /opt/strato/tmp/install.sh",
        FakeReply::fail(1, "boom\n"),
    );
    let r = runner(
        &dir,
        &serve,
        &[(MASTER, arc(&m)), (AGENT_1, arc(&a1)), (AGENT_2, arc(&a2))],
    );
    let job = run(&r, request(JobKind::Deploy, &yaml, JobOptions::default())).await;
    assert_eq!(job.count(HostState::Failed), 1);
    assert_eq!(job.count(HostState::Skipped), 2);
    let skipped = job
        .hosts
        .iter()
        .find(|h| h.host == AGENT_2)
        .expect("agent 2");
    assert_eq!(
        skipped.message,
        "not started: master 10.0.1.1 is not healthy"
    );
    assert!(mutating_calls(&a1).is_empty() && mutating_calls(&a2).is_empty());
}

#[tokio::test]
async fn dry_run_changes_nothing_and_lists_every_change() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let serve = serve_tree(&dir, &yaml);
    let (m, a1, a2) = (
        fresh_node(MASTER, 1),
        fresh_node(AGENT_1, 2),
        fresh_node(AGENT_2, 3),
    );
    let r = runner(
        &dir,
        &serve,
        &[(MASTER, arc(&m)), (AGENT_1, arc(&a1)), (AGENT_2, arc(&a2))],
    );
    let opts = JobOptions {
        dry_run: true,
        ..JobOptions::default()
    };
    let job = run(&r, request(JobKind::Deploy, &yaml, opts)).await;
    assert_eq!(job.state, JobState::Succeeded);
    for f in [&m, &a1, &a2] {
        assert_eq!(mutating_calls(f), Vec::<String>::new());
    }
    assert!(
        job.planned.contains(
            &"10.0.1.1: would run: sh /opt/strato/tmp/install.sh --url https://10.0.0.1:8090 --host 10.0.1.1 master"
                .to_string()
        ),
        "{:#?}",
        job.planned
    );
    assert_eq!(
        job.planned
            .iter()
            .filter(|p| p.contains("would upload: /opt/strato/etc/deployed"))
            .count(),
        3
    );
}

#[tokio::test]
async fn a_second_deploy_on_a_healthy_cluster_changes_nothing_and_says_so() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let serve = serve_tree(&dir, &yaml);
    let m = deployed_node(MASTER, 1, &deployed_marker(&dir, &serve, "master"));
    let a1 = deployed_node(AGENT_1, 2, &deployed_marker(&dir, &serve, "agent"));
    let a2 = deployed_node(AGENT_2, 3, &deployed_marker(&dir, &serve, "agent"));
    let r = runner(
        &dir,
        &serve,
        &[(MASTER, arc(&m)), (AGENT_1, arc(&a1)), (AGENT_2, arc(&a2))],
    );
    let job = run(&r, request(JobKind::Deploy, &yaml, JobOptions::default())).await;
    assert_eq!(job.state, JobState::Succeeded);
    assert!(job.hosts.iter().all(|h| !h.changed), "{:#?}", job.hosts);
    for f in [&m, &a1, &a2] {
        assert_eq!(mutating_calls(f), Vec::<String>::new());
    }
    let events = events(&r, &job.id);
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::HostDone { message, changed: false } if message.starts_with("up to date"))));
}

#[tokio::test]
async fn preflight_fails_on_small_hosts_names_the_checks_and_waivers_pass_them() {
    let (_d, dir) = tempdir();
    let yaml = cluster_yaml(&[MASTER], &[], "production", 30);
    let serve = serve_tree(&dir, &yaml);
    let m = fresh_node(MASTER, 1);
    let r = runner(&dir, &serve, &[(MASTER, arc(&m))]);
    let job = run(
        &r,
        request(JobKind::Preflight, &yaml, JobOptions::default()),
    )
    .await;
    let host = &job.hosts[0];
    assert_eq!(
        (job.state, host.state),
        (JobState::Failed, HostState::Failed)
    );
    assert!(
        host.message.contains("preflight failed: memory, disk"),
        "{}",
        host.message
    );
    let rows = events(&r, &job.id).into_iter().find_map(|e| match e.kind {
        EventKind::Preflight { checks } => Some(checks),
        _ => None,
    });
    let memory = rows
        .expect("preflight rows")
        .into_iter()
        .find(|c| c.name == "memory")
        .expect("memory row");
    assert_eq!(memory.status, "FAIL");
    assert!(memory.required.contains("32768"), "{memory:?}");

    let waived = JobOptions {
        waivers: vec!["memory".into(), "disk".into()],
        ..JobOptions::default()
    };
    let job = run(&r, request(JobKind::Preflight, &yaml, waived)).await;
    assert_eq!(job.state, JobState::Succeeded, "{:#?}", job.hosts);
    assert!(r
        .submit(request(
            JobKind::Preflight,
            &yaml,
            JobOptions {
                waivers: vec!["ram".into()],
                ..JobOptions::default()
            }
        ))
        .is_err());
}

/// A phase that records how many hosts run it at once; hosts meet at a barrier of `limit`,
/// which only opens when that many run together.
struct Probe {
    running: AtomicUsize,
    max: AtomicUsize,
    barrier: tokio::sync::Barrier,
}

#[async_trait]
impl Phase for Probe {
    fn title(&self) -> &str {
        "Probe"
    }
    async fn run(&self, _ctx: &JobCtx, _host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        self.barrier.wait().await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(Outcome::unchanged("ok"))
    }
}

#[tokio::test]
async fn at_most_parallelism_hosts_run_a_phase_at_once() {
    let (_d, dir) = tempdir();
    let agents = ["10.0.2.1", "10.0.2.2", "10.0.2.3", "10.0.2.4"];
    let yaml = cluster_yaml(&[MASTER], &agents, "minimal", 2);
    let cluster = strato_engine::parse_cluster(&yaml, &dir).expect("cluster");
    let serve = serve_tree(&dir, &yaml);
    let journal = Journal::at(dir.join("job"));
    let probe = Arc::new(Probe {
        running: AtomicUsize::new(0),
        max: AtomicUsize::new(0),
        barrier: tokio::sync::Barrier::new(2),
    });
    struct Shared(Arc<Probe>);
    #[async_trait]
    impl Phase for Shared {
        fn title(&self) -> &str {
            "Probe"
        }
        fn roles(&self) -> &[Role] {
            strato_engine::AGENT_ROLES
        }
        async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
            self.0.run(ctx, host).await
        }
    }
    let ctx = Arc::new(JobCtx {
        gateway_key: None,
        id: "job".into(),
        kind: JobKind::Deploy,
        parallelism: cluster.ssh.parallelism,
        cluster,
        base_dir: dir.clone(),
        options: JobOptions::default(),
        waivers: Default::default(),
        serve,
        ca: None,
        etcd_ca: None,
        signing_pub: None,
        connector: Arc::new(StaticConnector::new()),
        events: Arc::new(EventBus::new("job", journal.clone())),
        deadline: Instant::now() + Duration::from_secs(60),
    });
    let record = strato_engine::JobRecord {
        request: request(JobKind::Deploy, &yaml, JobOptions::default()),
        base_dir: dir.clone(),
        job: strato_api::Job {
            id: "job".into(),
            kind: JobKind::Deploy,
            state: JobState::Pending,
            dry_run: false,
            cluster_name: "demo".into(),
            created_ms: 0,
            finished_ms: None,
            hosts: vec![],
            planned: vec![],
            error: None,
        },
    };
    let manager = Manager::new(
        ctx,
        journal,
        record.clone(),
        Arc::new(Mutex::new(record.job)),
    );
    let action = Action {
        kind: JobKind::Deploy,
        phases: vec![Box::new(Shared(probe.clone()))],
    };
    // Hosts pass the barrier in pairs: with a limit of 1 the first would wait forever (the
    // timeout fails the test); without a limit all 4 would run at once.
    let job = tokio::time::timeout(Duration::from_secs(30), manager.run(&action, false))
        .await
        .expect("pairs pass the barrier");
    assert_eq!(job.state, JobState::Succeeded);
    assert_eq!(probe.max.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_killed_job_resumes_without_redoing_finished_hosts() {
    let (_d, dir) = tempdir();
    let (_yaml, serve, r, job) = deploy_hanging_on_agent_2(&dir).await;
    // Wait until agent 1's install is journaled, then kill the job (drop the runner).
    let deadline = Instant::now() + Duration::from_secs(30);
    while Journal::at(dir.join("jobs").join(&job.id))
        .read_host(AGENT_1)
        .expect("record")
        .done("Install agents")
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "agent 1 never finished installing"
        );
        tokio::task::yield_now().await;
    }
    drop(r);

    let (m2, a1b, a2b) = (
        fresh_node(MASTER, 1),
        fresh_node(AGENT_1, 2),
        fresh_node(AGENT_2, 3),
    );
    let r = runner(
        &dir,
        &serve,
        &[
            (MASTER, arc(&m2)),
            (AGENT_1, arc(&a1b)),
            (AGENT_2, arc(&a2b)),
        ],
    );
    assert_eq!(r.resume_unfinished(), vec![job.id.clone()]);
    let done = r.wait(&job.id, Duration::from_secs(60)).await.expect("job");
    assert_eq!(done.state, JobState::Succeeded, "{:#?}", done.hosts);
    // Finished hosts were not installed again; the stuck one was.
    assert_eq!(mutating_calls(&m2), Vec::<String>::new());
    assert_eq!(mutating_calls(&a1b), Vec::<String>::new());
    assert!(a2b
        .commands()
        .iter()
        .any(|c| c.starts_with("sh /opt/strato/tmp/install.sh")));
    let events = events(&r, &job.id);
    assert!(events
        .iter()
        .any(|e| matches!(e.kind, EventKind::JobStarted { resumed: true, .. })));
    // Sequence numbers continue across the restart without gaps.
    assert!(events.windows(2).all(|w| w[1].seq == w[0].seq + 1));
}

#[tokio::test]
async fn uninstall_removes_agents_before_masters_and_leaves_clean_hosts_alone() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let serve = serve_tree(&dir, &yaml);
    let (m, a1, a2) = (
        fresh_node(MASTER, 1),
        fresh_node(AGENT_1, 2),
        fresh_node(AGENT_2, 3),
    );
    for f in [&m, &a1] {
        f.on_prefix("for p in ", FakeReply::ok("/opt/strato\n"))
            .on_prefix("sh /var/lib/strato-uninstall.sh", FakeReply::ok(""));
    }
    a2.on_prefix("for p in ", FakeReply::ok(""));
    let r = runner(
        &dir,
        &serve,
        &[(MASTER, arc(&m)), (AGENT_1, arc(&a1)), (AGENT_2, arc(&a2))],
    );
    let opts = JobOptions {
        purge: true,
        ..JobOptions::default()
    };
    let job = run(&r, request(JobKind::Uninstall, &yaml, opts)).await;
    assert_eq!(job.state, JobState::Succeeded, "{:#?}", job.hosts);
    assert!(m
        .commands()
        .iter()
        .any(|c| c.starts_with("sh /var/lib/strato-uninstall.sh --purge;")));
    assert_eq!(mutating_calls(&a2), Vec::<String>::new());
    let clean = job
        .hosts
        .iter()
        .find(|h| h.host == AGENT_2)
        .expect("agent 2");
    assert_eq!(
        (clean.changed, clean.message.as_str()),
        (false, "not installed: nothing to remove")
    );
    let events = events(&r, &job.id);
    let first = |phase: &str| {
        events
            .iter()
            .find(|e| e.phase.as_deref() == Some(phase))
            .map(|e| e.seq)
    };
    assert!(first("Uninstall agents") < first("Uninstall masters"));
}

#[tokio::test]
async fn postflight_checks_nodes_then_leader_and_registered_agents() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let serve = serve_tree(&dir, &yaml);
    let (m, a1, a2) = (
        fresh_node(MASTER, 1),
        fresh_node(AGENT_1, 2),
        fresh_node(AGENT_2, 3),
    );
    m.on_contains("/v2/leader", FakeReply::ok(r#"{"leader":"10.0.1.1:8080"}"#))
        .on_contains(
            "/master/slaves",
            FakeReply::ok(r#"{"slaves":[{"hostname":"10.0.2.1","active":true},{"hostname":"10.0.2.2","active":true}]}"#),
        );
    let r = runner(
        &dir,
        &serve,
        &[(MASTER, arc(&m)), (AGENT_1, arc(&a1)), (AGENT_2, arc(&a2))],
    );
    let job = run(
        &r,
        request(JobKind::Postflight, &yaml, JobOptions::default()),
    )
    .await;
    assert_eq!(job.state, JobState::Succeeded, "{:#?}", job.hosts);
    let master = job.hosts.iter().find(|h| h.host == MASTER).expect("master");
    assert_eq!(
        master.message,
        "leader elected, 2 agents registered, Marathon API answering"
    );
    // Cluster checks run on the first master only, and nothing is changed anywhere.
    assert!(!a1.commands().iter().any(|c| c.contains("/v2/leader")));
    for f in [&m, &a1, &a2] {
        assert_eq!(mutating_calls(f), Vec::<String>::new());
    }
}

#[tokio::test]
async fn a_request_that_cannot_start_leaves_no_job_behind() {
    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    let mut serve = serve_tree(&dir, &yaml);
    serve.dir = dir.join("no-tree-here");
    let r = runner(&dir, &serve, &[]);
    let err = r
        .submit(request(JobKind::Deploy, &yaml, JobOptions::default()))
        .expect_err("no serve tree");
    assert!(err.to_string().contains("manifest.json"), "{err}");
    assert!(r.list().is_empty());
    assert!(r.resume_unfinished().is_empty());
}

#[tokio::test]
async fn a_second_deploy_while_one_runs_is_refused_naming_it() {
    let (_d, dir) = tempdir();
    let (yaml, _serve, r, first) = deploy_hanging_on_agent_2(&dir).await;
    for kind in [JobKind::Deploy, JobKind::Uninstall] {
        let err = r
            .submit(request(kind, &yaml, JobOptions::default()))
            .expect_err("a second job that changes nodes is refused");
        assert!(
            matches!(&err, strato_engine::EngineError::Busy { job } if *job == first.id),
            "{err}"
        );
        assert!(err.to_string().contains(&first.id), "{err}");
    }
    // Checks and dry runs change nothing: they may run beside it.
    let dry = JobOptions {
        dry_run: true,
        ..JobOptions::default()
    };
    r.submit(request(JobKind::Deploy, &yaml, dry))
        .expect("a dry run is accepted");
    r.submit(request(JobKind::Preflight, &yaml, JobOptions::default()))
        .expect("preflight is accepted");
}
