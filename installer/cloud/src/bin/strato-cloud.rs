//! `strato-cloud create|status|destroy|terraform|import-terraform`: machines on AWS, Azure or GCP.
//! A program of its own so that `strato` never compiles the cloud SDKs: `strato cloud …` and
//! `strato config import-terraform` run this one (installer/src/cmd/external.rs). This file parses
//! flags, picks how destroy is confirmed, runs the handlers and renders an error once.
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use strato_cloud::cmd::{self, Confirm, CreateOptions, ProviderEnv};
use strato_cloud::CloudError;

/// Machines on AWS, Azure or GCP for cluster.yaml's `cloud:` section (run as `strato cloud …`).
#[derive(Debug, Parser)]
#[command(name = "strato cloud", bin_name = "strato cloud", version)]
struct Cli {
    #[command(subcommand)]
    command: CloudCommand,
}

#[derive(Debug, Subcommand)]
enum CloudCommand {
    /// Create the network, firewall, SSH key and machines of cluster.yaml's `cloud:` section, wait
    /// for SSH, and write their addresses into cluster.yaml (re-running makes only what is missing).
    Create(CreateArgs),
    /// List the cluster's machines and their state.
    Status(ConfigArg),
    /// Delete everything tagged with the cluster's id, machines first.
    Destroy(DestroyArgs),
    /// Write a Terraform root module and terraform.tfvars for the same machines.
    Terraform(TerraformArgs),
    /// Fill the hosts of cluster.yaml from `terraform output -json` of the Strato Terraform modules
    /// (run as `strato config import-terraform`).
    ImportTerraform(ImportTerraformArgs),
}

#[derive(Debug, Args)]
struct ConfigArg {
    /// The cluster description.
    #[arg(
        short = 'c',
        long = "config",
        env = "STRATO_CONFIG",
        default_value = "cluster.yaml"
    )]
    config: PathBuf,
}

#[derive(Debug, Args)]
struct CreateArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Print what would be created and touch nothing (needs no credentials).
    #[arg(long)]
    dry_run: bool,
    /// Do not wait for SSH to answer on the machines.
    #[arg(long)]
    no_wait: bool,
    /// How long to wait for SSH on every machine.
    #[arg(long, default_value_t = 600)]
    ssh_timeout_seconds: u64,
}

#[derive(Debug, Args)]
struct DestroyArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(short = 'y', long)]
    yes: bool,
}

#[derive(Debug, Args)]
struct TerraformArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Directory to write main.tf, variables.tf, terraform.tfvars and modules/ into.
    #[arg(short = 'o', long = "out")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The same rendering and exit code as `strato`'s own failures (installer/src/report.rs).
            eprintln!("error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn run(command: CloudCommand) -> Result<(), CloudError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
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
            CloudCommand::ImportTerraform(args) => {
                cmd::import_terraform(&args.outputs, &args.config.config, &mut stdout).map(drop)
            }
        }
    });
    result
}

#[derive(Debug, Args)]
struct ImportTerraformArgs {
    /// The output of `terraform output -json` for a root module using terraform/modules/*.
    outputs: PathBuf,
    #[command(flatten)]
    config: ConfigArg,
}
