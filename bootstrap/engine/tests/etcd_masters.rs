//! Three masters on etcd against scripted nodes: a first deploy starts every master before
//! waiting for any (one member alone is never healthy); a re-deploy that changes them restarts
//! one master at a time, each waited healthy (master and etcd member) before the next; nothing
//! changed restarts nothing; preflight checks glibc and etcd's ports; postflight wants one
//! leader named by every master.

use std::sync::Arc;

use strato_api::{EventKind, HostState, JobKind, JobOptions, JobState};
use strato_engine::testing::*;
use strato_host::{FakeReply, FakeTransport, Transport};

const MASTERS: [&str; 3] = [MASTER, MASTER_2, MASTER_3];

fn three_masters(parallelism: usize) -> String {
    cluster_yaml(&MASTERS, &[AGENT_1], "minimal", parallelism)
}

fn arc(f: &FakeTransport) -> Arc<dyn Transport> {
    Arc::new(f.clone())
}

/// Index of the first timeline entry of `host` starting with `prefix`.
fn first(timeline: &[String], host: &str, prefix: &str) -> usize {
    let line = format!("{host}: {prefix}");
    timeline
        .iter()
        .position(|l| l.starts_with(&line))
        .unwrap_or_else(|| panic!("no {line:?} in {timeline:#?}"))
}

fn is_health_probe(line: &str) -> bool {
    line.contains("systemctl is-active --quiet strato-master.service")
}

#[tokio::test]
async fn a_first_deploy_starts_every_master_before_waiting_for_any() {
    let (_d, dir) = tempdir();
    // One host at a time: still no master is waited on before all are installed.
    let yaml = three_masters(1);
    let serve = serve_tree_with(&dir, &yaml, &bundle_with_etcd());
    let timeline = Timeline::default();
    let masters: Vec<FakeTransport> = MASTERS
        .iter()
        .enumerate()
        .map(|(i, ip)| fresh_node(ip, i + 1))
        .collect();
    let agent = fresh_node(AGENT_1, 4);
    let mut transports: Vec<(&str, Arc<dyn Transport>)> = MASTERS
        .iter()
        .zip(&masters)
        .map(|(ip, f)| (*ip, timeline.record(f.clone(), ip)))
        .collect();
    transports.push((AGENT_1, arc(&agent)));
    let r = runner(&dir, &serve, &transports);
    let job = run(&r, request(JobKind::Deploy, &yaml, JobOptions::default())).await;
    assert_eq!(job.state, JobState::Succeeded, "{:#?}", job.hosts);

    let t = timeline.entries();
    let last_install = MASTERS
        .iter()
        .map(|m| first(&t, m, "sh /opt/strato/tmp/install.sh"))
        .max()
        .expect("three installs");
    let first_probe = t
        .iter()
        .position(|l| is_health_probe(l))
        .expect("masters are waited for");
    assert!(
        last_install < first_probe,
        "every master is installed (and started) before any is waited on: {t:#?}"
    );
    // Each master's health includes its etcd member.
    let probe = &t[first_probe];
    assert!(
        probe.contains("strato-etcd.service") && probe.contains(":2379/health"),
        "{probe}"
    );
}

#[tokio::test]
async fn a_redeploy_with_changed_etcd_config_restarts_one_master_at_a_time() {
    let (_d, dir) = tempdir();
    // Every host at once is allowed: the masters still go one by one.
    let yaml = three_masters(30);
    let serve = serve_tree_with(&dir, &yaml, &bundle_with_etcd());
    let timeline = Timeline::default();
    // Running members of an older tree (an etcd unit that changed since): not up to date.
    let masters: Vec<FakeTransport> = MASTERS
        .iter()
        .enumerate()
        .map(|(i, ip)| etcd_member(deployed_node(ip, i + 1, "an-older-tree master"), ip, i + 1))
        .collect();
    let agent = deployed_node(AGENT_1, 4, &deployed_marker(&dir, &serve, "agent"));
    let mut transports: Vec<(&str, Arc<dyn Transport>)> = MASTERS
        .iter()
        .zip(&masters)
        .map(|(ip, f)| (*ip, timeline.record(f.clone(), ip)))
        .collect();
    transports.push((AGENT_1, arc(&agent)));
    let r = runner(&dir, &serve, &transports);
    let job = run(&r, request(JobKind::Deploy, &yaml, JobOptions::default())).await;
    assert_eq!(job.state, JobState::Succeeded, "{:#?}", job.hosts);

    // install m → m healthy → install next: never two members restarting at once.
    let t = timeline.entries();
    let steps: Vec<(String, &str)> = t
        .iter()
        .filter_map(|l| {
            let (host, cmd) = l.split_once(": ")?;
            if cmd.starts_with("sh /opt/strato/tmp/install.sh") {
                Some((host.to_string(), "install"))
            } else if is_health_probe(l) {
                Some((host.to_string(), "healthy"))
            } else {
                None
            }
        })
        .collect();
    let install_phase: Vec<(String, &str)> = steps.iter().take(6).cloned().collect();
    let order: Vec<&str> = install_phase.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        install_phase.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        ["install", "healthy", "install", "healthy", "install", "healthy"],
        "{t:#?}"
    );
    assert!(order[0] == order[1] && order[2] == order[3] && order[4] == order[5]);
    let mut hosts: Vec<&str> = vec![order[0], order[2], order[4]];
    hosts.sort_unstable();
    let mut all = MASTERS.to_vec();
    all.sort_unstable();
    assert_eq!(hosts, all, "each master once");
    let m1 = job.hosts.iter().find(|h| h.host == MASTER).expect("master");
    assert!(m1.changed);
    let events = events(&r, &job.id);
    assert!(events.iter().any(|e| matches!(&e.kind,
        EventKind::HostDone { message, .. } if message.contains("healthy after") && message.ends_with("before the next master"))));
}

