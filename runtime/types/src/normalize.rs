//! Turns the JSON clients send into the canonical shape before it becomes an [`App`]:
//! legacy `ports`/`uris`/Docker network fields, read-only keys clients echo back, and
//! Marathon's partial-update merge.

use serde_json::{json, Map, Value};

use crate::validate::Violation;

/// Keys Marathon writes but ignores on input (clients often send a fetched app back).
const READ_ONLY: [&str; 12] = [
    "tasks",
    "tasksRunning",
    "tasksStaged",
    "tasksHealthy",
    "tasksUnhealthy",
    "deployments",
    "lastTaskFailure",
    "taskStats",
    "tasksStats",
    "readinessCheckResults",
    "versionInfo",
    "storeUrls",
];

/// Rewrites legacy fields into the current ones. Only the keys present in `body` are touched,
/// so the result can be merged over an existing app.
pub fn normalise(body: &mut Map<String, Value>) -> Result<(), Vec<Violation>> {
    for key in READ_ONLY {
        body.remove(key);
    }
    if let Some(ports) = body.remove("ports") {
        if let Some(definitions) = body.get("portDefinitions") {
            // Clients that echo a fetched app send both; that is fine when they agree.
            let declared: Vec<&Value> = definitions
                .as_array()
                .map(|d| d.iter().map(|p| &p["port"]).collect())
                .unwrap_or_default();
            if ports
                .as_array()
                .is_some_and(|p| p.iter().collect::<Vec<_>>() == declared)
            {
                return normalise(body);
            }
            return Err(vec![Violation::new(
                "/ports",
                "You cannot specify both ports and port definitions",
            )]);
        }
        let definitions: Vec<Value> = ports
            .as_array()
            .map(|ports| {
                ports
                    .iter()
                    .map(|p| json!({"port": p, "protocol": "tcp"}))
                    .collect()
            })
            .unwrap_or_default();
        body.insert("portDefinitions".into(), Value::Array(definitions));
    }
    if let Some(uris) = body.remove("uris") {
        if let Some(fetch) = body.get("fetch") {
            let fetched: Vec<&Value> = fetch
                .as_array()
                .map(|f| f.iter().map(|f| &f["uri"]).collect())
                .unwrap_or_default();
            if uris
                .as_array()
                .is_some_and(|u| u.iter().collect::<Vec<_>>() == fetched)
            {
                return normalise(body);
            }
            return Err(vec![Violation::new(
                "/uris",
                "may not be set in conjunction with fetch",
            )]);
        }
        let fetch: Vec<Value> = uris
            .as_array()
            .map(|uris| uris.iter().map(|u| json!({"uri": u})).collect())
            .unwrap_or_default();
        body.insert("fetch".into(), Value::Array(fetch));
    }
    let legacy_ip = body.remove("ipAddress").filter(|v| !v.is_null());
    normalise_container(body, legacy_ip.is_some())?;
    Ok(())
}

/// Docker's legacy `docker.network` / `docker.portMappings` become `networks` and
/// `container.portMappings` (Marathon's AppNormalization).
fn normalise_container(
    body: &mut Map<String, Value>,
    legacy_ip: bool,
) -> Result<(), Vec<Violation>> {
    let has_networks = body.get("networks").is_some_and(|n| !n.is_null());
    let mut legacy_mode: Option<&'static str> = None;
    if let Some(container) = body.get_mut("container").and_then(Value::as_object_mut) {
        if let Some(docker) = container.get_mut("docker").and_then(Value::as_object_mut) {
            if let Some(network) = docker.remove("network") {
                legacy_mode = match network.as_str() {
                    Some("BRIDGE") => Some("container/bridge"),
                    Some("USER") => Some("container"),
                    Some("HOST") | Some("NONE") | None => Some("host"),
                    Some(_) => {
                        return Err(vec![Violation::new(
                            "/container/docker/network",
                            "error.unknown.enum.literal",
                        )]);
                    }
                };
            }
            if let Some(mappings) = docker.remove("portMappings") {
                if !container.contains_key("portMappings") {
                    container.insert("portMappings".into(), mappings);
                }
            }
        }
    }
    if legacy_ip && legacy_mode.is_none() {
        legacy_mode = Some("container");
    }
    if let Some(mode) = legacy_mode {
        if has_networks {
            return Err(vec![Violation::new(
                "/networks",
                "cannot mix deprecated and canonical network APIs",
            )]);
        }
        body.insert("networks".into(), json!([{"mode": mode}]));
        if mode != "host" {
            body.insert("portDefinitions".into(), json!([]));
        }
    } else if body
        .get("networks")
        .and_then(Value::as_array)
        .is_some_and(|n| n.iter().any(|n| n["mode"] != "host"))
        && !body.contains_key("portDefinitions")
    {
        body.insert("portDefinitions".into(), json!([]));
    }
    Ok(())
}

