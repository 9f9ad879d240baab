//! Install masters / Install agents: run the serve tree's `install.sh` for the node's role,
//! unless the node already runs this exact tree (a marker holds the manifest's sha256 and the
//! role and the fingerprints of the cluster CA and the signing key, and the unit is active): then nothing is touched and the host says "up to date".
//!
//! Masters of a 3+ master cluster run etcd, so their order keeps its quorum:
//! - no etcd cluster yet (fewer than a quorum of masters have ever been members, e.g. a first
//!   deploy): every master is installed and started without waiting for any (install.sh starts
//!   etcd and the master with `--no-block`), since one member alone never becomes healthy;
//!   "Wait for masters" then waits for all of them;
//! - an etcd cluster running: masters that need a change are installed one at a time, each
//!   waited healthy (master and etcd member) before the next, so at most one member restarts.

use async_trait::async_trait;
use strato_api::Role;
use strato_host::{Applied, Change, ExecOptions};
use strato_text::shell_quote;

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{Outcome, Phase};
use crate::phases::gateway_files::gateway_changes;
use crate::phases::member_cert::{ca_fingerprint, etcd_tls_changes, tls_changes, TLS_DIR};
use crate::phases::wait_healthy::wait_until_healthy;
use crate::timeouts::{INSTALL_TIMEOUT, SERVICE_HEALTHY_TIMEOUT};

/// Written after a successful install: `<manifest sha256> <role>`.
pub const DEPLOYED_MARKER: &str = "/opt/strato/etc/deployed";
/// Where the install script is staged on the node.
const STAGED_INSTALL: &str = "/opt/strato/tmp/install.sh";

/// The systemd unit a role runs.
pub fn unit_of(role: Role) -> &'static str {
    match role {
        Role::Master => "strato-master.service",
        Role::Agent | Role::PublicAgent => "strato-agent.service",
        Role::Bootstrap => "strato-bootstrap.service",
    }
}

pub struct InstallNodes {
    title: &'static str,
    roles: &'static [Role],
    after_masters: bool,
}

impl InstallNodes {
    pub fn new(title: &'static str, roles: &'static [Role]) -> Self {
        InstallNodes {
            title,
            roles,
            after_masters: false,
        }
    }

    /// Only start when every master is healthy.
    pub fn after_masters(mut self) -> Self {
        self.after_masters = true;
        self
    }
}

/// Whether the masters' etcd cluster already runs, so masters must change one at a time: at
/// least a quorum of the cluster's masters have been etcd members (their data directory holds a
/// member). Fewer means no quorum could be running: all masters start together.
pub fn etcd_cluster_running(ctx: &JobCtx, masters: &[&HostCtx]) -> bool {
    let n = ctx.cluster.masters.len();
    let members = masters
        .iter()
        .filter(|h| h.role == Role::Master)
        .filter(|h| h.facts.as_ref().is_some_and(|f| f.etcd_member))
        .count();
    ctx.uses_etcd() && members > n / 2
}

/// The last lines of a script's log, for an error message.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join(" | ")
}

