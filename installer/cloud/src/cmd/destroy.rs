//! `strato cloud destroy`: show what will go, ask, delete, report what is left.
use std::io::{BufRead, Write};
use std::path::Path;

use super::connect::{connect, ProviderEnv};
use crate::error::{CloudError, Result};
use crate::provider::DestroyReport;
use crate::topology::plan;

/// How the operator agrees to the deletion.
pub enum Confirm<'a> {
    /// `--yes`.
    Yes,
    /// Ask on a terminal: they type the cluster name.
    Ask(&'a mut dyn BufRead),
    /// No terminal and no `--yes`: refuse.
    NoTerminal,
}

pub async fn destroy(
    config: &Path,
    confirm: Confirm<'_>,
    env: &ProviderEnv,
    out: &mut dyn Write,
) -> Result<DestroyReport> {
    let spec = crate::spec::load(config)?;
    let plan = plan(&spec);
    if matches!(confirm, Confirm::NoTerminal) {
        return Err(CloudError::NeedsConfirmation);
    }
    let provider = connect(&spec, env).await?;
    if let Confirm::Ask(input) = confirm {
        let machines = provider.status(&plan).await?;
        writeln!(out, "This deletes every {} resource tagged strato-cluster-id={} (cluster {}), including {} machines:", provider.name(), spec.cluster_id, spec.cluster_name, machines.len())?;
        for m in &machines {
            writeln!(
                out,
                "  {} ({}, {})",
                m.name,
                m.role,
                m.address().unwrap_or("-")
            )?;
        }
        write!(
            out,
            "Type the cluster name ({}) to confirm: ",
            spec.cluster_name
        )?;
        out.flush()?;
        let mut answer = String::new();
        input.read_line(&mut answer)?;
        if answer.trim() != spec.cluster_name {
            writeln!(out, "not confirmed; nothing was deleted")?;
            return Ok(DestroyReport::default());
        }
    }
    let report = provider.destroy(&plan).await?;
    for r in &report.deleted {
        writeln!(out, "deleted  {r}")?;
    }
    for (r, why) in &report.failed {
        writeln!(out, "FAILED   {r}: {why}")?;
    }
    if report.failed.is_empty() {
        writeln!(
            out,
            "{} resources deleted; nothing tagged with cluster id {} is left",
            report.deleted.len(),
            spec.cluster_id
        )?;
        Ok(report)
    } else {
        Err(CloudError::api(
            provider.name(),
            "destroy",
            format!(
                "{} resources could not be deleted (listed above); re-run `strato cloud destroy`",
                report.failed.len()
            ),
        ))
    }
}
