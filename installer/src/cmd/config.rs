//! `strato config schema|import-dcos`.
use std::path::PathBuf;

use clap::{Args, Subcommand};
use strato_config::{dcos, RealFiles};

use crate::{report, CliError, Exit};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the JSON Schema of cluster.yaml (for editors: see the README).
    Schema,
    /// Convert a DC/OS 1.x genconf/config.yaml into cluster.yaml, checking it as DC/OS 1.13 would.
    ImportDcos(ImportDcosArgs),
    /// Fill the hosts of cluster.yaml from `terraform output -json` of the Strato Terraform modules.
    /// Runs the separate strato-cloud program (`strato config import-terraform --help`).
    #[command(disable_help_flag = true, disable_version_flag = true)]
    ImportTerraform(crate::cmd::external::ExternalArgs),
}

#[derive(Debug, Args)]
pub struct ImportDcosArgs {
    /// The DC/OS config.yaml (usually genconf/config.yaml). Relative paths inside it resolve
    /// against the current directory, as in DC/OS.
    pub path: PathBuf,
    /// Where to write cluster.yaml (the ip-detect script, if any, goes next to it).
    #[arg(long, value_name = "FILE", default_value = "cluster.yaml")]
    pub out: PathBuf,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(command: ConfigCommand) -> Result<Exit, CliError> {
    match command {
        ConfigCommand::Schema => {
            let schema = strato_config::schema::json_schema();
            let text = serde_json::to_string_pretty(&schema).map_err(anyhow::Error::from)?;
            println!("{text}");
            Ok(Exit::Success)
        }
        ConfigCommand::ImportDcos(args) => import_dcos(args),
        ConfigCommand::ImportTerraform(args) => {
            crate::cmd::external::run_cloud(&["import-terraform"], args)
        }
    }
}

/// Exit 0 when converted (warnings on stderr), 1 when DC/OS would reject the config or Strato
/// cannot use it, 2 when the output exists and `--force` is missing.
fn import_dcos(args: ImportDcosArgs) -> Result<Exit, CliError> {
    let text = std::fs::read_to_string(&args.path).map_err(|source| CliError::Read {
        path: args.path.clone(),
        source,
    })?;
    let cwd = std::env::current_dir().map_err(|source| CliError::Read {
        path: PathBuf::from("."),
        source,
    })?;
    let name = args.path.display().to_string();
    let import = dcos::import(&text, &name, &cwd, &RealFiles);
    report::print_diagnostics(&import.diagnostics);
    let Some(cluster) = import.cluster else {
        eprintln!("{name} was not converted");
        return Ok(Exit::Failure);
    };
    let script_target = args.out.with_file_name(dcos::IP_DETECT_NAME);
    for target in
        std::iter::once(&args.out).chain(import.ip_detect_script.as_ref().map(|_| &script_target))
    {
        if target.exists() && !args.force {
            return Err(CliError::Usage(format!(
                "{} exists; pass --force to overwrite it",
                target.display()
            )));
        }
    }
    if let Some(script) = &import.ip_detect_script {
        strato_atomic_file::copy(script, &script_target, 0o755).map_err(|source| {
            CliError::Write {
                path: script_target.clone(),
                source,
            }
        })?;
    }
    strato_atomic_file::write(&args.out, dcos::render(&cluster, &name).as_bytes()).map_err(
        |source| CliError::Write {
            path: args.out.clone(),
            source,
        },
    )?;
    println!(
        "wrote {} ({}); check it with `strato validate -c {}`",
        args.out.display(),
        cluster.summary(),
        args.out.display()
    );
    Ok(Exit::Success)
}
