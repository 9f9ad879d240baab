//! `strato uninstall`: stop and remove Strato's units and files on every node (agents first),
//! keeping `/var/lib/strato` unless `--purge`; `--purge` asks for the cluster name first.
use std::io::IsTerminal;

use clap::Args;
use strato_api::JobKind;

use super::job::{self, ClusterArgs, JobArgs, ServerArgs};
use crate::ui::confirm::{Confirm, Confirmed};
use crate::{CliError, Exit};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato uninstall                       # data in /var/lib/strato stays
  strato uninstall --purge               # asks for the cluster name first
  strato uninstall --purge --yes         # in scripts")]
pub struct UninstallArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Also remove the nodes' data (/var/lib/strato): apps and state are lost. Asks for the
    /// cluster name unless --yes.
    #[arg(long)]
    pub purge: bool,
    /// Do not ask for confirmation (needed for --purge when stdin is not a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// List what would change on each host and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub fn run(args: UninstallArgs) -> Result<Exit, CliError> {
    let request = JobArgs {
        dry_run: args.dry_run,
        ..JobArgs::new(args.cluster, args.server)
    };
    if args.purge && !args.dry_run {
        let loaded = job::load(&request.config)?;
        let c = &loaded.cluster;
        let hosts: Vec<&str> = c
            .masters
            .iter()
            .chain(&c.agents)
            .chain(&c.public_agents)
            .map(|h| h.address.as_str())
            .collect();
        let what = format!(
            "This removes Strato and deletes /var/lib/strato (apps and state) on the {} hosts of \
             cluster {}: {}\n",
            hosts.len(),
            c.cluster_name,
            hosts.join(", ")
        );
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut prompt = std::io::stderr();
        let confirm = if args.yes {
            Confirm::Yes
        } else if std::io::stdin().is_terminal() {
            Confirm::Ask {
                input: &mut input,
                prompt: &mut prompt,
            }
        } else {
            Confirm::NoTerminal
        };
        match confirm.ask(&what, &c.cluster_name) {
            Ok(Confirmed::Yes) => {}
            Ok(Confirmed::No) => {
                eprintln!("not confirmed; nothing was removed");
                return Ok(Exit::Failure);
            }
            Ok(Confirmed::Refused) => {
                return Err(CliError::Usage(
                    "refusing to purge without confirmation: stdin is not a terminal; pass --yes"
                        .into(),
                ))
            }
            Err(e) => return Err(CliError::Other(e.into())),
        }
    }
    job::run(JobKind::Uninstall, &request, args.purge)
}
