//! `strato upgrade`: a new runtime bundle (or a changed cluster.yaml) on a live cluster, through
//! the bootstrap server as a job like deploy (resumable; the same progress and summary). The
//! server checks the cluster first (every node healthy, etcd quorum, agents registered), plans
//! from the versions read on the nodes (skew rules), then upgrades masters one at a time, the
//! leader last, and agents in batches, gating each node and switching one that fails its gate
//! back to its previous version (`bootstrap/engine/src/phases/upgrade_nodes.rs`).
//!
//! On a terminal without `--yes` the plan (a dry run of the same job) is shown first and the
//! operator is asked once.
use std::io::{IsTerminal, Write};

use clap::Args;
use strato_api::JobKind;

use super::job::{self, ClusterArgs, JobArgs, ServerArgs};
use crate::{CliError, Exit};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato bundle && strato upgrade        # the new bundle, node by node
  strato upgrade --dry-run               # the plan: versions and what changes, nothing changed
  strato upgrade --rollback --yes        # every node back to the version it ran before
  strato upgrade --batch 5 -o json       # five agents at a time; events as JSON lines")]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Print the plan (each node's version and what would change) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask before upgrading.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Agents upgraded at once; default: a tenth of them, at least one.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: Option<u32>,
    /// Accept a bundle older than what the nodes run.
    #[arg(long)]
    pub allow_downgrade: bool,
    /// Accept a bundle that skips a minor version.
    #[arg(long)]
    pub allow_skip: bool,
    /// Return every node to the version it ran before this one (kept on each node).
    #[arg(long, conflicts_with_all = ["allow_downgrade", "allow_skip"])]
    pub rollback: bool,
    /// Seconds a node on its new version may take to pass its gate before it is rolled back.
    #[arg(long, value_name = "SECONDS", default_value_t = 45, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub gate_timeout: u64,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub fn run(args: UpgradeArgs) -> Result<Exit, CliError> {
    let request = JobArgs {
        dry_run: args.dry_run,
        upgrade: strato_api::JobOptions {
            allow_downgrade: args.allow_downgrade,
            allow_skip: args.allow_skip,
            batch: args.batch.map_or(0, |n| n as usize),
            rollback: args.rollback,
            gate_timeout_seconds: args.gate_timeout,
            ..strato_api::JobOptions::default()
        },
        ..JobArgs::new(args.cluster, args.server)
    };
    let ask = !args.dry_run
        && !args.yes
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    if ask {
        let plan = JobArgs {
            dry_run: true,
            ..request.clone()
        };
        let planned = job::run(JobKind::Upgrade, &plan, false)?;
        if planned != Exit::Success {
            return Ok(planned);
        }
        eprint!("Upgrade the cluster as planned above? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| CliError::Other(e.into()))?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("not confirmed; nothing was changed");
            return Ok(Exit::Failure);
        }
    }
    job::run(JobKind::Upgrade, &request, false)
}
