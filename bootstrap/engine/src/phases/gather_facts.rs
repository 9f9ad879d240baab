//! Gather host facts: one read-only script per host (CPU, memory incl. cgroup limit, disk,
//! kernel, systemd, binaries, ports, clock, addresses, ip-detect output).

use async_trait::async_trait;
use strato_host::preflight::REQUIRED_BINARIES;
use strato_host::GatherSpec;

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{Outcome, Phase};

/// Where the runtime keeps its state (docs/runtime-contract.md §Paths); free disk is measured there.
pub const DATA_DIR: &str = "/var/lib/strato";

pub struct GatherFacts;

#[async_trait]
impl Phase for GatherFacts {
    fn title(&self) -> &str {
        "Gather host facts"
    }

    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let spec = GatherSpec {
            data_dir: DATA_DIR.to_string(),
            binaries: REQUIRED_BINARIES.iter().map(|s| s.to_string()).collect(),
            // The same ip-detect the nodes will run, from the serve tree.
            ip_detect: ctx
                .serve
                .read("ip-detect")
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
        };
        let facts = host.host()?.gather_facts(&spec).await?;
        let message = format!(
            "{} CPUs, {} MiB memory",
            facts.cpus.map_or("?".into(), |c| c.to_string()),
            facts
                .memory
                .effective_mib()
                .map_or("?".into(), |m| m.to_string()),
        );
        host.facts = Some(facts);
        Ok(Outcome::unchanged(message))
    }
}
