//! What an agent is told about an app's container: Marathon's `container` (type DOCKER) with the
//! host ports the scheduler assigned to one task.

use strato_proto::{ContainerNetwork, ContainerPortMapping, ContainerSpec};

use crate::app::App;

impl App {
    /// The container for a task given `host_ports` (in the app's port order); `None` for a
    /// command app. A mapping's `containerPort` 0 means the host port, as Marathon does.
    pub fn container_spec(&self, host_ports: &[u16]) -> Option<ContainerSpec> {
        let image = self.docker_image()?;
        let container = self.container.as_ref()?;
        let docker = container.docker.clone().unwrap_or_default();
        let bridge = !self.is_host_networking();
        let port_mappings = if bridge {
            container
                .port_mappings
                .iter()
                .flatten()
                .filter(|m| m.host_port.is_some())
                .zip(host_ports)
                .flat_map(|(m, &host_port)| {
                    let container_port = match u16::try_from(m.container_port) {
                        Ok(0) | Err(_) => host_port,
                        Ok(port) => port,
                    };
                    // Marathon's `tcp,udp` publishes the port for both.
                    m.protocol
                        .split(',')
                        .map(|p| p.trim().to_ascii_lowercase())
                        .filter(|p| p == "tcp" || p == "udp")
                        .map(move |protocol| ContainerPortMapping {
                            container_port,
                            host_port,
                            protocol,
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        } else {
            Vec::new()
        };
        Some(ContainerSpec {
            image,
            force_pull: docker.force_pull_image,
            network: if bridge {
                ContainerNetwork::Bridge
            } else {
                ContainerNetwork::Host
            },
            port_mappings,
            privileged: docker.privileged,
            // Validated when the app was accepted; the master allowed each.
            parameters: crate::docker_parameters::parse(&docker.parameters).unwrap_or_default(),
            // Validated when the app was accepted (`validate.rs`); a bad one is skipped here.
            volumes: container
                .volumes
                .iter()
                .filter_map(|v| crate::volume::Volume::from_json(v).ok())
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_mappings_get_the_assigned_host_ports() {
        let app: App = serde_json::from_value(serde_json::json!({
            "id": "/web",
            "container": {"type": "DOCKER", "docker": {"image": "web:1"},
                "portMappings": [{"containerPort": 8080, "hostPort": 0},
                                 {"containerPort": 0, "hostPort": 0, "protocol": "udp,tcp"}]},
            "networks": [{"mode": "container/bridge"}],
        }))
        .expect("app");
        let spec = app.container_spec(&[31001, 31002]).expect("container");
        assert_eq!(spec.image, "web:1");
        assert_eq!(spec.network, ContainerNetwork::Bridge);
        let mapped: Vec<(u16, u16, &str)> = spec
            .port_mappings
            .iter()
            .map(|m| (m.container_port, m.host_port, m.protocol.as_str()))
            .collect();
        assert_eq!(
            mapped,
            vec![
                (8080, 31001, "tcp"),
                (31002, 31002, "udp"),
                (31002, 31002, "tcp")
            ]
        );
        let command: App =
            serde_json::from_value(serde_json::json!({"id": "/cmd", "cmd": "x"})).expect("app");
        assert_eq!(command.container_spec(&[]), None);
    }
}
