//! `strato init`: ask a few questions (or take flags) and write a commented cluster.yaml.
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;

use crate::wizard::{self, Draft, Key, Mode, PromptError, TermPrompter, WizardError};
use crate::{CliError, Exit};

/// Every answer can come from a flag or its STRATO_INIT_* variable; the wizard asks for the rest.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato init                            # asks, writes ./cluster.yaml
  strato init --yes --name demo --platform aws --region eu-west-1 --admin-cidrs 203.0.113.0/24 \\
    --out aws.yaml")]
pub struct InitArgs {
    /// Where to write the file.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "cluster.yaml",
        env = "STRATO_INIT_OUT"
    )]
    pub out: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Ask nothing: take defaults and fail naming any missing flag (also when stdin is no terminal).
    #[arg(long, short = 'y', visible_alias = "yes")]
    pub non_interactive: bool,
    /// Boxed: seventeen optional strings would make every `Command` this large.
    #[command(flatten)]
    pub answers: Box<Answers>,
}

/// The answers that may come from flags.
#[derive(Debug, Args)]
pub struct Answers {
    /// Cluster name: lower-case letters, digits and `-`.
    #[arg(long, env = "STRATO_INIT_NAME")]
    pub name: Option<String>,
    /// bare-metal (default), aws, azure or gcp.
    #[arg(long, env = "STRATO_INIT_PLATFORM")]
    pub platform: Option<String>,
    /// AWS region.
    #[arg(long, env = "STRATO_INIT_REGION")]
    pub region: Option<String>,
    /// Azure location.
    #[arg(long, env = "STRATO_INIT_LOCATION")]
    pub location: Option<String>,
    /// Azure resource group (default: strato-<name>).
    #[arg(long, env = "STRATO_INIT_RESOURCE_GROUP")]
    pub resource_group: Option<String>,
    /// Google Cloud project id.
    #[arg(long, env = "STRATO_INIT_PROJECT")]
    pub project: Option<String>,
    /// Google Cloud zone.
    #[arg(long, env = "STRATO_INIT_ZONE")]
    pub zone: Option<String>,
    /// Cloud: networks (CIDR, comma-separated) allowed to reach SSH and the dashboard.
    #[arg(long, env = "STRATO_INIT_ADMIN_CIDRS")]
    pub admin_cidrs: Option<String>,
    /// Bootstrap host address, or `local` (default).
    #[arg(long, env = "STRATO_INIT_BOOTSTRAP")]
    pub bootstrap: Option<String>,
    /// Master addresses, comma-separated (cloud: how many).
    #[arg(long, env = "STRATO_INIT_MASTERS")]
    pub masters: Option<String>,
    /// Agent addresses, comma-separated (cloud: how many).
    #[arg(long, env = "STRATO_INIT_AGENTS")]
    pub agents: Option<String>,
    /// Public agent addresses, comma-separated (cloud: how many).
    #[arg(long, env = "STRATO_INIT_PUBLIC_AGENTS")]
    pub public_agents: Option<String>,
    /// SSH login user on the nodes.
    #[arg(long, env = "STRATO_INIT_SSH_USER")]
    pub ssh_user: Option<String>,
    /// SSH port.
    #[arg(long, env = "STRATO_INIT_SSH_PORT")]
    pub ssh_port: Option<String>,
    /// SSH private key file.
    #[arg(long, env = "STRATO_INIT_SSH_KEY")]
    pub ssh_key: Option<String>,
    /// Hardware profile: production (default) or minimal.
    #[arg(long, env = "STRATO_INIT_HARDWARE")]
    pub hardware: Option<String>,
    /// DNS resolvers, IP or IP:PORT, comma-separated.
    #[arg(long, env = "STRATO_INIT_RESOLVERS")]
    pub resolvers: Option<String>,
}

pub fn run(args: InitArgs) -> Result<Exit, CliError> {
    refuse_overwrite(&args.out, args.force)?;
    let mode = if args.non_interactive || !std::io::stdin().is_terminal() {
        Mode::Defaults
    } else {
        Mode::Ask
    };
    let draft = match wizard::collect(&mut TermPrompter, &given(&args.answers), mode) {
        Ok(draft) => draft,
        Err(WizardError::Prompt {
            source: PromptError::Cancelled,
            ..
        }) => {
            eprintln!("cancelled: nothing written");
            return Ok(Exit::Interrupted);
        }
        Err(err @ (WizardError::InvalidFlag { .. } | WizardError::Missing(_))) => {
            return Err(CliError::Usage(err.to_string()))
        }
        Err(err) => return Err(CliError::Other(err.into())),
    };
    let text = wizard::write::render(&draft);
    // The user may have created the file while answering.
    refuse_overwrite(&args.out, args.force)?;
    write_atomic(&args.out, &text)?;
    let checked = strato_config::check_file(&args.out, &strato_config::RealFiles)
        .map_err(|e| CliError::Other(e.into()))?;
    if let Some(problem) = checked.diagnostics.errors().next() {
        return Err(CliError::Other(anyhow!(
            "wrote {}, but it does not validate: {problem}",
            args.out.display()
        )));
    }
    let cloud = checked.cluster.as_ref().is_some_and(|c| c.cloud.is_some());
    let summary = checked.cluster.map(|c| c.summary()).unwrap_or_default();
    let path = args.out.display();
    println!("wrote {path} ({summary})");
    if cloud {
        println!("next: strato cloud create -c {path}, then strato deploy -c {path}");
    } else {
        println!("next: strato validate -c {path}, then strato genconf -c {path} --out-dir serve");
    }
    Ok(Exit::Success)
}

fn refuse_overwrite(path: &Path, force: bool) -> Result<(), CliError> {
    if path.exists() && !force {
        return Err(CliError::Other(anyhow!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    Ok(())
}

fn write_atomic(path: &Path, text: &str) -> Result<(), CliError> {
    strato_atomic_file::write(path, text.as_bytes()).map_err(|source| CliError::Write {
        path: path.to_owned(),
        source,
    })
}

/// The answers given on the command line, by question.
fn given(args: &Answers) -> Draft {
    [
        (Key::Name, &args.name),
        (Key::Platform, &args.platform),
        (Key::Region, &args.region),
        (Key::Location, &args.location),
        (Key::ResourceGroup, &args.resource_group),
        (Key::Project, &args.project),
        (Key::Zone, &args.zone),
        (Key::AdminCidrs, &args.admin_cidrs),
        (Key::Bootstrap, &args.bootstrap),
        (Key::Masters, &args.masters),
        (Key::Agents, &args.agents),
        (Key::PublicAgents, &args.public_agents),
        (Key::SshUser, &args.ssh_user),
        (Key::SshPort, &args.ssh_port),
        (Key::SshKey, &args.ssh_key),
        (Key::Hardware, &args.hardware),
        (Key::Resolvers, &args.resolvers),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
    .collect()
}
