//! Check the masters' leader (postflight, 3 or more masters): each master's own view
//! (`GET /strato/v1/ha`, plain on its loopback) must settle — etcd with a quorum, a leader named,
//! every member healthy — and then all views must agree: exactly one master leads and every
//! master names it ([`strato_api::agreement`]). A master that never answers fails: with etcd
//! there is no "one master, nothing to elect" case.

use std::time::Instant;

use async_trait::async_trait;
use strato_api::{HaStatus, Role, HA_PATH};
use strato_host::ExecOptions;

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{HostFailure, Outcome, Phase, MASTER_ROLES};
use crate::timeouts::{HEALTH_POLL_INTERVAL, HEALTH_PROBE_TIMEOUT, POSTFLIGHT_TIMEOUT};

const TITLE: &str = "Check the masters' leader";

pub struct CheckLeader;

fn masters(ctx: &JobCtx) -> Vec<String> {
    ctx.cluster
        .masters
        .iter()
        .map(|m| m.address.clone())
        .collect()
}

#[async_trait]
impl Phase for CheckLeader {
    fn title(&self) -> &str {
        TITLE
    }

    fn roles(&self) -> &[Role] {
        MASTER_ROLES
    }

    fn should_run(&self, ctx: &JobCtx, _host: &HostCtx) -> bool {
        ctx.uses_etcd()
    }

    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let h = host.host()?;
        let all = masters(ctx);
        let until = (Instant::now() + POSTFLIGHT_TIMEOUT).min(ctx.deadline);
        let command = format!("curl -fsS --max-time 5 http://127.0.0.1:5050{HA_PATH}");
        loop {
            let opts = ExecOptions {
                timeout: Some(HEALTH_PROBE_TIMEOUT),
                deadline: Some(ctx.deadline),
                ..ExecOptions::default()
            };
            let out = h.read(&command, opts).await?;
            let verdict = if out.success() {
                HaStatus::parse(&out.stdout_text()).and_then(|v| v.settled(&all).map(|()| v))
            } else {
                Err(format!(
                    "{HA_PATH} on :5050 does not answer ({})",
                    out.stderr_text().trim()
                ))
            };
            match verdict {
                Ok(view) => {
                    let message = format!(
                        "{:?}, leader {}, etcd quorum with {} healthy members",
                        view.role,
                        view.leader.as_deref().unwrap_or("none"),
                        view.members.len()
                    )
                    .to_lowercase();
                    host.ha = Some(view);
                    return Ok(Outcome::unchanged(message));
                }
                Err(problem) if Instant::now() + HEALTH_POLL_INTERVAL >= until => {
                    return Err(PhaseError::failed(
                        host.name(),
                        format!("leadership not settled: {problem}"),
                    ))
                }
                Err(problem) => ctx.progress(host.name(), TITLE, format!("waiting: {problem}")),
            }
            tokio::time::sleep(HEALTH_POLL_INTERVAL).await;
        }
    }

    /// Every settled view together: one leader, named by all.
    async fn finish(&self, ctx: &JobCtx, hosts: &[&HostCtx]) -> Vec<HostFailure> {
        if !ctx.uses_etcd() {
            return Vec::new();
        }
        let views: Vec<(String, HaStatus)> = hosts
            .iter()
            .filter_map(|h| h.ha.clone().map(|v| (h.name().to_string(), v)))
            .collect();
        // A master that failed its own check already says why; agreement is judged among the rest.
        let answered: Vec<String> = views.iter().map(|(h, _)| h.clone()).collect();
        if answered.is_empty() {
            return Vec::new();
        }
        match strato_api::agreement(&answered, &views) {
            Ok(_) => Vec::new(),
            Err(problems) => views
                .iter()
                .map(|(host, _)| HostFailure {
                    host: host.clone(),
                    message: format!(
                        "masters do not agree on one leader: {}",
                        problems.join("; ")
                    ),
                })
                .collect(),
        }
    }
}
