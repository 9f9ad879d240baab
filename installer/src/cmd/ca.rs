//! `strato ca rotate`: replace the cluster CA in three rolling upgrades, so that no two members
//! ever stop trusting each other and no task is stopped (`strato_tls::rotation` has the steps).
//! Each step changes the PKI beside cluster.yaml, then runs an upgrade job: planned and gated
//! like any upgrade (pre-checks, masters one at a time with the leader last, agents in batches,
//! each node healthy before the next; the nodes stay on their version). A failed step stops the
//! rotation, and the next `strato ca rotate` re-runs that step before going on.
use clap::{Args, Subcommand};
use strato_api::JobKind;
use strato_tls::rotation::{self, RotationStep};

use super::job::{self, ClusterArgs, JobArgs, ServerArgs};
use crate::{CliError, Exit};

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Replace the cluster CA: new CA trusted everywhere, then new certificates everywhere, then
    /// the old CA dropped; a rolling upgrade after each step. Resumes an interrupted rotation.
    #[command(after_help = "\
Examples:
  strato ca rotate                       # all three steps, a rolling upgrade after each
  strato ca rotate --bundle FILE         # the bundle the nodes run (default: runtime.bundle)")]
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub fn run(command: CaCommand) -> Result<Exit, CliError> {
    let CaCommand::Rotate(args) = command;
    let loaded = job::load(&args.cluster.config)?;
    let name = loaded.cluster.cluster_name.clone();
    crate::pki::ensure(&loaded.base, &name)?;
    let dir = crate::pki::pki_dir(&loaded.base);
    let job = JobArgs::new(args.cluster, args.server);
    // `Some(exit)` when the upgrade did not reach every node: the rotation stops there.
    let upgrade = |step: RotationStep| -> Result<Option<Exit>, CliError> {
        let stopped = |exit: Option<Exit>| {
            eprintln!(
                "==> CA rotation stopped at step {}/3: its upgrade did not reach every node. Fix \
                 what it reported, then run `strato ca rotate` again: it re-runs this step's \
                 upgrade and goes on.",
                step.number()
            );
            exit
        };
        match job::run(JobKind::Upgrade, &job, false) {
            Ok(Exit::Success) => Ok(None),
            Ok(exit) => Ok(stopped(Some(exit))),
            Err(e) => {
                stopped(None);
                Err(e)
            }
        }
    };

    let last = rotation::last_step(&dir).map_err(crate::pki::pki_error)?;
    if let Some(step) = last {
        eprintln!(
            "==> resuming a CA rotation: upgrading step {}/3 again ({})",
            step.number(),
            step.describe()
        );
        if let Some(exit) = upgrade(step)? {
            return Ok(exit);
        }
    }
    for step in rotation::remaining_steps(last) {
        eprintln!(
            "==> CA rotation step {}/3: {}",
            step.number(),
            step.describe()
        );
        rotation::apply_step(&dir, &name, step).map_err(crate::pki::pki_error)?;
        if step == RotationStep::Switch {
            // The CLI speaks to the masters and the bootstrap server as the operator: its
            // certificate must come from the CA that issues from now on.
            crate::pki::reissue_operator(&loaded.base, &name)?;
        }
        if let Some(exit) = upgrade(step)? {
            return Ok(exit);
        }
    }
    rotation::finish(&dir).map_err(crate::pki::pki_error)?;
    eprintln!(
        "==> the cluster CA is rotated: every node trusts and holds certificates of the new CA only ({})",
        dir.join(strato_tls::CA_CERT).display()
    );
    Ok(Exit::Success)
}
