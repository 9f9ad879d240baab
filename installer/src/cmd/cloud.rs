//! `strato cloud create|status|destroy|terraform`: machines on AWS, Azure or GCP. The handlers are
//! in `strato-cloud`; this file parses flags, picks how destroy is confirmed, and runs them.
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use strato_cloud::cmd::{self, Confirm, CreateOptions, ProviderEnv};

use crate::{CliError, Exit};

#[derive(Debug, Subcommand)]
pub enum CloudCommand {
    /// Create the network, firewall, SSH key and machines of cluster.yaml's `cloud:` section, wait
    /// for SSH, and write their addresses into cluster.yaml (re-running makes only what is missing).
    Create(CreateArgs),
    /// List the cluster's machines and their state.
    Status(ConfigArg),
    /// Delete everything tagged with the cluster's id, machines first.
    Destroy(DestroyArgs),
    /// Write a Terraform root module and terraform.tfvars for the same machines.
    Terraform(TerraformArgs),
}

#[derive(Debug, Args)]
pub struct ConfigArg {
    /// The cluster description.
    #[arg(
        short = 'c',
        long = "config",
        env = "STRATO_CONFIG",
        default_value = "cluster.yaml"
    )]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Print what would be created and touch nothing (needs no credentials).
    #[arg(long)]
    pub dry_run: bool,
    /// Do not wait for SSH to answer on the machines.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for SSH on every machine.
    #[arg(long, default_value_t = 600)]
    pub ssh_timeout_seconds: u64,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct TerraformArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Directory to write main.tf, variables.tf, terraform.tfvars and modules/ into.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

pub fn run(command: CloudCommand) -> Result<Exit, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)?;
    let env = ProviderEnv::from_env();
    let mut stdout = std::io::stdout();
    let result = runtime.block_on(async {
        match command {
            CloudCommand::Create(args) => {
                let options = CreateOptions {
                    dry_run: args.dry_run,
                    no_wait: args.no_wait,
                    ssh_deadline: Duration::from_secs(args.ssh_timeout_seconds),
                };
                cmd::create(&args.config.config, &options, &env, &mut stdout)
                    .await
                    .map(drop)
            }
            CloudCommand::Status(args) => {
                cmd::status(&args.config, &env, &mut stdout).await.map(drop)
            }
            CloudCommand::Destroy(args) => {
                let stdin = std::io::stdin();
                let mut input = stdin.lock();
                let confirm = if args.yes {
                    Confirm::Yes
                } else if std::io::stdin().is_terminal() {
                    Confirm::Ask(&mut input)
                } else {
                    Confirm::NoTerminal
                };
                cmd::destroy(&args.config.config, confirm, &env, &mut stdout)
                    .await
                    .map(drop)
            }
            CloudCommand::Terraform(args) => {
                cmd::terraform(&args.config.config, &args.out, &mut stdout)
            }
        }
    });
    result
        .map(|()| Exit::Success)
        .map_err(|e| CliError::Other(anyhow::Error::new(e)))
}

#[derive(Debug, Args)]
pub struct ImportTerraformArgs {
    /// The output of `terraform output -json` for a root module using terraform/modules/*.
    pub outputs: PathBuf,
    #[command(flatten)]
    pub config: ConfigArg,
}

/// `strato config import-terraform`: write the machines' addresses into cluster.yaml.
pub fn import_terraform(args: ImportTerraformArgs) -> Result<Exit, CliError> {
    cmd::import_terraform(&args.outputs, &args.config.config, &mut std::io::stdout())
        .map(|_| Exit::Success)
        .map_err(|e| CliError::Other(anyhow::Error::new(e)))
}
