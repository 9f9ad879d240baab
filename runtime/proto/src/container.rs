//! A task's container, as the master asks an agent to run it (Marathon's `container` of type
//! DOCKER, resolved: host ports already assigned).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerNetwork {
    /// The node's network: the task binds the host ports it was given (`PORT0`…).
    #[default]
    Host,
    /// Docker's bridge: each mapping's container port is published on its host port.
    Bridge,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerPortMapping {
    pub container_port: u16,
    pub host_port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

/// A bind mount: `host_path` absolute, or relative to the task's sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerVolume {
    pub container_path: String,
    pub host_path: String,
    pub read_only: bool,
}

/// Marathon's `docker.parameters` (Docker CLI flags) an agent can pass through the engine's API.
/// A cluster allows some of them (cluster.yaml `runtime.container_parameters`); none by default.
pub const DOCKER_PARAMETERS: [&str; 8] = [
    "label", "env", "cap-add", "cap-drop", "hostname", "workdir", "shm-size", "ulimit",
];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    pub image: String,
    #[serde(default)]
    pub force_pull: bool,
    #[serde(default)]
    pub network: ContainerNetwork,
    #[serde(default)]
    pub port_mappings: Vec<ContainerPortMapping>,
    #[serde(default)]
    pub privileged: bool,
    #[serde(default)]
    pub volumes: Vec<ContainerVolume>,
    /// Allowed `docker.parameters`, in order, as (key, value): keys from [`DOCKER_PARAMETERS`].
    #[serde(default)]
    pub parameters: Vec<(String, String)>,
}