#[tokio::test]
async fn a_redeploy_of_up_to_date_masters_restarts_nothing() {
    let (_d, dir) = tempdir();
    let yaml = three_masters(30);
    let serve = serve_tree_with(&dir, &yaml, &bundle_with_etcd());
    let marker = deployed_etcd_master_marker(&dir, &serve);
    let masters: Vec<FakeTransport> = MASTERS
        .iter()
        .enumerate()
        .map(|(i, ip)| etcd_member(deployed_node(ip, i + 1, &marker), ip, i + 1))
        .collect();
    let agent = deployed_node(AGENT_1, 4, &deployed_marker(&dir, &serve, "agent"));
    let mut transports: Vec<(&str, Arc<dyn Transport>)> = MASTERS
        .iter()
        .zip(&masters)
        .map(|(ip, f)| (*ip, arc(f)))
        .collect();
    transports.push((AGENT_1, arc(&agent)));
    let r = runner(&dir, &serve, &transports);
    let job = run(&r, request(JobKind::Deploy, &yaml, JobOptions::default())).await;
    assert_eq!(job.state, JobState::Succeeded, "{:#?}", job.hosts);
    assert!(job.hosts.iter().all(|h| !h.changed), "{:#?}", job.hosts);
    for f in masters.iter().chain([&agent]) {
        assert_eq!(mutating_calls(f), Vec::<String>::new());
    }
}

#[tokio::test]
async fn preflight_refuses_a_master_whose_glibc_is_older_than_etcd_needs() {
    let (_d, dir) = tempdir();
    let yaml = three_masters(30);
    let serve = serve_tree_with(&dir, &yaml, &bundle_with_etcd());
    let el8 = fresh_node(MASTER_2, 2);
    el8.on_prefix(
        "sh -c ",
        FakeReply::ok(facts_for(MASTER_2, 2).replace("glibc 2.34", "glibc 2.28")),
    );
    let (m1, m3, a) = (
        fresh_node(MASTER, 1),
        fresh_node(MASTER_3, 3),
        fresh_node(AGENT_1, 4),
    );
    let r = runner(
        &dir,
        &serve,
        &[
            (MASTER, arc(&m1)),
            (MASTER_2, arc(&el8)),
            (MASTER_3, arc(&m3)),
            (AGENT_1, arc(&a)),
        ],
    );
    let job = run(
        &r,
        request(JobKind::Preflight, &yaml, JobOptions::default()),
    )
    .await;
    assert_eq!(job.state, JobState::Failed);
    let bad = job
        .hosts
        .iter()
        .find(|h| h.host == MASTER_2)
        .expect("master 2");
    assert_eq!(bad.state, HostState::Failed);
    // The host, what it has and what it needs.
    for part in [
        "preflight failed: glibc",
        "found glibc 2.28",
        "needs >= glibc 2.34 (etcd 3.4.23 from the runtime bundle)",
    ] {
        assert!(
            bad.message.contains(part),
            "{part:?} not in {}",
            bad.message
        );
    }
    assert_eq!(bad.host, MASTER_2);
    let ok = job
        .hosts
        .iter()
        .find(|h| h.host == MASTER)
        .expect("master 1");
    assert_eq!(ok.state, HostState::Succeeded, "{}", ok.message);
    // etcd's ports are checked on masters, not on agents.
    let rows = events(&r, &job.id)
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Preflight { checks } => Some((e.host.unwrap_or_default(), checks)),
            _ => None,
        })
        .collect::<Vec<_>>();
    let ports = |host: &str| {
        rows.iter()
            .filter(|(h, _)| h == host)
            .flat_map(|(_, c)| c.iter().filter(|r| r.name == "ports"))
            .map(|r| r.required.clone())
            .collect::<String>()
    };
    assert!(
        ports(MASTER).contains("2379") && ports(MASTER).contains("2380"),
        "{}",
        ports(MASTER)
    );
    assert!(!ports(AGENT_1).contains("2379"), "{}", ports(AGENT_1));

    // The waiver applies as to every check.
    let waived = JobOptions {
        waivers: vec!["glibc".into()],
        ..JobOptions::default()
    };
    let job = run(&r, request(JobKind::Preflight, &yaml, waived)).await;
    assert_eq!(job.state, JobState::Succeeded, "{:#?}", job.hosts);
}

