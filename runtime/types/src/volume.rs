//! A container volume as Marathon writes it (`{"containerPath", "hostPath", "mode"}`), checked:
//! a host path is absolute, or relative to the task's sandbox and then never leaves it.
//! Persistent, external and secret volumes are refused (no agent provides them).

use serde_json::Value;
use strato_proto::ContainerVolume;

pub struct Volume;

impl Volume {
    /// The volume, or Marathon-style text saying what is wrong with it.
    pub fn from_json(value: &Value) -> Result<ContainerVolume, String> {
        let object = value
            .as_object()
            .ok_or("A volume is an object with containerPath, hostPath and mode")?;
        for key in ["persistent", "external", "secret"] {
            if object.contains_key(key) {
                return Err(format!("{key} volumes are not supported on this cluster"));
            }
        }
        let container_path = object
            .get("containerPath")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .ok_or("containerPath must not be empty")?;
        if !container_path.starts_with('/') || has_parent_step(container_path) {
            return Err("containerPath must be an absolute path without '..'".into());
        }
        let host_path = object
            .get("hostPath")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .ok_or("hostPath must not be empty")?;
        // Relative paths are in the sandbox and must stay there.
        if !host_path.starts_with('/') && has_parent_step(host_path) {
            return Err(format!(
                "hostPath '{host_path}' leaves the task's sandbox: a relative hostPath must not \
                 contain '..'"
            ));
        }
        let read_only = match object.get("mode").and_then(Value::as_str).unwrap_or("RW") {
            "RO" => true,
            "RW" => false,
            other => return Err(format!("mode '{other}' is not RO or RW")),
        };
        Ok(ContainerVolume {
            container_path: container_path.to_string(),
            host_path: host_path.to_string(),
            read_only,
        })
    }
}

fn has_parent_step(path: &str) -> bool {
    path.split('/').any(|step| step == "..")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn volumes_stay_in_the_sandbox_or_name_an_absolute_host_path() {
        let ok =
            Volume::from_json(&json!({"containerPath": "/data", "hostPath": "data", "mode": "RO"}))
                .expect("relative");
        assert!(ok.read_only);
        assert!(
            Volume::from_json(&json!({"containerPath": "/etc/x", "hostPath": "/srv/x"})).is_ok()
        );
        for bad in [
            json!({"containerPath": "/d", "hostPath": "../../etc", "mode": "RW"}),
            json!({"containerPath": "d", "hostPath": "x"}),
            json!({"containerPath": "/d", "hostPath": "x", "mode": "RX"}),
            json!({"containerPath": "/d", "persistent": {"size": 10}}),
            json!("a string"),
        ] {
            assert!(Volume::from_json(&bad).is_err(), "{bad}");
        }
    }
}
