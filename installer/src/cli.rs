//! clap definitions only. Each subcommand's arguments live beside its handler in `cmd/<name>.rs`.
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::cmd;

/// `strato --version`: the package version, the commit and the build date (see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("STRATO_COMMIT"),
    " ",
    env!("STRATO_BUILD_DATE"),
    ")"
);

/// The exit-code table of `exit.rs`, shown at the end of `strato --help` (and in the README).
pub const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    the operation failed, or the input is invalid (validate)
  2    usage error: bad flags, a missing file, no --yes where a confirmation is needed
  3    preflight failed on at least one host
  4    partial failure: some hosts done, re-run to resume
  5    busy: another job runs on the bootstrap server; nothing was changed
  130  interrupted (Ctrl-C)";

/// Install, run and upgrade a Strato cluster from one `cluster.yaml`.
#[derive(Debug, Parser)]
#[command(
    name = "strato",
    version = VERSION,
    propagate_version = true,
    after_long_help = EXIT_CODES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// More log output on stderr (-v: debug, -vv: trace). `RUST_LOG` overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr: no warnings, no live progress.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Where to write the full debug log of this run (appended); default: strato.log in the
    /// user's cache dir (e.g. ~/.cache/strato/strato.log). Its path is printed on failure.
    #[arg(long, global = true, value_name = "FILE", env = "STRATO_LOG_FILE")]
    pub log_file: Option<PathBuf>,
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
    /// A new runtime bundle or cluster.yaml on a live cluster: node by node, each gated and rolled back if it fails.
    Upgrade(cmd::upgrade::UpgradeArgs),
    /// Show the bootstrap server's latest job, host by host.
    Status(cmd::status::StatusArgs),
    /// Save the cluster's state (apps, versions, deployments, tasks) to a checksummed file.
    Backup(cmd::backup::BackupArgs),
    /// Put a `strato backup` file back: apps, versions and deployments return; running tasks are adopted.
    Restore(cmd::backup::RestoreArgs),
    /// The cluster CA: rotate it with rolling deploys that keep every task running.
    #[command(subcommand)]
    Ca(cmd::ca::CaCommand),
    /// Print an argon2 hash of a password for cluster.yaml's `gateway.users`.
    Passwd(cmd::passwd::PasswdArgs),
    /// Log in to the cluster's gateway (HTTPS on the masters) and keep the token for later commands.
    Login(cmd::login::LoginArgs),
    /// Gateway tokens: revoke one before it expires, or every token of a user.
    #[command(subcommand)]
    Token(cmd::token::TokenCommand),
    /// Tasks of the cluster's apps: list them, print or follow their output.
    #[command(subcommand)]
    Task(cmd::task::TaskCommand),
    /// Machines on AWS, Azure or GCP for cluster.yaml's `cloud:` section: create, status, destroy, terraform.
    /// Runs the separate strato-cloud program (`strato cloud --help` lists its commands).
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Cloud(cmd::external::ExternalArgs),
    /// Print a shell completion script (e.g. `strato completion bash > /etc/bash_completion.d/strato`).
    Completion(cmd::completion::CompletionArgs),
    /// Write one man page per command into a directory (docs/man in the repository).
    #[command(hide = true)]
    GenerateMan(cmd::man::GenerateManArgs),
}

impl Command {
    /// Commands that only print text about the CLI itself write no log file.
    pub fn writes_log(&self) -> bool {
        !matches!(self, Command::Completion(_) | Command::GenerateMan(_))
    }

    /// Commands whose exit 1 is a verdict on the input, every reason already printed (an
    /// invalid cluster.yaml, a DC/OS config DC/OS would reject): the log has nothing to add.
    pub fn exit_1_is_a_verdict(&self) -> bool {
        matches!(self, Command::Validate(_) | Command::Config(_))
    }
}
