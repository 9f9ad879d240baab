//! `strato cloud terraform` and `strato config import-terraform`.
use std::io::Write;
use std::path::Path;

use crate::error::{CloudError, Result};
use crate::hosts_yaml::{write_hosts, Hosts};

/// Write a Terraform root module for `config`'s cloud section into `dir`.
pub fn terraform(config: &Path, dir: &Path, out: &mut dyn Write) -> Result<()> {
    let spec = crate::spec::load(config)?;
    let files = crate::terraform::write_root(&spec, dir)?;
    for f in &files {
        writeln!(out, "wrote {}", f.display())?;
    }
    writeln!(
        out,
        "next: cd {} && terraform init && terraform apply && terraform output -json > outputs.json",
        dir.display()
    )?;
    writeln!(
        out,
        "then: strato config import-terraform outputs.json -c {}",
        config.display()
    )?;
    Ok(())
}

/// Fill the hosts of `config` from a `terraform output -json` file.
pub fn import_terraform(outputs: &Path, config: &Path, out: &mut dyn Write) -> Result<Hosts> {
    let json = std::fs::read_to_string(outputs).map_err(|source| CloudError::Read {
        path: outputs.to_path_buf(),
        source,
    })?;
    let hosts = crate::terraform::hosts_from_outputs(&json, outputs)?;
    write_hosts(config, &hosts)?;
    let n = hosts.masters.len()
        + hosts.agents.len()
        + hosts.public_agents.len()
        + usize::from(hosts.bootstrap.is_some());
    writeln!(
        out,
        "wrote {n} machine addresses from {} into {}",
        outputs.display(),
        config.display()
    )?;
    Ok(hosts)
}
