//! Terraform for teams that keep infrastructure there: writing a root module plus
//! `terraform.tfvars` from `cluster.yaml` (the modules under `terraform/modules` are embedded, so
//! the output directory is self-contained), and reading `terraform output -json` back into hosts.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{CloudError, Result};
use crate::hosts_yaml::Hosts;
use crate::spec::{ClusterSpec, Location, ProviderKind};

/// The module files, embedded at build time: (provider, file name, contents).
pub const MODULE_FILES: &[(ProviderKind, &str, &str)] = &[
    (
        ProviderKind::Aws,
        "main.tf",
        include_str!("../../../terraform/modules/aws/main.tf"),
    ),
    (
        ProviderKind::Aws,
        "variables.tf",
        include_str!("../../../terraform/modules/aws/variables.tf"),
    ),
    (
        ProviderKind::Aws,
        "outputs.tf",
        include_str!("../../../terraform/modules/aws/outputs.tf"),
    ),
    (
        ProviderKind::Aws,
        "versions.tf",
        include_str!("../../../terraform/modules/aws/versions.tf"),
    ),
    (
        ProviderKind::Azure,
        "main.tf",
        include_str!("../../../terraform/modules/azure/main.tf"),
    ),
    (
        ProviderKind::Azure,
        "variables.tf",
        include_str!("../../../terraform/modules/azure/variables.tf"),
    ),
    (
        ProviderKind::Azure,
        "outputs.tf",
        include_str!("../../../terraform/modules/azure/outputs.tf"),
    ),
    (
        ProviderKind::Azure,
        "versions.tf",
        include_str!("../../../terraform/modules/azure/versions.tf"),
    ),
    (
        ProviderKind::Gcp,
        "main.tf",
        include_str!("../../../terraform/modules/gcp/main.tf"),
    ),
    (
        ProviderKind::Gcp,
        "variables.tf",
        include_str!("../../../terraform/modules/gcp/variables.tf"),
    ),
    (
        ProviderKind::Gcp,
        "outputs.tf",
        include_str!("../../../terraform/modules/gcp/outputs.tf"),
    ),
    (
        ProviderKind::Gcp,
        "versions.tf",
        include_str!("../../../terraform/modules/gcp/versions.tf"),
    ),
];

/// Variables every module declares, in declaration order.
pub const MODULE_VARIABLES: &[&str] = &[
    "cluster_name",
    "cluster_id",
    "location",
    "resource_group",
    "num_masters",
    "num_agents",
    "num_public_agents",
    "bootstrap_instance_type",
    "master_instance_type",
    "agent_instance_type",
    "public_agent_instance_type",
    "os",
    "image",
    "ssh_user",
    "ssh_public_key",
    "admin_cidrs",
    "network_cidr",
    "bootstrap_disk_gib",
    "master_disk_gib",
    "agent_disk_gib",
    "public_agent_disk_gib",
];

/// Outputs every module declares.
pub const MODULE_OUTPUTS: &[&str] = &[
    "bootstrap_public_ip",
    "bootstrap_private_ip",
    "master_public_ips",
    "master_private_ips",
    "agent_public_ips",
    "agent_private_ips",
    "public_agent_public_ips",
    "public_agent_private_ips",
];

/// Root-module variables that configure the provider itself.
fn provider_variables(provider: ProviderKind) -> &'static [(&'static str, &'static str)] {
    match provider {
        ProviderKind::Aws => &[("region", "AWS region.")],
        ProviderKind::Azure => &[],
        ProviderKind::Gcp => &[("project", "GCP project id.")],
    }
}

/// `main.tf` of a root module that calls the Strato module at `source`.
pub fn root_main(provider: ProviderKind, source: &str) -> String {
    let mut s = String::from(
        "# Root module written by `strato cloud terraform`. Values are in terraform.tfvars.\n\n",
    );
    match provider {
        ProviderKind::Aws => s.push_str("provider \"aws\" {\n  region = var.region\n}\n\n"),
        ProviderKind::Azure => s.push_str("# Subscription and login: ARM_SUBSCRIPTION_ID and `az login` (or ARM_CLIENT_ID/ARM_CLIENT_SECRET/ARM_TENANT_ID).\nprovider \"azurerm\" {\n  features {}\n}\n\n"),
        ProviderKind::Gcp => s.push_str("provider \"google\" {\n  project = var.project\n}\n\n"),
    }
    let width = MODULE_VARIABLES.iter().map(|v| v.len()).max().unwrap_or(0);
    let _ = writeln!(s, "module \"strato\" {{\n  source = \"{source}\"\n");
    for v in MODULE_VARIABLES {
        let _ = writeln!(s, "  {v:<width$} = var.{v}");
    }
    s.push_str("}\n");
    for o in MODULE_OUTPUTS {
        let _ = write!(s, "\noutput \"{o}\" {{\n  value = module.strato.{o}\n}}\n");
    }
    s
}

/// `variables.tf` of the root module: the module's variables plus the provider's.
pub fn root_variables(provider: ProviderKind) -> String {
    let module_vars = MODULE_FILES
        .iter()
        .find(|(p, f, _)| *p == provider && *f == "variables.tf")
        .map_or("", |f| f.2);
    let mut s = module_vars.to_string();
    for (name, description) in provider_variables(provider) {
        let _ = write!(s, "\nvariable \"{name}\" {{\n  description = \"{description}\"\n  type        = string\n}}\n");
    }
    s
}

