//! clap definitions only. Each subcommand's arguments live beside its handler in `cmd/<name>.rs`.
use clap::{Args, Parser, Subcommand};

use crate::cmd;

/// Install, run and upgrade a Strato cluster from one `cluster.yaml`.
#[derive(Debug, Parser)]
#[command(name = "strato", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (-v: debug, -vv: trace). `RUST_LOG` overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented cluster.yaml by asking a few questions (or from flags, for scripts).
    Init(cmd::init::InitArgs),
    /// Check cluster.yaml and report every problem with its file, line and key.
    Validate(cmd::validate::ValidateArgs),
    /// Work with the cluster.yaml format: JSON Schema, import from DC/OS.
    #[command(subcommand)]
    Config(cmd::config::ConfigCommand),
    /// Render the bootstrap serve tree (install scripts, units, configs, manifest) from cluster.yaml.
    Genconf(cmd::genconf::GenconfArgs),
    /// Run a one-node cluster on this machine: master, agent, Marathon API, DNS and dashboard.
    Up(cmd::up::UpArgs),
    /// Build the node binaries and pack them into the versioned runtime bundle deploy installs.
    Bundle(cmd::bundle::BundleArgs),
    /// Check every node's hardware and OS against its role; changes nothing.
    Preflight(cmd::preflight::PreflightArgs),
    /// Install the cluster over SSH: masters first, then agents; re-runs change only what differs.
    Deploy(cmd::deploy::DeployArgs),
    /// Check that every node and the cluster are healthy.
    Postflight(cmd::postflight::PostflightArgs),
    /// Remove Strato from every node (data kept unless --purge).
    Uninstall(cmd::uninstall::UninstallArgs),
    /// Show the bootstrap server's latest job, host by host.
    Status(cmd::status::StatusArgs),
    /// Machines on AWS, Azure or GCP for cluster.yaml's `cloud:` section: create, status, destroy, terraform.
    /// Runs the separate strato-cloud program (`strato cloud --help` lists its commands).
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Cloud(cmd::external::ExternalArgs),
}
