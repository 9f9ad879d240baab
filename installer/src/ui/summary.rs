//! The end of a job as text: a per-host summary table, the dry-run plan, preflight tables, and
//! the exit code the outcome maps to. Pure: the same job gives the same text.

use std::collections::BTreeMap;

use strato_api::{CheckRow, HostState, Job, JobKind, JobState};

use strato_text::table;

use crate::Exit;

/// Phases whose failure means "preflight failed" (exit 3): an unsupported OS or a failed check.
pub const PREFLIGHT_PHASES: &[&str] = &["Detect host operating systems", "Run preflight checks"];

fn state_word(state: HostState) -> &'static str {
    match state {
        HostState::Pending => "pending",
        HostState::Running => "running",
        HostState::Succeeded => "ok",
        HostState::Failed => "FAILED",
        HostState::Skipped => "skipped",
    }
}

/// The per-host table and a closing line.
pub fn render_summary(job: &Job) -> String {
    let rows: Vec<Vec<String>> = job
        .hosts
        .iter()
        .map(|h| {
            vec![
                h.host.clone(),
                h.role.as_str().to_string(),
                state_word(h.state).to_string(),
                if h.changed { "yes" } else { "no" }.to_string(),
                h.phase.clone().unwrap_or_default(),
                h.message.clone(),
            ]
        })
        .collect();
    let mut out = table(
        &["HOST", "ROLE", "STATE", "CHANGED", "PHASE", "MESSAGE"],
        &rows,
    );
    let ok = job.count(HostState::Succeeded);
    let failed = job.count(HostState::Failed);
    let skipped = job.count(HostState::Skipped);
    let changed = job.hosts.iter().filter(|h| h.changed).count();
    let kind = if job.dry_run {
        format!("{} (dry run)", job.kind)
    } else {
        job.kind.to_string()
    };
    out.push_str(&format!(
        "{kind}: {ok} ok, {failed} failed, {skipped} skipped of {} hosts",
        job.hosts.len()
    ));
    if matches!(job.kind, JobKind::Deploy | JobKind::Upgrade)
        && !job.dry_run
        && job.state == JobState::Succeeded
    {
        if changed == 0 {
            out.push_str("; nothing changed: the cluster is up to date");
        } else {
            out.push_str(&format!("; {changed} changed"));
        }
    }
    out.push('\n');
    if let Some(e) = &job.error {
        out.push_str(&format!("error: {e}\n"));
    }
    let resumable = matches!(
        job.kind,
        JobKind::Deploy | JobKind::Uninstall | JobKind::Upgrade
    );
    // An upgrade stopped before it changed a node (a pre-check, the skew rules) has nothing to
    // finish: what its hosts say must be fixed first.
    let stopped_midway = job.kind != JobKind::Upgrade || changed > 0;
    if failed + skipped > 0 && resumable && stopped_midway && !job.dry_run {
        out.push_str("re-run the same command to finish the remaining hosts\n");
    }
    out
}

/// The dry-run plan, grouped by host.
pub fn render_plan(job: &Job) -> String {
    if job.planned.is_empty() {
        return "dry run: no changes would be made\n".to_string();
    }
    let mut by_host: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in &job.planned {
        let (host, what) = line.split_once(": ").unwrap_or(("", line));
        by_host.entry(host).or_default().push(what);
    }
    let mut out = format!("dry run: {} changes would be made\n", job.planned.len());
    // Keep cluster.yaml's host order (masters first), not the map's.
    for h in &job.hosts {
        if let Some(lines) = by_host.get(h.host.as_str()) {
            out.push_str(&format!("{} ({}):\n", h.host, h.role.as_str()));
            for l in lines {
                out.push_str(&format!("  - {l}\n"));
            }
        }
    }
    out
}

/// Preflight rows of one host as an aligned table.
pub fn render_checks(host: &str, rows: &[CheckRow]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let message = if r.waived {
                format!("(waived) {}", r.message).trim_end().to_string()
            } else {
                r.message.clone()
            };
            vec![
                r.status.clone(),
                r.name.clone(),
                r.measured.clone(),
                r.required.clone(),
                message,
            ]
        })
        .collect();
    format!(
        "{host}\n{}",
        table(
            &["STATUS", "CHECK", "MEASURED", "REQUIRED", "MESSAGE"],
            &cells
        )
    )
}

