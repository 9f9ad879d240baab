//! Detect host operating systems: `/etc/os-release` into the registry of per-distro modules;
//! anything unsupported is refused by name.

use async_trait::async_trait;
use strato_host::{os, OsRelease};

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{Outcome, Phase};

pub struct DetectOs;

#[async_trait]
impl Phase for DetectOs {
    fn title(&self) -> &str {
        "Detect host operating systems"
    }

    async fn run(&self, _ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let h = host.host()?;
        let text = h
            .read_ok("cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release")
            .await?;
        let release = OsRelease::parse(&text)
            .map_err(|e| PhaseError::failed(host.name(), format!("/etc/os-release: {e}")))?;
        let module =
            os::detect(&release).map_err(|e| PhaseError::failed(host.name(), e.to_string()))?;
        let message = format!("{} ({})", release.pretty_name, module.id());
        host.os = Some(module);
        Ok(Outcome::unchanged(message))
    }
}
