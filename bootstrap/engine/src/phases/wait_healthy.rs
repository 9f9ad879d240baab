//! Wait for masters / agents (deploy) and Check masters / agents (postflight): poll the role's
//! unit and its local health endpoint until it answers or the wait (bounded by the job
//! deadline) runs out; on timeout the unit's last log lines go into the error. A master of a
//! 3+ master cluster is healthy only when its etcd member is too (`strato-etcd.service` active,
//! etcd's own `/health` true over mutual TLS on the node's IP).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use strato_api::Role;
use strato_host::{ExecOptions, Host};

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{Outcome, Phase};
use crate::phases::unit_of;
use crate::timeouts::{HEALTH_POLL_INTERVAL, HEALTH_PROBE_TIMEOUT};

/// etcd's health on this master: its unit ready and `/health` true, asked over mutual TLS with
/// the master's certificate of the etcd CA on the node's IP (the certificate does not name
/// 127.0.0.1). Needs root (the key is 0600).
const ETCD_PROBE: &str = "systemctl is-active --quiet strato-etcd.service && . /opt/strato/etc/ip.env && \
curl -fsS --max-time 5 --cacert /opt/strato/etc/tls/etcd-ca.crt --cert /opt/strato/etc/tls/etcd.crt \
--key /opt/strato/etc/tls/etcd.key \"https://$STRATO_IP:2379/health\" | grep -q '\"health\":\"true\"'";

/// The read-only probe for a role: unit active and its health endpoint answering on loopback
/// (docs/runtime-contract.md §Ports: master 5050, agent 5051); with `etcd`, a master's etcd
/// member must be healthy too.
pub fn health_probe(role: Role, etcd: bool) -> String {
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
    let probe = format!(
        "systemctl is-active --quiet {} && curl -fsS -o /dev/null --max-time 5 {url}",
        unit_of(role)
    );
    if etcd && role == Role::Master {
        format!("{probe} && {ETCD_PROBE}")
    } else {
        probe
    }
}

/// Poll `host`'s health probe until it passes (`Ok("… healthy after Ns")`) or `timeout` (bounded
/// by the job deadline) runs out: then an error with the unit's last log lines.
pub(crate) async fn wait_until_healthy(
    ctx: &JobCtx,
    h: &Host,
    name: &str,
    role: Role,
    timeout: Duration,
) -> Result<String, PhaseError> {
    let etcd = ctx.uses_etcd() && role == Role::Master;
    let probe = health_probe(role, etcd);
    let until = (Instant::now() + timeout).min(ctx.deadline);
    let started = Instant::now();
    let units = if etcd {
        format!("{} and strato-etcd.service", unit_of(role))
    } else {
        unit_of(role).to_string()
    };
    loop {
        let opts = ExecOptions {
            timeout: Some(HEALTH_PROBE_TIMEOUT),
            deadline: Some(ctx.deadline),
            // etcd's probe reads the node's key.
            sudo: etcd,
            ..ExecOptions::default()
        };
        let out = h.read(&probe, opts).await?;
        if out.success() {
            return Ok(format!(
                "{units} healthy after {}s",
                started.elapsed().as_secs()
            ));
        }
        if Instant::now() + HEALTH_POLL_INTERVAL >= until {
            let mut journal = format!("journalctl -u {} -n 5 --no-pager -o cat", unit_of(role));
            if etcd {
                journal.push_str(" -u strato-etcd.service");
            }
            let log = h
                .read(&format!("{journal} 2>/dev/null"), ExecOptions::sudo())
                .await
                .map(|o| o.stdout_text().lines().collect::<Vec<_>>().join(" | "))
                .unwrap_or_default();
            return Err(PhaseError::failed(
                name,
                format!(
                    "{units} not healthy after {}s: {}; last log: {log}",
                    started.elapsed().as_secs(),
                    out.stderr_text().trim()
                ),
            ));
        }
        tokio::time::sleep(HEALTH_POLL_INTERVAL).await;
    }
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
        wait_until_healthy(ctx, h, host.name(), host.role, self.timeout)
            .await
            .map(Outcome::unchanged)
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