#[async_trait]
impl Phase for InstallNodes {
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
        self.after_masters
    }

    fn one_at_a_time(&self, ctx: &JobCtx, hosts: &[&HostCtx]) -> bool {
        self.roles.contains(&Role::Master) && etcd_cluster_running(ctx, hosts)
    }

    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let name = host.name().to_string();
        let h = host.host()?;
        let serve_err = |e: crate::EngineError| PhaseError::failed(&name, e.to_string());
        let mut want = format!(
            "{} {}",
            ctx.serve.digest().map_err(serve_err)?,
            host.role.as_str()
        );
        if let Some(ca) = &ctx.ca {
            want.push(' ');
            want.push_str(&ca_fingerprint(ca));
        }
        // A new signing key must reach the node too, or its next upgrade would refuse the tree.
        if let Some(public) = &ctx.signing_pub {
            want.push(' ');
            want.push_str(&strato_render::sha256_hex(public.as_bytes())[..16]);
        }
        // A master's gateway files: a changed account or secret reinstalls it.
        let gateway = match &ctx.ca {
            Some(ca) => gateway_changes(ctx, ca, host)?,
            None => (Vec::new(), String::new()),
        };
        if !gateway.1.is_empty() {
            want.push_str(" gw:");
            want.push_str(&gateway.1);
        }
        // A master installed before it had an etcd certificate is reinstalled to get one.
        if let Some(etcd_ca) = ctx.etcd_ca.as_ref().filter(|_| ctx.uses_etcd()) {
            if host.role == Role::Master {
                want.push_str(" etcd:");
                want.push_str(&ca_fingerprint(etcd_ca));
            }
        }
        let unit = unit_of(host.role);
        let current = h
            .read(
                &format!("cat {DEPLOYED_MARKER} 2>/dev/null"),
                ExecOptions::default(),
            )
            .await?
            .stdout_text();
        let active = h
            .read(
                &format!("systemctl is-active {unit}"),
                ExecOptions::default(),
            )
            .await?
            .stdout_text();
        if current.trim() == want && active.trim() == "active" {
            return Ok(Outcome::unchanged(format!(
                "up to date: {unit} runs this configuration"
            )));
        }

        let script = ctx.serve.read("install.sh").map_err(serve_err)?;
        h.apply_ok(Change::exec_sudo(
            "mkdir -p /opt/strato/tmp /opt/strato/etc/tls",
        ))
        .await?;
        // Certificates first: install.sh starts the unit, which loads them.
        if let Some(ca) = &ctx.ca {
            for change in tls_changes(ca, host)? {
                h.apply_ok(change).await?;
            }
        }
        if let Some(etcd_ca) = ctx.etcd_ca.as_ref().filter(|_| ctx.uses_etcd()) {
            for change in etcd_tls_changes(etcd_ca, host)? {
                h.apply_ok(change).await?;
            }
        }
        for change in gateway.0 {
            h.apply_ok(change).await?;
        }
        if let Some(public) = &ctx.signing_pub {
            h.apply_ok(Change::upload_sudo(
                public.clone().into_bytes(),
                format!("{TLS_DIR}/{}", strato_tls::SIGNING_PUB),
                0o644,
            ))
            .await?;
        }
        h.apply_ok(Change::upload_sudo(script, STAGED_INSTALL, 0o755))
            .await?;
        // --host picks the node's own agent.toml when cluster.yaml gives it labels.
        let command = format!(
            "sh {STAGED_INSTALL} --url {} --host {} {}",
            shell_quote(&ctx.serve.url),
            shell_quote(&name),
            host.role.as_str()
        );
        let applied = h
            .apply(Change::Exec {
                command: command.clone(),
                opts: ExecOptions {
                    sudo: true,
                    timeout: Some(INSTALL_TIMEOUT),
                    deadline: Some(ctx.deadline),
                    ..ExecOptions::default()
                },
            })
            .await?;
        if let Applied::Ran(out) = &applied {
            let log = out.stderr_text();
            for line in log.lines().filter(|l| !l.trim().is_empty()) {
                ctx.progress(&name, self.title, line);
            }
            if !out.success() {
                return Err(PhaseError::failed(
                    &name,
                    format!(
                        "install.sh {} exited with status {}: {}",
                        host.role,
                        out.exit_status,
                        tail(&format!("{}\n{log}", out.stdout_text()), 3)
                    ),
                ));
            }
        }
        // A rolling update of a running etcd cluster: this master (and its member) must be
        // healthy again before the next one restarts. Not in dry-run: nothing was restarted.
        let rolled = host.one_at_a_time && host.role == Role::Master && !ctx.dry_run();
        let healthy = if rolled {
            let how = wait_until_healthy(ctx, h, &name, host.role, SERVICE_HEALTHY_TIMEOUT).await?;
            format!(", {how} before the next master")
        } else {
            String::new()
        };
        h.apply_ok(Change::upload_sudo(
            format!("{want}\n").into_bytes(),
            DEPLOYED_MARKER,
            0o644,
        ))
        .await?;
        Ok(Outcome::changed(format!(
            "installed {} ({unit}){healthy}",
            host.role
        )))
    }
}
