//! Uninstall agents / Uninstall masters: run the serve tree's `uninstall.sh` (stops and removes
//! Strato's units and files, keeps `/var/lib/strato` unless `--purge`). A node with nothing of
//! Strato left is reported "not installed" and not touched.

use async_trait::async_trait;
use strato_api::Role;
use strato_host::{Change, ExecOptions};

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{Outcome, Phase};

/// Outside /opt/strato, which the script removes, and in a directory only root may write: a fixed
/// name in world-writable /var/tmp could be planted by another user (docs/security.md, L-3).
const STAGED_UNINSTALL: &str = "/var/lib/strato-uninstall.sh";

pub struct UninstallNodes {
    title: &'static str,
    roles: &'static [Role],
}

impl UninstallNodes {
    pub fn new(title: &'static str, roles: &'static [Role]) -> Self {
        UninstallNodes { title, roles }
    }
}

#[async_trait]
impl Phase for UninstallNodes {
    fn title(&self) -> &str {
        self.title
    }

    fn roles(&self) -> &[Role] {
        self.roles
    }

    fn journaled(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let name = host.name().to_string();
        let h = host.host()?;
        let purge = ctx.options.purge;
        let probe = format!(
            "for p in /opt/strato /etc/systemd/system/strato-master.service \
             /etc/systemd/system/strato-agent.service{}; do [ -e \"$p\" ] && echo \"$p\"; done; true",
            if purge { " /var/lib/strato" } else { "" }
        );
        let present = h.read(&probe, ExecOptions::sudo()).await?.stdout_text();
        if present.trim().is_empty() {
            return Ok(Outcome::unchanged("not installed: nothing to remove"));
        }
        let script = ctx
            .serve
            .read("uninstall.sh")
            .map_err(|e| PhaseError::failed(&name, e.to_string()))?;
        h.apply_ok(Change::upload_sudo(script, STAGED_UNINSTALL, 0o700))
            .await?;
        let command = format!(
            "sh {STAGED_UNINSTALL}{}; rc=$?; rm -f {STAGED_UNINSTALL}; exit $rc",
            if purge { " --purge" } else { "" }
        );
        h.apply_ok(Change::exec_sudo(command)).await?;
        let removed: Vec<&str> = present.lines().collect();
        Ok(Outcome::changed(format!("removed {}", removed.join(", "))))
    }
}
