//! The app definition with Marathon's defaults. Serialising an [`App`] yields only keys Marathon
//! emits (and marathon-python accepts); [`App::to_marathon_json`] applies the networking rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::health::HealthCheckDef;

/// Marathon's app definition, every field defaulted as in its RAML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct App {
    pub id: String,
    pub cmd: Option<String>,
    pub args: Option<Vec<String>>,
    pub user: Option<String>,
    pub instances: u32,
    pub cpus: f64,
    pub mem: f64,
    pub disk: f64,
    pub gpus: u32,
    pub executor: String,
    pub constraints: Vec<Vec<String>>,
    pub env: BTreeMap<String, Value>,
    pub labels: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, Value>,
    pub fetch: Vec<Fetch>,
    pub port_definitions: Vec<PortDefinition>,
    pub require_ports: bool,
    pub networks: Vec<Network>,
    pub container: Option<Container>,
    pub health_checks: Vec<HealthCheckDef>,
    pub readiness_checks: Vec<ReadinessCheck>,
    pub dependencies: Vec<String>,
    pub backoff_seconds: f64,
    pub backoff_factor: f64,
    pub max_launch_delay_seconds: f64,
    pub upgrade_strategy: UpgradeStrategy,
    pub unreachable_strategy: Value,
    pub kill_selection: KillSelection,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_resource_roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_kill_grace_period_seconds: Option<u64>,
    pub version: String,
    pub version_info: VersionInfo,
}

