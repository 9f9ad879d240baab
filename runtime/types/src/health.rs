//! Marathon health-check definitions and their translation to what the agent runs.

use serde::{Deserialize, Serialize};
use strato_proto::{HealthCheck, HealthProtocol};

/// `healthChecks[]` as Marathon accepts and emits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HealthCheckDef {
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandCheck>,
    pub grace_period_seconds: u64,
    pub interval_seconds: u64,
    pub timeout_seconds: u64,
    pub max_consecutive_failures: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_http1xx: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<u64>,
}

impl Default for HealthCheckDef {
    fn default() -> Self {
        HealthCheckDef {
            protocol: "HTTP".into(),
            path: None,
            port_index: None,
            port: None,
            command: None,
            grace_period_seconds: 300,
            interval_seconds: 60,
            timeout_seconds: 20,
            max_consecutive_failures: 3,
            ignore_http1xx: None,
            delay_seconds: None,
        }
    }
}

/// `{"value": "..."}`, the form marathon-python sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandCheck {
    pub value: String,
}

/// Marathon's protocol names, including the `MESOS_*` spellings.
pub fn protocol_of(name: &str) -> Option<HealthProtocol> {
    match name {
        "HTTP" | "MESOS_HTTP" => Some(HealthProtocol::Http),
        "HTTPS" | "MESOS_HTTPS" => Some(HealthProtocol::Https),
        "TCP" | "MESOS_TCP" => Some(HealthProtocol::Tcp),
        "COMMAND" => Some(HealthProtocol::Command),
        _ => None,
    }
}

impl HealthCheckDef {
    /// Mesos-run checks kill after the first failure when `maxConsecutiveFailures` is 0;
    /// Marathon-run ones never do.
    pub fn is_mesos_check(&self) -> bool {
        self.protocol.starts_with("MESOS_") || self.protocol == "COMMAND"
    }

    /// The check the agent runs for a task with these host ports.
    pub fn to_proto(&self, host_ports: &[u16]) -> Option<HealthCheck> {
        let protocol = protocol_of(&self.protocol)?;
        let port = match protocol {
            HealthProtocol::Command => None,
            _ => self
                .port
                .or_else(|| host_ports.get(self.port_index.unwrap_or(0)).copied()),
        };
        let path = match protocol {
            HealthProtocol::Http | HealthProtocol::Https => {
                Some(self.path.clone().unwrap_or_else(|| "/".into()))
            }
            _ => None,
        };
        Some(HealthCheck {
            protocol,
            path,
            port,
            command: self.command.as_ref().map(|c| c.value.clone()),
            grace_period_seconds: self.grace_period_seconds,
            interval_seconds: self.interval_seconds,
            timeout_seconds: self.timeout_seconds,
            max_consecutive_failures: self.max_consecutive_failures,
            ignore_http1xx: self.ignore_http1xx.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_index_resolves_to_the_host_port() {
        let def = HealthCheckDef {
            port_index: Some(1),
            ..HealthCheckDef::default()
        };
        let check = def.to_proto(&[31000, 31001]).expect("known protocol");
        assert_eq!(check.port, Some(31001));
        assert_eq!(check.path.as_deref(), Some("/"));
        assert_eq!(check.grace_period_seconds, 300);
    }

    #[test]
    fn mesos_names_map_to_the_same_kinds() {
        assert_eq!(protocol_of("MESOS_TCP"), Some(HealthProtocol::Tcp));
        assert_eq!(protocol_of("MESOS_HTTPS"), Some(HealthProtocol::Https));
        assert_eq!(protocol_of("UDP"), None);
    }
}
