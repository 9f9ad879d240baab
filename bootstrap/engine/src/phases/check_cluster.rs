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
use crate::phases::member_cert::TLS_DIR;
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
    let gateway = match gateway_check(ctx, h).await? {
        Ok(summary) => summary,
        Err(missing) => return Ok(Err(missing)),
    };
    Ok(Ok(format!(
        "leader elected, {} agents registered, Marathon API answering{gateway}",
        agents.len()
    )))
}

/// The gateway on this master: refuses a request without a token, and serves the Marathon API to
/// a token of the cluster's (minted here for two minutes from the PKI's secret, and sent on
/// curl's stdin so it shows in no command line or log).
async fn gateway_check(ctx: &JobCtx, h: &Host) -> Result<Result<String, String>, PhaseError> {
    let Some(key) = &ctx.gateway_key else {
        return Ok(Ok(String::new()));
    };
    let Some(address) = ctx.cluster.masters.first().map(|m| m.address.as_str()) else {
        return Ok(Ok(String::new()));
    };
    let gateway = &ctx.cluster.gateway;
    let host = if address.contains(':') {
        format!("[{address}]")
    } else {
        address.to_string()
    };
    let url = format!(
        "https://{host}:{}/service/marathon/v2/info",
        gateway.https_port
    );
    // The master's certificate comes from the cluster CA; an operator's own one may not.
    let trust = if gateway.tls_cert.is_some() {
        "-k".to_string()
    } else {
        format!("--cacert {TLS_DIR}/ca.crt")
    };
    let opts = |stdin: Option<Vec<u8>>| ExecOptions {
        stdin,
        timeout: Some(HEALTH_PROBE_TIMEOUT),
        deadline: Some(ctx.deadline),
        ..ExecOptions::default()
    };
    let anonymous = h
        .read(
            &format!("curl -sS {trust} --max-time 5 -o /dev/null -w '%{{http_code}}' {url}"),
            opts(None),
        )
        .await?;
    let code = anonymous.stdout_text();
    if code.trim() != "401" {
        return Ok(Err(format!(
            "the gateway at {url} answered {} without a token (want 401)",
            if code.trim().is_empty() {
                "nothing".to_string()
            } else {
                code.trim().to_string()
            }
        )));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (token, _) = key.issue(
        "strato-postflight",
        std::time::Duration::from_secs(120),
        now,
    );
    let header = format!("Authorization: token={token}\n").into_bytes();
    let with_token = h
        .read(
            &format!("curl -fsS {trust} --max-time 5 -H @- {url}"),
            opts(Some(header)),
        )
        .await?;
    let answered = with_token.success()
        && serde_json::from_str::<serde_json::Value>(&with_token.stdout_text())
            .is_ok_and(|v| v.get("name").is_some());
    if !answered {
        return Ok(Err(format!(
            "the gateway at {url} refused a token of this cluster: {}",
            with_token.stderr_text().trim()
        )));
    }
    Ok(Ok(", gateway (HTTPS, login) answering".to_string()))
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
