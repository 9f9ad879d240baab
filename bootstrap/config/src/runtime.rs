//! [`Runtime`]: which Strato runtime the nodes run.
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `runtime:` section.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Runtime {
    /// Runtime version `MAJOR.MINOR.PATCH[-PRE]`; unset means the version built with this `strato`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A runtime bundle (file or directory) to install instead of the built-in one; relative paths
    /// are relative to cluster.yaml.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<PathBuf>,
}

impl Runtime {
    /// Nothing set: the runtime built with this `strato`.
    pub fn is_unset(&self) -> bool {
        self.version.is_none() && self.bundle.is_none()
    }
}