/// A master's `/strato/v1/ha` answer.
fn ha(role: &str, leader: &str) -> String {
    let members: Vec<String> = MASTERS
        .iter()
        .map(|m| format!(r#"{{"name":"{m}","client_url":"https://{m}:2379","healthy":true}}"#))
        .collect();
    format!(
        r#"{{"role":"{role}","leader":"{leader}","store":"etcd","quorum":true,"members":[{}]}}"#,
        members.join(",")
    )
}

/// Postflight of the three masters answering `answers` (None: no /strato/v1/ha), with a
/// short job deadline so a check that never settles fails quickly.
async fn postflight(answers: [Option<String>; 3]) -> strato_api::Job {
    let (_d, dir) = tempdir();
    let yaml = three_masters(30).replace(
        "  parallelism: 30\n",
        "  parallelism: 30\n  job_timeout_seconds: 6\n",
    );
    let serve = serve_tree_with(&dir, &yaml, &bundle_with_etcd());
    let agent = fresh_node(AGENT_1, 4);
    let masters: Vec<FakeTransport> = MASTERS
        .iter()
        .zip(answers)
        .enumerate()
        .map(|(i, (ip, answer))| {
            let f = fresh_node(ip, i + 1);
            match answer {
                Some(json) => f.on_contains("/strato/v1/ha", FakeReply::ok(json)),
                None => f.on_contains("/strato/v1/ha", FakeReply::fail(22, "curl: (22) 404")),
            };
            f.on_contains("/v2/leader", FakeReply::ok(r#"{"leader":"10.0.1.2:8080"}"#))
                .on_contains(
                    "/master/slaves",
                    FakeReply::ok(r#"{"slaves":[{"hostname":"10.0.2.1","active":true}]}"#),
                );
            f
        })
        .collect();
    let mut transports: Vec<(&str, Arc<dyn Transport>)> = MASTERS
        .iter()
        .zip(&masters)
        .map(|(ip, f)| (*ip, arc(f)))
        .collect();
    transports.push((AGENT_1, arc(&agent)));
    let r = runner(&dir, &serve, &transports);
    run(
        &r,
        request(JobKind::Postflight, &yaml, JobOptions::default()),
    )
    .await
}

#[tokio::test]
async fn postflight_passes_when_one_leader_is_named_by_every_master() {
    let job = postflight([
        Some(ha("standby", "10.0.1.2:5050")),
        Some(ha("leader", "10.0.1.2:5050")),
        Some(ha("standby", "10.0.1.2:5050")),
    ])
    .await;
    assert_eq!(job.state, JobState::Succeeded, "{:#?}", job.hosts);
}

#[tokio::test]
async fn postflight_fails_on_two_leaders_naming_them() {
    let job = postflight([
        Some(ha("leader", "10.0.1.1:5050")),
        Some(ha("leader", "10.0.1.2:5050")),
        Some(ha("standby", "10.0.1.2:5050")),
    ])
    .await;
    assert_eq!(job.state, JobState::Failed);
    let m = job.hosts.iter().find(|h| h.host == MASTER).expect("master");
    assert!(
        m.message
            .contains("2 masters say they lead: 10.0.1.1, 10.0.1.2"),
        "{}",
        m.message
    );
}

#[tokio::test]
async fn postflight_fails_when_a_master_serves_no_leadership_view() {
    let job = postflight([
        Some(ha("leader", "10.0.1.1:5050")),
        Some(ha("standby", "10.0.1.1:5050")),
        None,
    ])
    .await;
    assert_eq!(job.state, JobState::Failed);
    let m3 = job
        .hosts
        .iter()
        .find(|h| h.host == MASTER_3)
        .expect("master 3");
    assert_eq!(m3.state, HostState::Failed);
    assert!(
        m3.message
            .contains("/strato/v1/ha on :5050 does not answer"),
        "{}",
        m3.message
    );
}