impl Default for App {
    fn default() -> Self {
        App {
            id: String::new(),
            cmd: None,
            args: None,
            user: None,
            instances: 1,
            cpus: 1.0,
            mem: 128.0,
            disk: 0.0,
            gpus: 0,
            executor: String::new(),
            constraints: Vec::new(),
            env: BTreeMap::new(),
            labels: BTreeMap::new(),
            secrets: BTreeMap::new(),
            fetch: Vec::new(),
            port_definitions: vec![PortDefinition::default()],
            require_ports: false,
            networks: vec![Network::default()],
            container: None,
            health_checks: Vec::new(),
            readiness_checks: Vec::new(),
            dependencies: Vec::new(),
            backoff_seconds: 1.0,
            backoff_factor: 1.15,
            max_launch_delay_seconds: 300.0,
            upgrade_strategy: UpgradeStrategy::default(),
            unreachable_strategy: serde_json::json!({"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}),
            kill_selection: KillSelection::YoungestFirst,
            role: "*".into(),
            accepted_resource_roles: None,
            task_kill_grace_period_seconds: None,
            version: String::new(),
            version_info: VersionInfo::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Fetch {
    pub uri: String,
    pub extract: bool,
    pub executable: bool,
    pub cache: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest_path: Option<String>,
}

impl Default for Fetch {
    fn default() -> Self {
        Fetch {
            uri: String::new(),
            extract: true,
            executable: false,
            cache: false,
            dest_path: None,
        }
    }
}

/// A host port the app asks for; `port` is the service port (0 = assign one).
// Defaults per field, not per struct: only the implicit port of an app that lists none is named
// `default`; entries a user writes without a name stay unnamed, as in Marathon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortDefinition {
    #[serde(default)]
    pub port: u32,
    #[serde(default = "default_protocol")]
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

fn default_protocol() -> String {
    "tcp".into()
}

impl Default for PortDefinition {
    fn default() -> Self {
        PortDefinition {
            port: 0,
            protocol: "tcp".into(),
            name: Some("default".into()),
            labels: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Network {
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            mode: "host".into(),
            name: None,
            labels: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Container {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker: Option<Docker>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_mappings: Option<Vec<PortMapping>>,
    pub volumes: Vec<Value>,
}

impl Default for Container {
    fn default() -> Self {
        Container {
            kind: "DOCKER".into(),
            docker: None,
            port_mappings: None,
            volumes: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Docker {
    pub image: String,
    pub force_pull_image: bool,
    pub privileged: bool,
    pub parameters: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PortMapping {
    pub container_port: u32,
    pub host_port: Option<u32>,
    pub service_port: u32,
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub labels: BTreeMap<String, String>,
}

impl Default for PortMapping {
    fn default() -> Self {
        PortMapping {
            container_port: 0,
            host_port: Some(0),
            service_port: 0,
            protocol: "tcp".into(),
            name: None,
            labels: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReadinessCheck {
    pub name: String,
    pub protocol: String,
    pub path: String,
    pub port_name: String,
    pub interval_seconds: u64,
    pub timeout_seconds: u64,
    pub http_status_codes_for_ready: Vec<u16>,
    pub preserve_last_response: bool,
}

impl Default for ReadinessCheck {
    fn default() -> Self {
        ReadinessCheck {
            name: "readinessCheck".into(),
            protocol: "HTTP".into(),
            path: "/".into(),
            port_name: "http-api".into(),
            interval_seconds: 30,
            timeout_seconds: 10,
            http_status_codes_for_ready: vec![200],
            preserve_last_response: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UpgradeStrategy {
    pub minimum_health_capacity: f64,
    pub maximum_over_capacity: f64,
}

impl Default for UpgradeStrategy {
    fn default() -> Self {
        UpgradeStrategy {
            minimum_health_capacity: 1.0,
            maximum_over_capacity: 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KillSelection {
    #[default]
    YoungestFirst,
    OldestFirst,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct VersionInfo {
    pub last_scaling_at: String,
    pub last_config_change_at: String,
}

/// `unreachableStrategy`: how long a task of an unreachable agent still counts as one of the
/// app's instances (`inactive_after_seconds`, then a replacement starts) and when it is forgotten
/// (`expunge_after_seconds`). Marathon's `"disabled"` is `None`: the task waits for its agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreachable {
    pub inactive_after_seconds: u64,
    pub expunge_after_seconds: u64,
}

impl App {
    /// The app's `unreachableStrategy`; `None` when disabled. A malformed value (refused by
    /// validation, so only in old stored apps) counts as Marathon's default, 0 and 0.
    pub fn unreachable(&self) -> Option<Unreachable> {
        match &self.unreachable_strategy {
            Value::String(s) if s == "disabled" => None,
            value => {
                let seconds = |key: &str| value.get(key).and_then(Value::as_u64).unwrap_or(0);
                Some(Unreachable {
                    inactive_after_seconds: seconds("inactiveAfterSeconds"),
                    expunge_after_seconds: seconds("expungeAfterSeconds"),
                })
            }
        }
    }

    /// Host networking (the default) exposes `portDefinitions`; other modes use port mappings.
    pub fn is_host_networking(&self) -> bool {
        self.networks.iter().all(|n| n.mode == "host")
    }

    /// The app's ports in order: `portDefinitions` for host networking, else the mappings that
    /// ask for a host port.
    pub fn port_count(&self) -> usize {
        if self.is_host_networking() {
            self.port_definitions.len()
        } else {
            self.port_mappings()
                .iter()
                .filter(|m| m.host_port.is_some())
                .count()
        }
    }

    /// Names of the app's ports (for `PORT_<NAME>`), by index.
    pub fn port_names(&self) -> Vec<Option<String>> {
        if self.is_host_networking() {
            self.port_definitions
                .iter()
                .map(|p| p.name.clone())
                .collect()
        } else {
            self.port_mappings()
                .iter()
                .filter(|m| m.host_port.is_some())
                .map(|m| m.name.clone())
                .collect()
        }
    }

    /// Requested host ports by index (0 = any).
    pub fn requested_host_ports(&self) -> Vec<u32> {
        if self.is_host_networking() {
            self.port_definitions.iter().map(|p| p.port).collect()
        } else {
            self.port_mappings()
                .iter()
                .filter_map(|m| m.host_port)
                .collect()
        }
    }

    /// Service ports by index.
    pub fn service_ports(&self) -> Vec<u32> {
        if self.is_host_networking() {
            self.port_definitions.iter().map(|p| p.port).collect()
        } else {
            self.port_mappings()
                .iter()
                .filter(|m| m.host_port.is_some())
                .map(|m| m.service_port)
                .collect()
        }
    }

    fn port_mappings(&self) -> &[PortMapping] {
        self.container
            .as_ref()
            .and_then(|c| c.port_mappings.as_deref())
            .unwrap_or(&[])
    }

    pub fn docker_image(&self) -> Option<String> {
        let container = self.container.as_ref()?;
        let docker = container.docker.as_ref()?;
        (!docker.image.is_empty()).then(|| docker.image.clone())
    }

    /// Roles whose resources the app accepts. Unset means `*` only, as on DC/OS.
    pub fn accepted_roles(&self) -> Vec<String> {
        self.accepted_resource_roles
            .clone()
            .unwrap_or_else(|| vec!["*".into()])
    }

    /// The app as Marathon writes it: `portDefinitions` only for host networking,
    /// `container.portMappings` only otherwise.
    pub fn to_marathon_json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(object) = value.as_object_mut() {
            if self.is_host_networking() {
                if let Some(container) = object.get_mut("container").and_then(Value::as_object_mut)
                {
                    container.remove("portMappings");
                }
            } else {
                object.remove("portDefinitions");
            }
        }
        value
    }
}