/// The exit code for a finished job: 0 all ok; 3 a host failed preflight (or any host failed a
/// `strato preflight` job); 4 some hosts done and some not (re-run to resume); 1 nothing done.
pub fn exit_code(job: &Job) -> Exit {
    if job.state == JobState::Succeeded {
        return Exit::Success;
    }
    let preflight = job.kind == JobKind::Preflight
        || job.hosts.iter().any(|h| {
            h.state == HostState::Failed
                && h.phase
                    .as_deref()
                    .is_some_and(|p| PREFLIGHT_PHASES.contains(&p))
        });
    if preflight {
        Exit::PreflightFailed
    } else if job.count(HostState::Succeeded) > 0 {
        Exit::Partial
    } else {
        Exit::Failure
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use strato_api::{JobKind, JobOptions};
    use strato_engine::testing::*;
    use strato_host::{FakeReply, FakeTransport, Transport};

    use super::*;

    fn arc(f: &FakeTransport) -> Arc<dyn Transport> {
        Arc::new(f.clone())
    }

    /// Deploy the 1 master + 2 agents fake cluster; `agent_1` sets up the first agent.
    async fn deploy(options: JobOptions, agent_1: impl Fn(&FakeTransport)) -> Job {
        let (_d, dir) = tempdir();
        let yaml = small_cluster();
        let serve = serve_tree(&dir, &yaml);
        let (m, a1, a2) = (
            fresh_node(MASTER, 1),
            fresh_node(AGENT_1, 2),
            fresh_node(AGENT_2, 3),
        );
        agent_1(&a1);
        let r = runner(
            &dir,
            &serve,
            &[(MASTER, arc(&m)), (AGENT_1, arc(&a1)), (AGENT_2, arc(&a2))],
        );
        run(&r, request(JobKind::Deploy, &yaml, options)).await
    }

    #[tokio::test]
    async fn a_partial_deploy_shows_the_failed_host_and_exits_4() {
        let job = deploy(JobOptions::default(), |a1| {
            a1.on_prefix(
                "sh /opt/strato/tmp/install.sh",
                FakeReply::fail(
                    1,
                    "install.sh: error: cannot download http://10.0.0.1:8090/SHA256SUMS\n",
                ),
            );
        })
        .await;
        insta::assert_snapshot!(render_summary(&job));
        assert_eq!(exit_code(&job), Exit::Partial);
    }

    #[tokio::test]
    async fn a_dry_run_lists_the_plan_per_host() {
        let job = deploy(
            JobOptions {
                dry_run: true,
                ..JobOptions::default()
            },
            |_| {},
        )
        .await;
        insta::with_settings!({filters => vec![(r"\(\d+ bytes", "([N] bytes")]}, {
            insta::assert_snapshot!(format!("{}{}", render_plan(&job), render_summary(&job)));
        });
        assert_eq!(exit_code(&job), Exit::Success);
    }

    #[tokio::test]
    async fn a_preflight_failure_exits_3() {
        let (_d, dir) = tempdir();
        let yaml = cluster_yaml(&[MASTER], &[], "production", 30);
        let serve = serve_tree(&dir, &yaml);
        let m = fresh_node(MASTER, 1);
        let r = runner(&dir, &serve, &[(MASTER, arc(&m))]);
        let job = run(&r, request(JobKind::Deploy, &yaml, JobOptions::default())).await;
        assert_eq!(exit_code(&job), Exit::PreflightFailed);
        let text = render_summary(&job);
        assert!(text.contains("preflight failed: memory, disk"), "{text}");
    }

    #[test]
    fn a_no_op_redeploy_says_nothing_changed() {
        let job = Job {
            id: "deploy-1".into(),
            kind: JobKind::Deploy,
            state: JobState::Succeeded,
            dry_run: false,
            cluster_name: "demo".into(),
            created_ms: 0,
            finished_ms: Some(1),
            hosts: vec![strato_api::HostStatus {
                host: MASTER.into(),
                role: strato_api::Role::Master,
                phase: Some("Wait for masters".into()),
                state: HostState::Succeeded,
                message: "strato-master.service healthy after 0s".into(),
                changed: false,
                version: None,
            }],
            planned: vec![],
            error: None,
        };
        insta::assert_snapshot!(render_summary(&job));
    }
}
