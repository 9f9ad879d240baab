//! [`Cloud`]: the optional `cloud:` section that `strato cloud create` turns into machines.
//! Checked by `validate::cloud`.
use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which cloud, where, and how many machines of which size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cloud {
    pub provider: Provider,
    /// AWS region (`us-east-1`); AWS only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Azure location (`westeurope`); Azure only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Azure resource group to create the machines in; Azure only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// GCP project id; GCP only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// GCP zone (`europe-west1-b`); GCP only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The node image family, one of [`Cloud::OS_FAMILIES`].
    pub os: String,
    /// An explicit image id (AMI, Azure image URN, GCP image) instead of looking up `os`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The SSH public key installed for the login user (`~` allowed).
    pub ssh_public_key: PathBuf,
    /// Networks (CIDR) allowed to reach SSH and the dashboard; at least one.
    pub admin_cidrs: Vec<String>,
    pub instance_types: InstanceTypes,
    pub counts: Counts,
    #[serde(default)]
    pub disk_gib: DiskGib,
}

impl Cloud {
    /// Image families `strato cloud` knows how to look up.
    pub const OS_FAMILIES: [&'static str; 9] = [
        "rocky-9",
        "rhel-9",
        "alma-9",
        "centos-stream-9",
        "centos-7",
        "flatcar",
        "debian-12",
        "ubuntu-22.04",
        "ubuntu-24.04",
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Aws,
    Azure,
    Gcp,
}

impl Provider {
    pub const NAMES: [&'static str; 3] = ["aws", "azure", "gcp"];

    pub fn parse(text: &str) -> Option<Provider> {
        match text {
            "aws" => Some(Provider::Aws),
            "azure" => Some(Provider::Azure),
            "gcp" => Some(Provider::Gcp),
            _ => None,
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::Aws => "aws",
            Provider::Azure => "azure",
            Provider::Gcp => "gcp",
        })
    }
}

/// Provider machine sizes per role (`m5.xlarge`, `Standard_D4s_v3`, `n2-standard-4`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceTypes {
    pub bootstrap: String,
    pub master: String,
    pub agent: String,
    pub public_agent: String,
}

/// How many machines of each role to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// 1, 3, 5, 7 or 9.
    #[schemars(range(min = 1, max = 9))]
    pub masters: usize,
    #[serde(default)]
    pub agents: usize,
    #[serde(default)]
    pub public_agents: usize,
}

/// Root disk sizes in GiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DiskGib {
    #[schemars(range(min = 1))]
    pub master: u32,
    #[schemars(range(min = 1))]
    pub agent: u32,
}

impl Default for DiskGib {
    /// DC/OS's documented production disk sizes.
    fn default() -> Self {
        DiskGib {
            master: 120,
            agent: 60,
        }
    }
}
