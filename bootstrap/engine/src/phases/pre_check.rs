//! A phase that must pass on every host before anything changes: an upgrade's reads and checks
//! run through this, under their own title, and one failure ends the job (every other host is
//! skipped, nothing is installed).

use async_trait::async_trait;
use strato_api::Role;

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{HostFailure, Outcome, Phase};

pub struct PreCheck {
    title: &'static str,
    inner: Box<dyn Phase>,
}

impl PreCheck {
    pub fn new(title: &'static str, inner: impl Phase + 'static) -> Self {
        PreCheck {
            title,
            inner: Box::new(inner),
        }
    }
}

#[async_trait]
impl Phase for PreCheck {
    fn title(&self) -> &str {
        self.title
    }

    fn roles(&self) -> &[Role] {
        self.inner.roles()
    }

    fn stops_job(&self) -> bool {
        true
    }

    fn should_run(&self, ctx: &JobCtx, host: &HostCtx) -> bool {
        self.inner.should_run(ctx, host)
    }

    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        self.inner.run(ctx, host).await
    }

    async fn dry_run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        self.inner.dry_run(ctx, host).await
    }

    async fn finish(&self, ctx: &JobCtx, hosts: &[&HostCtx]) -> Vec<HostFailure> {
        self.inner.finish(ctx, hosts).await
    }
}