fn hcl_str(v: &str) -> String {
    // JSON string escapes are valid HCL string escapes; `${` must not start an interpolation.
    serde_json::Value::String(v.to_string())
        .to_string()
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// `terraform.tfvars` from the cluster's spec.
pub fn tfvars(spec: &ClusterSpec) -> String {
    let (location, resource_group, extra) = match &spec.location {
        Location::Aws { region } => (
            String::new(),
            String::new(),
            vec![("region", hcl_str(region))],
        ),
        Location::Azure {
            location,
            resource_group,
            ..
        } => (location.clone(), resource_group.clone(), vec![]),
        Location::Gcp { project, zone } => (
            zone.clone(),
            String::new(),
            vec![("project", hcl_str(project))],
        ),
    };
    let it = &spec.instance_types;
    let cidrs = format!(
        "[{}]",
        spec.admin_cidrs
            .iter()
            .map(|c| hcl_str(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut values: Vec<(&str, String)> = vec![
        ("cluster_name", hcl_str(&spec.cluster_name)),
        ("cluster_id", hcl_str(&spec.cluster_id)),
        ("location", hcl_str(&location)),
        ("resource_group", hcl_str(&resource_group)),
        ("num_masters", spec.counts.masters.to_string()),
        ("num_agents", spec.counts.agents.to_string()),
        ("num_public_agents", spec.counts.public_agents.to_string()),
        ("bootstrap_instance_type", hcl_str(&it.bootstrap)),
        ("master_instance_type", hcl_str(&it.master)),
        ("agent_instance_type", hcl_str(&it.agent)),
        ("public_agent_instance_type", hcl_str(&it.public_agent)),
        ("os", hcl_str(&spec.os)),
        ("image", hcl_str(spec.image.as_deref().unwrap_or(""))),
        ("ssh_user", hcl_str(&spec.ssh_user)),
        ("ssh_public_key", hcl_str(&spec.ssh_public_key)),
        ("admin_cidrs", cidrs),
        ("network_cidr", hcl_str(&spec.network_cidr)),
        ("bootstrap_disk_gib", spec.disk_gib.bootstrap.to_string()),
        ("master_disk_gib", spec.disk_gib.master.to_string()),
        ("agent_disk_gib", spec.disk_gib.agent.to_string()),
        (
            "public_agent_disk_gib",
            spec.disk_gib.public_agent.to_string(),
        ),
    ];
    values.extend(extra);
    let width = values.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut s = format!(
        "# From {} by `strato cloud terraform`.\n",
        spec.cluster_name
    );
    for (k, v) in values {
        let _ = writeln!(s, "{k:<width$} = {v}");
    }
    s
}

/// Write the root module, `terraform.tfvars` and the module into `dir`. Returns the files written.
pub fn write_root(spec: &ClusterSpec, dir: &Path) -> Result<Vec<PathBuf>> {
    let provider = spec.provider;
    let module_dir = dir.join("modules").join(provider.as_str());
    std::fs::create_dir_all(&module_dir).map_err(|source| CloudError::Write {
        path: module_dir.clone(),
        source,
    })?;
    let mut files = vec![
        (
            dir.join("main.tf"),
            root_main(provider, &format!("./modules/{}", provider.as_str())),
        ),
        (dir.join("variables.tf"), root_variables(provider)),
        (dir.join("terraform.tfvars"), tfvars(spec)),
    ];
    for (p, name, text) in MODULE_FILES.iter().filter(|(p, _, _)| *p == provider) {
        debug_assert_eq!(*p, provider);
        files.push((module_dir.join(name), (*text).to_string()));
    }
    for (path, text) in &files {
        strato_atomic_file::write_with_mode(path, text.as_bytes(), 0o644).map_err(|source| {
            CloudError::Write {
                path: path.clone(),
                source,
            }
        })?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

/// Hosts from `terraform output -json`: public addresses, private where a machine has none.
pub fn hosts_from_outputs(json: &str, file: &Path) -> Result<Hosts> {
    let bad = |key: &str, message: String| CloudError::Config {
        file: file.display().to_string(),
        key: key.to_string(),
        message,
    };
    let outputs: Value = serde_json::from_str(json).map_err(|e| {
        bad(
            "(document)",
            format!("not `terraform output -json` output: {e}"),
        )
    })?;
    let value = |name: &str| -> Result<Value> {
        let v = outputs.get(name).ok_or_else(|| {
            bad(
                name,
                "missing: is this the output of a Strato module (terraform/modules/*)?".into(),
            )
        })?;
        Ok(v.get("value").cloned().unwrap_or_else(|| v.clone()))
    };
    let list = |name: &str| -> Result<Vec<Option<String>>> {
        let v = value(name)?;
        let arr = v
            .as_array()
            .ok_or_else(|| bad(name, "expected a list of addresses".into()))?;
        Ok(arr
            .iter()
            .map(|a| a.as_str().filter(|s| !s.is_empty()).map(str::to_string))
            .collect())
    };
    // Nodes by private address, the bootstrap host by public one (see Machine::deploy_address).
    let merge = |public: &str, private: &str| -> Result<Vec<String>> {
        let pubs = list(public)?;
        let privs = list(private)?;
        let at = |v: &Vec<Option<String>>, i: usize| v.get(i).cloned().flatten();
        Ok((0..privs.len().max(pubs.len()))
            .filter_map(|i| at(&privs, i).or_else(|| at(&pubs, i)))
            .collect())
    };
    let bootstrap = value("bootstrap_public_ip")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| {
            value("bootstrap_private_ip")
                .ok()
                .and_then(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
        });
    Ok(Hosts {
        bootstrap,
        masters: merge("master_public_ips", "master_private_ips")?,
        agents: merge("agent_public_ips", "agent_private_ips")?,
        public_agents: merge("public_agent_public_ips", "public_agent_private_ips")?,
    })
}
