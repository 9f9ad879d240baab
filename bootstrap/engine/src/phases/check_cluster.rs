//! Check the cluster (postflight), on the first master: a leader is elected, every agent in
//! cluster.yaml is registered, and the Marathon API answers. Polls until all hold or the
//! postflight wait (bounded by the job deadline) runs out.

use std::time::Instant;

use async_trait::async_trait;
use strato_api::Role;
use strato_host::{ExecOptions, Host};

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{Outcome, Phase, MASTER_ROLES};
use crate::timeouts::{HEALTH_POLL_INTERVAL, HEALTH_PROBE_TIMEOUT, POSTFLIGHT_TIMEOUT};

pub struct CheckCluster;

/// Registered agents' addresses (`hostname` of each entry in `/master/slaves`).
pub(crate) fn registered(slaves_json: &str) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(slaves_json).ok()?;
    let list = v.get("slaves")?.as_array()?;
    Some(
        list.iter()
            .filter(|s| s.get("active").and_then(|a| a.as_bool()).unwrap_or(true))
            .filter_map(|s| {
                s.get("hostname")
                    .and_then(|h| h.as_str())
                    .map(str::to_string)
            })
            .collect(),
    )
}

async fn get(h: &Host, url: &str, deadline: Instant) -> Result<Option<String>, PhaseError> {
    let opts = ExecOptions {
        timeout: Some(HEALTH_PROBE_TIMEOUT),
        deadline: Some(deadline),
        ..ExecOptions::default()
    };
    let out = h
        .read(&format!("curl -fsS --max-time 5 {url}"), opts)
        .await?;
    Ok(out.success().then(|| out.stdout_text()))
}

/// One round of checks: `Ok(summary)` when healthy, `Err(what is missing)` otherwise.
async fn check_once(ctx: &JobCtx, h: &Host) -> Result<Result<String, String>, PhaseError> {
    let expected = ctx.cluster.agents.len() + ctx.cluster.public_agents.len();
    let leader = get(h, "http://127.0.0.1:8080/v2/leader", ctx.deadline).await?;
    let Some(leader) = leader else {
        return Ok(Err("the Marathon API on :8080 does not answer".into()));
    };
    let has_leader = serde_json::from_str::<serde_json::Value>(&leader)
        .ok()
        .and_then(|v| {
            v.get("leader")
                .and_then(|l| l.as_str())
                .map(|s| !s.is_empty())
        })
        .unwrap_or(false);
    if !has_leader {
        return Ok(Err(format!(
            "no leader elected (/v2/leader: {})",
            leader.trim()
        )));
    }
    let slaves = get(h, "http://127.0.0.1:5050/master/slaves", ctx.deadline).await?;
    let Some(agents) = slaves.as_deref().and_then(registered) else {
        return Ok(Err("/master/slaves on :5050 does not answer".into()));
    };
    if agents.len() < expected {
        return Ok(Err(format!(
            "{} of {expected} agents registered ({})",
            agents.len(),
            agents.join(", ")
        )));
    }
    Ok(Ok(format!(
        "leader elected, {} agents registered, Marathon API answering",
        agents.len()
    )))
}

#[async_trait]
impl Phase for CheckCluster {
    fn title(&self) -> &str {
        "Check the cluster"
    }

    fn roles(&self) -> &[Role] {
        MASTER_ROLES
    }

    fn should_run(&self, ctx: &JobCtx, host: &HostCtx) -> bool {
        ctx.cluster.masters.first().map(|m| m.address.as_str()) == Some(host.name())
    }

    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let h = host.host()?;
        let until = (Instant::now() + POSTFLIGHT_TIMEOUT).min(ctx.deadline);
        loop {
            match check_once(ctx, h).await? {
                Ok(summary) => return Ok(Outcome::unchanged(summary)),
                Err(missing) if Instant::now() + HEALTH_POLL_INTERVAL >= until => {
                    return Err(PhaseError::failed(
                        host.name(),
                        format!("cluster not healthy: {missing}"),
                    ))
                }
                Err(missing) => {
                    ctx.progress(host.name(), self.title(), format!("waiting: {missing}"))
                }
            }
            tokio::time::sleep(HEALTH_POLL_INTERVAL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_lists_active_agents() {
        let json = r#"{"slaves":[{"hostname":"10.0.0.2","active":true},{"hostname":"10.0.0.3","active":false}]}"#;
        assert_eq!(registered(json), Some(vec!["10.0.0.2".to_string()]));
        assert_eq!(registered("nope"), None);
    }
}
