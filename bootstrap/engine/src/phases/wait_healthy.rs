//! Wait for masters / agents (deploy) and Check masters / agents (postflight): poll the role's
//! unit and its local health endpoint until it answers or the wait (bounded by the job
//! deadline) runs out; on timeout the unit's last log lines go into the error.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use strato_api::Role;
use strato_host::ExecOptions;

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{Outcome, Phase};
use crate::phases::unit_of;
use crate::timeouts::{HEALTH_POLL_INTERVAL, HEALTH_PROBE_TIMEOUT};

/// The read-only probe for a role: unit active and its health endpoint answering on loopback
/// (docs/runtime-contract.md §Ports: master 5050, agent 5051).
pub fn health_probe(role: Role) -> String {
    // Masters and agents also answer plain HTTP on loopback; the bootstrap server only HTTPS.
    let url = match role {
        Role::Master => "http://127.0.0.1:5050/health".to_string(),
        Role::Agent | Role::PublicAgent => "http://127.0.0.1:5051/health".to_string(),
        Role::Bootstrap => format!(
            "--cacert {}/pki/{} https://127.0.0.1:8090/health",
            crate::bootstrap_host::BOOTSTRAP_DATA_DIR,
            strato_tls::CA_CERT
        ),
    };
    format!(
        "systemctl is-active --quiet {} && curl -fsS -o /dev/null --max-time 5 {url}",
        unit_of(role)
    )
}

pub struct WaitHealthy {
    title: &'static str,
    roles: &'static [Role],
    timeout: Duration,
    /// Deploy waits on services it just started; in dry-run there is nothing to wait for.
    after_install: bool,
}

impl WaitHealthy {
    pub fn new(
        title: &'static str,
        roles: &'static [Role],
        timeout: Duration,
        after_install: bool,
    ) -> Self {
        WaitHealthy {
            title,
            roles,
            timeout,
            after_install,
        }
    }
}

#[async_trait]
impl Phase for WaitHealthy {
    fn title(&self) -> &str {
        self.title
    }

    fn roles(&self) -> &[Role] {
        self.roles
    }

    fn needs_healthy_masters(&self) -> bool {
        self.after_install && self.roles.contains(&Role::Agent)
    }

    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let h = host.host()?;
        let probe = health_probe(host.role);
        let until = (Instant::now() + self.timeout).min(ctx.deadline);
        let started = Instant::now();
        loop {
            let opts = ExecOptions {
                timeout: Some(HEALTH_PROBE_TIMEOUT),
                deadline: Some(ctx.deadline),
                ..ExecOptions::default()
            };
            let out = h.read(&probe, opts).await?;
            if out.success() {
                return Ok(Outcome::unchanged(format!(
                    "{} healthy after {}s",
                    unit_of(host.role),
                    started.elapsed().as_secs()
                )));
            }
            if Instant::now() + HEALTH_POLL_INTERVAL >= until {
                let unit = unit_of(host.role);
                let log = h
                    .read(
                        &format!("journalctl -u {unit} -n 5 --no-pager -o cat 2>/dev/null"),
                        ExecOptions::sudo(),
                    )
                    .await
                    .map(|o| o.stdout_text().lines().collect::<Vec<_>>().join(" | "))
                    .unwrap_or_default();
                return Err(PhaseError::failed(
                    host.name(),
                    format!(
                        "{unit} not healthy after {}s: {}; last log: {log}",
                        started.elapsed().as_secs(),
                        out.stderr_text().trim()
                    ),
                ));
            }
            tokio::time::sleep(HEALTH_POLL_INTERVAL).await;
        }
    }

    async fn dry_run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        if self.after_install {
            return Ok(Outcome::unchanged(format!(
                "would wait for {} to be healthy",
                unit_of(host.role)
            )));
        }
        self.run(ctx, host).await
    }
}
