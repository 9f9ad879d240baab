//! Connect to hosts: one transport per host through the job's [`Connector`](crate::Connector),
//! wrapped in a [`Host`] in the job's dry-run mode (the change choke point).

use async_trait::async_trait;
use strato_host::Host;

use crate::connector::ConnectSpec;
use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{Outcome, Phase};

pub struct Connect;

#[async_trait]
impl Phase for Connect {
    fn title(&self) -> &str {
        "Connect to hosts"
    }

    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let spec = ConnectSpec {
            ssh: ctx.cluster.ssh.for_host(&host.node),
            base_dir: ctx.base_dir.clone(),
            deadline: ctx.deadline,
        };
        let transport = ctx.connector.connect(&spec).await?;
        let address = transport.address();
        host.host = Some(Host::new(host.name(), transport).with_dry_run(ctx.dry_run()));
        Ok(Outcome::unchanged(format!("connected to {address}")))
    }
}
