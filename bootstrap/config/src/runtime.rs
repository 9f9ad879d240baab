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
    /// The Unix user tasks run as when their app names none (Marathon's `user`); made on each
    /// agent at install. Default [`DEFAULT_TASK_USER`]. `root` only when written here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_user: Option<String>,
    /// The container engine agents run Docker-image apps with: `docker`, `podman` or `none`.
    /// Set, preflight checks agents have it running; unset, each agent uses whichever answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_engine: Option<ContainerEngine>,
    /// Seconds an agent may stay silent before the masters call it unreachable and its tasks
    /// TASK_UNREACHABLE (apps' `unreachableStrategy` decides when they are replaced). Default
    /// [`DEFAULT_AGENT_TIMEOUT_SECONDS`]; 10 to 3600.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 3600))]
    pub agent_timeout_seconds: Option<u64>,
    /// Apps may run `privileged` containers (Marathon's `docker.privileged`). Default false: such
    /// an app is refused with a 422.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_privileged_containers: bool,
    /// The `docker.parameters` keys apps may use, from: label, env, cap-add, cap-drop, hostname,
    /// workdir, shm-size, ulimit. Default none: an app with any parameter is refused with a 422.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub container_parameters: Vec<String>,
}

/// `runtime.agent_timeout_seconds` when unset.
pub const DEFAULT_AGENT_TIMEOUT_SECONDS: u64 = 30;

/// `runtime.container_engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContainerEngine {
    Docker,
    Podman,
    None,
}

impl ContainerEngine {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "docker" => Some(Self::Docker),
            "podman" => Some(Self::Podman),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
            Self::None => "none",
        }
    }

    /// The API socket agent.toml names for the engine (`none` turns containers off).
    pub fn socket(self) -> &'static str {
        match self {
            Self::Docker => "/var/run/docker.sock",
            Self::Podman => "/run/podman/podman.sock",
            Self::None => "none",
        }
    }
}

/// The user tasks run as unless cluster.yaml's `runtime.task_user` or the app says otherwise.
pub const DEFAULT_TASK_USER: &str = "strato-task";

impl Runtime {
    /// Nothing set: the runtime built with this `strato`.
    pub fn is_unset(&self) -> bool {
        self.version.is_none()
            && self.bundle.is_none()
            && self.task_user.is_none()
            && self.container_engine.is_none()
            && self.agent_timeout_seconds.is_none()
            && !self.allow_privileged_containers
            && self.container_parameters.is_empty()
    }

    /// Seconds before a silent agent is unreachable.
    pub fn agent_timeout_seconds(&self) -> u64 {
        self.agent_timeout_seconds
            .unwrap_or(DEFAULT_AGENT_TIMEOUT_SECONDS)
    }

    /// The user tasks run as when their app names none.
    pub fn task_user(&self) -> &str {
        self.task_user.as_deref().unwrap_or(DEFAULT_TASK_USER)
    }
}
