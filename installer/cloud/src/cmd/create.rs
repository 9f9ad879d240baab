//! `strato cloud create`: plan, create what is missing, wait for SSH, write the hosts.
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::connect::{connect, ProviderEnv};
use crate::error::{CloudError, Result};
use crate::hosts_yaml::{write_hosts, Hosts};
use crate::provider::CreateReport;
use crate::topology::{plan, Role};

#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// Print the plan and touch nothing.
    pub dry_run: bool,
    /// Skip waiting for SSH to answer.
    pub no_wait: bool,
    /// How long to wait for SSH on every machine.
    pub ssh_deadline: Duration,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            dry_run: false,
            no_wait: false,
            ssh_deadline: Duration::from_secs(600),
        }
    }
}

pub async fn create(
    config: &Path,
    options: &CreateOptions,
    env: &ProviderEnv,
    out: &mut dyn Write,
) -> Result<CreateReport> {
    let spec = crate::spec::load(config)?;
    let plan = plan(&spec);
    if options.dry_run {
        writeln!(out, "{plan}")?;
        writeln!(out, "dry run: nothing was created")?;
        return Ok(CreateReport::default());
    }
    let provider = connect(&spec, env).await?;
    let report = provider.create(&plan).await?;
    for r in &report.created {
        writeln!(out, "created  {r}")?;
    }
    writeln!(
        out,
        "{} created, {} already there",
        report.created.len(),
        report.existing.len()
    )?;

    let addresses: Vec<String> = report
        .machines
        .iter()
        .filter_map(|m| m.address().map(str::to_string))
        .collect();
    let silent = if options.no_wait {
        Vec::new()
    } else {
        writeln!(
            out,
            "waiting up to {} s for SSH on {} machines",
            options.ssh_deadline.as_secs(),
            addresses.len()
        )?;
        crate::ssh_wait::wait_for_ssh(&addresses, 22, options.ssh_deadline).await
    };

    let of = |role: Role| {
        report
            .machines
            .iter()
            .filter(|m| m.role == role)
            .filter_map(|m| m.deploy_address().map(str::to_string))
            .collect::<Vec<_>>()
    };
    let hosts = Hosts {
        bootstrap: of(Role::Bootstrap).into_iter().next(),
        masters: of(Role::Master),
        agents: of(Role::Agent),
        public_agents: of(Role::PublicAgent),
    };
    write_hosts(config, &hosts)?;
    writeln!(
        out,
        "wrote {} machine addresses into {}",
        addresses.len(),
        config.display()
    )?;
    if !silent.is_empty() {
        return Err(CloudError::Timeout {
            provider: provider.name(),
            step: format!("wait for SSH on {}", silent.join(", ")),
            seconds: options.ssh_deadline.as_secs(),
        });
    }
    writeln!(out, "next: strato deploy -c {}", config.display())?;
    Ok(report)
}
