//! Upgrade masters / agents / public agents: install the serve tree's version on one node (as
//! deploy does, `install.sh` switching `/opt/strato/current` to the new version's directory),
//! then gate it: its units healthy, the node on the target version and, for a master, its
//! process reporting it and every agent registered again. A node that does not pass its gate within [`UPGRADE_GATE_TIMEOUT`] is switched back to
//! its previous version (`upgrade.sh --rollback`) and the upgrade stops, naming the node, the
//! gate and the unit's last log lines.
//!
//! Masters go one at a time, the leader last (where there are several), so leadership moves at
//! most once; agents in batches (`--batch`, default a tenth, at least one), public agents after
//! them; no batch starts after one in which a node failed. With `--rollback` every node is
//! switched back to its previous version in the same order and gated the same way.

use std::time::Instant;

use async_trait::async_trait;
use strato_api::{HaRole, Role, HA_PATH};
use strato_host::{Applied, Change, ExecOptions, Host};

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{Outcome, Phase};
use crate::phases::install::{InstallNodes, DEPLOYED_MARKER};
use crate::phases::plan_upgrade::{target_version, CURRENT_VERSION};
use crate::phases::unit_of;
use crate::phases::wait_healthy::wait_until_healthy;
use crate::timeouts::{HEALTH_POLL_INTERVAL, HEALTH_PROBE_TIMEOUT, UPGRADE_GATE_TIMEOUT};

const ROLLBACK: &str = "sh /opt/strato/bin/upgrade.sh --rollback";

/// How long a node may take to pass its gate: `--gate-timeout`, else [`UPGRADE_GATE_TIMEOUT`].
fn gate_timeout(ctx: &JobCtx) -> std::time::Duration {
    match ctx.options.gate_timeout_seconds {
        0 => UPGRADE_GATE_TIMEOUT,
        n => std::time::Duration::from_secs(n),
    }
}

pub struct UpgradeNodes {
    title: &'static str,
    roles: &'static [Role],
}

impl UpgradeNodes {
    pub fn new(title: &'static str, roles: &'static [Role]) -> Self {
        UpgradeNodes { title, roles }
    }

    fn masters(&self) -> bool {
        self.roles.contains(&Role::Master)
    }
}

/// The version the node's files say it runs.
async fn installed_version(h: &Host) -> Result<Option<String>, PhaseError> {
    let out = h
        .read(
            &format!("cat {CURRENT_VERSION} 2>/dev/null"),
            ExecOptions::default(),
        )
        .await?;
    Ok(Some(out.stdout_text().trim().to_string()).filter(|v| !v.is_empty()))
}

/// The version a master's process reports (`/strato/v1/ha`'s `version`, plain on loopback;
/// `/v2/info` stays as Marathon clients parse it).
async fn served_version(ctx: &JobCtx, h: &Host) -> Result<Option<String>, PhaseError> {
    let opts = ExecOptions {
        timeout: Some(HEALTH_PROBE_TIMEOUT),
        deadline: Some(ctx.deadline),
        ..ExecOptions::default()
    };
    let out = h
        .read(
            &format!("curl -fsS --max-time 5 http://127.0.0.1:5050{HA_PATH}"),
            opts,
        )
        .await?;
    Ok(
        serde_json::from_str::<serde_json::Value>(&out.stdout_text())
            .ok()
            .and_then(|v| v.get("version")?.as_str().map(str::to_string)),
    )
}