/// Marathon's partial update: keys in `update` replace the app's, the rest stay.
pub fn merge(existing: &Value, update: Map<String, Value>) -> Value {
    let mut merged = existing.as_object().cloned().unwrap_or_default();
    let networking_changed = update.contains_key("networks") || update.contains_key("container");
    for (key, value) in update {
        merged.insert(key, value);
    }
    if networking_changed
        && merged
            .get("networks")
            .and_then(Value::as_array)
            .is_some_and(|n| n.iter().all(|n| n["mode"] == "host"))
        && merged
            .get("portDefinitions")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
    {
        merged.remove("portDefinitions");
    }
    Value::Object(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn legacy_docker_bridge_becomes_networks_and_port_mappings() {
        let mut body = object(json!({
            "id": "/web",
            "container": {"type": "DOCKER", "docker": {"image": "nginx", "network": "BRIDGE",
                "portMappings": [{"containerPort": 80, "hostPort": 0}]}}
        }));
        normalise(&mut body).expect("valid");
        assert_eq!(body["networks"], json!([{"mode": "container/bridge"}]));
        assert_eq!(body["container"]["portMappings"][0]["containerPort"], 80);
        assert!(body["container"]["docker"].get("network").is_none());
    }

    #[test]
    fn mixing_legacy_and_canonical_networks_is_rejected() {
        let mut body = object(json!({
            "networks": [{"mode": "host"}],
            "container": {"docker": {"image": "x", "network": "HOST"}}
        }));
        let errors = normalise(&mut body).expect_err("mixed");
        assert!(errors[0].errors[0].contains("cannot mix"));
    }

    #[test]
    fn legacy_ports_and_uris_are_rewritten() {
        let mut body =
            object(json!({"ports": [0, 8080], "uris": ["http://x/a.tgz"], "tasksRunning": 3}));
        normalise(&mut body).expect("valid");
        assert_eq!(body["portDefinitions"][1]["port"], 8080);
        assert_eq!(body["fetch"][0]["uri"], "http://x/a.tgz");
        assert!(!body.contains_key("tasksRunning"));
    }

    #[test]
    fn echoed_ports_that_agree_with_port_definitions_are_dropped() {
        let mut body = object(
            json!({"ports": [10000], "portDefinitions": [{"port": 10000, "name": "default"}]}),
        );
        normalise(&mut body).expect("agreeing ports are accepted");
        assert!(!body.contains_key("ports"));
        let mut body = object(json!({"ports": [10001], "portDefinitions": [{"port": 10000}]}));
        assert!(normalise(&mut body).is_err());
    }

    #[test]
    fn merge_keeps_absent_fields() {
        let merged = merge(
            &json!({"id": "/a", "cmd": "sleep 1", "instances": 1}),
            object(json!({"instances": 3})),
        );
        assert_eq!(
            merged,
            json!({"id": "/a", "cmd": "sleep 1", "instances": 3})
        );
    }
}
