//! `strato cloud status`: the cluster's machines and their state.
use std::io::Write;
use std::path::Path;

use super::connect::{connect, ProviderEnv};
use crate::error::Result;
use crate::provider::Machine;
use crate::topology::plan;

pub async fn status(config: &Path, env: &ProviderEnv, out: &mut dyn Write) -> Result<Vec<Machine>> {
    let spec = crate::spec::load(config)?;
    let plan = plan(&spec);
    let provider = connect(&spec, env).await?;
    let machines = provider.status(&plan).await?;
    if machines.is_empty() {
        writeln!(
            out,
            "no machines of cluster {} (id {}) on {}",
            spec.cluster_name,
            spec.cluster_id,
            provider.name()
        )?;
        return Ok(machines);
    }
    let rows: Vec<Vec<String>> = machines
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.role.label().to_string(),
                m.state.to_string(),
                m.public_ip.clone().unwrap_or_else(|| "-".into()),
                m.private_ip.clone().unwrap_or_else(|| "-".into()),
                m.id.clone(),
            ]
        })
        .collect();
    let header = ["NAME", "ROLE", "STATE", "PUBLIC", "PRIVATE", "ID"];
    write!(out, "{}", strato_text::table(&header, &rows))?;
    let planned = plan.machines.len();
    if machines.len() != planned {
        writeln!(
            out,
            "{} of {} planned machines exist; `strato cloud create` makes the rest",
            machines.len(),
            planned
        )?;
    }
    Ok(machines)
}
