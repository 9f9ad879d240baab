//! `strato-cloud create|status|destroy|terraform|import-terraform`: machines on AWS, Azure or GCP.
//! A program of its own so that `strato` never compiles the cloud SDKs: `strato cloud …` and
//! `strato config import-terraform` run this one (installer/src/cmd/external.rs). This file parses
//! flags, picks how destroy is confirmed, runs the handlers and renders an error once. With
//! `-o json` the handlers' lines for people go to stderr and stdout gets one JSON document.
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};
use strato_cloud::cmd::{self, Confirm, CreateOptions, ProviderEnv};
use strato_cloud::provider::{Machine, Resource};
use strato_cloud::CloudError;
use strato_text::{Output, OutputArg};

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
    Status(StatusArgs),
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
struct StatusArgs {
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    output: OutputArg,
}

#[derive(Debug, Args)]
struct CreateArgs {
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    output: OutputArg,
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
    #[command(flatten)]
    output: OutputArg,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(short = 'y', long)]
    yes: bool,
}

#[derive(Debug, Args)]
struct TerraformArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Directory to write main.tf, variables.tf, terraform.tfvars and modules/ into.
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
}

#[derive(Debug, Args)]
struct ImportTerraformArgs {
    /// The output of `terraform output -json` for a root module using terraform/modules/*.
    outputs: PathBuf,
    #[command(flatten)]
    config: ConfigArg,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The same rendering and exit codes as `strato`'s own failures (installer/src/exit.rs):
            // a missing --yes is a usage error (2), as for `strato uninstall --purge`.
            eprintln!("error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            match err {
                CloudError::NeedsConfirmation => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn run(command: CloudCommand) -> Result<(), CloudError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let env = ProviderEnv::from_env();
    let mut stdout = std::io::stdout();
    runtime.block_on(async {
        match command {
            CloudCommand::Create(args) => {
                let options = CreateOptions {
                    dry_run: args.dry_run,
                    no_wait: args.no_wait,
                    ssh_deadline: Duration::from_secs(args.ssh_timeout_seconds),
                };
                let report = cmd::create(
                    &args.config.config,
                    &options,
                    &env,
                    &mut *people(args.output),
                )
                .await?;
                json_out(args.output, || {
                    json!({
                        "dry_run": args.dry_run,
                        "created": resources(&report.created),
                        "existing": resources(&report.existing),
                        "machines": machines(&report.machines),
                    })
                });
                Ok(())
            }
            CloudCommand::Status(args) => {
                let found = match args.output.output {
                    Output::Table => cmd::status(&args.config.config, &env, &mut stdout).await?,
                    Output::Json => {
                        cmd::status(&args.config.config, &env, &mut std::io::sink()).await?
                    }
                };
                json_out(args.output, || machines(&found));
                Ok(())
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
                let report = cmd::destroy(
                    &args.config.config,
                    confirm,
                    &env,
                    &mut *people(args.output),
                )
                .await?;
                json_out(args.output, || {
                    json!({
                        "deleted": resources(&report.deleted),
                        "failed": report.failed.iter().map(|(r, why)| {
                            json!({"resource": resource(r), "error": why})
                        }).collect::<Vec<_>>(),
                    })
                });
                Ok(())
            }
            CloudCommand::Terraform(args) => {
                cmd::terraform(&args.config.config, &args.out_dir, &mut stdout)
            }
            CloudCommand::ImportTerraform(args) => {
                cmd::import_terraform(&args.outputs, &args.config.config, &mut stdout).map(drop)
            }
        }
    })
}

/// Where the handlers' lines for people go: stdout for the table format, stderr when stdout
/// carries JSON.
fn people(output: OutputArg) -> Box<dyn std::io::Write> {
    match output.output {
        Output::Table => Box::new(std::io::stdout()),
        Output::Json => Box::new(std::io::stderr()),
    }
}

/// Print `value()` on stdout when the format is JSON.
fn json_out(output: OutputArg, value: impl FnOnce() -> Value) {
    if output.output == Output::Json {
        println!("{}", value());
    }
}

fn machines(machines: &[Machine]) -> Value {
    machines
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "role": m.role.label(),
                "state": m.state.to_string(),
                "id": m.id,
                "public_ip": m.public_ip,
                "private_ip": m.private_ip,
            })
        })
        .collect()
}

fn resource(r: &Resource) -> Value {
    json!({"kind": r.kind.as_str(), "name": r.name, "id": r.id})
}

fn resources(list: &[Resource]) -> Value {
    list.iter().map(resource).collect()
}