/// The gate: healthy units, the target version installed, a master serving it. `Err` says
/// which part failed and why.
async fn gate(ctx: &JobCtx, host: &HostCtx, target: &str) -> Result<String, String> {
    let h = host.host().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let healthy = wait_until_healthy(ctx, h, host.name(), host.role, gate_timeout(ctx))
        .await
        .map_err(|e| format!("gate \"units healthy\" failed: {}", strip_host(host, &e)))?;
    let installed = installed_version(h).await.map_err(|e| e.to_string())?;
    if installed.as_deref() != Some(target) {
        return Err(format!(
            "gate \"version installed\" failed: {CURRENT_VERSION} says {}, not {target}",
            installed.as_deref().unwrap_or("nothing")
        ));
    }
    if host.role == Role::Master {
        let until = started + gate_timeout(ctx);
        loop {
            let served = served_version(ctx, h).await.map_err(|e| e.to_string())?;
            if served.as_deref() == Some(target) {
                break;
            }
            if Instant::now() + HEALTH_POLL_INTERVAL >= until.min(ctx.deadline) {
                return Err(format!(
                    "gate \"master serving\" failed: {HA_PATH} reports {}, not {target}",
                    served.as_deref().unwrap_or("no version")
                ));
            }
            tokio::time::sleep(HEALTH_POLL_INTERVAL).await;
        }
        agents_registered(ctx, h, until).await?;
    }
    Ok(healthy)
}

/// A master's last gate: every agent of cluster.yaml registered with the cluster again, as this
/// master sees it (`/master/slaves` on its loopback), before the next master restarts.
async fn agents_registered(ctx: &JobCtx, h: &Host, until: Instant) -> Result<(), String> {
    let expected = ctx.cluster.agents.len() + ctx.cluster.public_agents.len();
    if expected == 0 {
        return Ok(());
    }
    loop {
        let opts = ExecOptions {
            timeout: Some(HEALTH_PROBE_TIMEOUT),
            deadline: Some(ctx.deadline),
            ..ExecOptions::default()
        };
        let out = h
            .read(
                "curl -fsS --max-time 5 http://127.0.0.1:5050/master/slaves",
                opts,
            )
            .await
            .map_err(|e| e.to_string())?;
        let seen = crate::phases::check_cluster::registered(&out.stdout_text()).unwrap_or_default();
        if seen.len() >= expected {
            return Ok(());
        }
        if Instant::now() + HEALTH_POLL_INTERVAL >= until.min(ctx.deadline) {
            return Err(format!(
                "gate \"agents re-registered\" failed: {} of {expected} agents registered ({})",
                seen.len(),
                seen.join(", ")
            ));
        }
        tokio::time::sleep(HEALTH_POLL_INTERVAL).await;
    }
}

fn strip_host(host: &HostCtx, e: &PhaseError) -> String {
    let text = e.to_string();
    text.strip_prefix(&format!("{}: ", host.name()))
        .map(str::to_string)
        .unwrap_or(text)
}

/// Runs `upgrade.sh --rollback` on the node (current and previous swapped, the unit restarted)
/// and drops its deploy marker, so the next deploy or upgrade installs it again. `Err` says why
/// it could not.
async fn switch_back(ctx: &JobCtx, h: &Host) -> Result<(), String> {
    let applied = h
        .apply(Change::Exec {
            command: format!("{ROLLBACK} && rm -f {DEPLOYED_MARKER}"),
            opts: ExecOptions {
                sudo: true,
                timeout: Some(UPGRADE_GATE_TIMEOUT.max(gate_timeout(ctx))),
                deadline: Some(ctx.deadline),
                ..ExecOptions::default()
            },
        })
        .await
        .map_err(|e| e.to_string())?;
    match applied {
        Applied::Ran(out) if !out.success() => Err(format!(
            "upgrade.sh --rollback failed: {}",
            out.stderr_text().lines().last().unwrap_or("").trim()
        )),
        _ => Ok(()),
    }
}

/// Switches the node back to its previous version, if it was switched to `target` at all, and
/// forgets that it was deployed, so the next deploy or upgrade installs it again. Returns what
/// happened, for the error.
async fn roll_back(ctx: &JobCtx, host: &HostCtx, target: &str) -> String {
    let Ok(h) = host.host() else {
        return "not rolled back: no connection".into();
    };
    let previous = host
        .versions
        .as_ref()
        .and_then(|v| v.current.clone())
        .unwrap_or_else(|| "the previous version".into());
    // A node that stays on its version (a configuration or certificate change, a CA rotation)
    // has nothing to switch back to: its previous version is older than what it ran.
    if host.versions.as_ref().and_then(|v| v.current.as_deref()) == Some(target) {
        return format!("not switched back: the node was already on {target}");
    }
    match installed_version(h).await {
        Ok(Some(now)) if now == target => {}
        Ok(now) => {
            return format!(
                "not switched: the node still has {} installed",
                now.as_deref().unwrap_or("its old layout")
            )
        }
        Err(e) => return format!("not rolled back: {e}"),
    }
    if let Err(why) = switch_back(ctx, h).await {
        return format!("rolling back failed too: {why}");
    }
    match wait_until_healthy(ctx, h, host.name(), host.role, gate_timeout(ctx)).await {
        Ok(how) => format!("rolled back to {previous} ({how})"),
        Err(e) => format!(
            "rolled back to {previous}, still not healthy: {}",
            strip_host(host, &e)
        ),
    }
}

#[async_trait]
impl Phase for UpgradeNodes {
    fn title(&self) -> &str {
        self.title
    }

    fn roles(&self) -> &[Role] {
        self.roles
    }

    fn journaled(&self) -> bool {
        true
    }

    fn needs_healthy_masters(&self) -> bool {
        !self.masters()
    }

    fn one_at_a_time(&self, _ctx: &JobCtx, _hosts: &[&HostCtx]) -> bool {
        self.masters()
    }

    fn batch(&self, ctx: &JobCtx, hosts: &[&HostCtx]) -> Option<usize> {
        Some(match (self.masters(), ctx.options.batch) {
            (true, _) => 1,
            (false, 0) => hosts.len().div_ceil(10).max(1),
            (false, n) => n,
        })
    }

    fn order(&self, host: &HostCtx) -> u8 {
        u8::from(host.ha.as_ref().is_some_and(|ha| ha.role == HaRole::Leader))
    }

    fn stops_job(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let name = host.name().to_string();
        let from = host
            .versions
            .as_ref()
            .and_then(|v| v.current.clone())
            .unwrap_or_else(|| "unknown".into());
        let (target, installed) = if ctx.options.rollback {
            let previous = host
                .versions
                .as_ref()
                .and_then(|v| v.previous.clone())
                .ok_or_else(|| PhaseError::failed(&name, "no previous version to roll back to"))?;
            switch_back(ctx, host.host()?)
                .await
                .map_err(|why| PhaseError::failed(&name, why))?;
            (
                previous,
                Outcome::changed(format!("switched back from {from}")),
            )
        } else {
            let target =
                target_version(ctx).map_err(|e| PhaseError::failed(&name, e.to_string()))?;
            // The gate below waits for the node; install.sh must not wait on its own.
            host.one_at_a_time = false;
            match InstallNodes::new(self.title, self.roles)
                .run(ctx, host)
                .await
            {
                Ok(installed) => (target, installed),
                Err(e) if ctx.dry_run() => return Err(e),
                Err(e) => {
                    let after = roll_back(ctx, host, &target).await;
                    return Err(PhaseError::failed(
                        &name,
                        format!("{}; {after}", strip_host(host, &e)),
                    ));
                }
            }
        };
        if !installed.changed || ctx.dry_run() {
            return Ok(installed);
        }
        match gate(ctx, host, &target).await {
            Ok(healthy) => {
                host.status.version = Some(target.clone());
                Ok(Outcome::changed(format!(
                    "{} {from} → {target}, {healthy}",
                    if ctx.options.rollback {
                        "rolled back"
                    } else {
                        "upgraded"
                    }
                )))
            }
            Err(why) if ctx.options.rollback => Err(PhaseError::failed(
                &name,
                format!("on {target} after the rollback: {why}"),
            )),
            Err(why) => {
                let after = roll_back(ctx, host, &target).await;
                Err(PhaseError::failed(
                    &name,
                    format!("{} on {target}: {why}; {after}", unit_of(host.role)),
                ))
            }
        }
    }
}
