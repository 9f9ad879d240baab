//! Marathon's validation of app definitions (AppValidation, SchedulingValidation, PathId), with
//! its `{"path", "errors"}` detail shape.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::app::App;
use crate::health::protocol_of;
use crate::normalize;
use crate::path::PathId;

/// One entry of a 422's `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub path: String,
    pub errors: Vec<String>,
}

impl Violation {
    pub fn new(path: impl Into<String>, error: impl Into<String>) -> Violation {
        Violation {
            path: path.into(),
            errors: vec![error.into()],
        }
    }
}

/// Builds an app from a request body (already merged over the old app for updates):
/// normalise legacy shapes, apply defaults, check types, validate.
pub fn parse_app(mut body: Map<String, Value>) -> Result<App, Vec<Violation>> {
    normalize::normalise(&mut body)?;
    app_from_value(Value::Object(body))
}

/// Defaults, types and validation for an already normalised body.
pub fn app_from_value(value: Value) -> Result<App, Vec<Violation>> {
    let mut app: App =
        serde_json::from_value(value).map_err(|e| vec![Violation::new("/", e.to_string())])?;
    match PathId::parse(&app.id) {
        Ok(id) => app.id = id.to_string(),
        Err(error) => return Err(vec![Violation::new("/id", error)]),
    }
    // Marathon gives a network health check without `port` or `portIndex` the first port, and
    // says so in the app (marathon-lb matches on `portIndex`).
    for check in &mut app.health_checks {
        if check.protocol != "COMMAND" && check.port.is_none() && check.port_index.is_none() {
            check.port_index = Some(0);
        }
    }
    let violations = validate(&app);
    if violations.is_empty() {
        Ok(app)
    } else {
        Err(violations)
    }
}

fn env_name_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[a-zA-Z_][a-zA-Z0-9_]*$").expect("static regex"))
}

/// What Marathon says for a feature it was not started with.
const FEATURE_SECRETS: &str =
    "Feature secrets is not enabled. Enable with --enable_features secrets)";
const FEATURE_GPUS: &str =
    "Feature gpu_resources is not enabled. Enable with --enable_features gpu_resources)";

/// Every rule Marathon applies to an app that has passed JSON parsing.
pub fn validate(app: &App) -> Vec<Violation> {
    let mut out = Vec::new();
    let has_cmd = app.cmd.is_some();
    let has_args = app.args.is_some();
    if !((has_cmd ^ has_args) || (!(has_cmd && has_args) && app.container.is_some())) {
        out.push(Violation::new(
            "/",
            "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.",
        ));
    }
    if app.cmd.as_deref() == Some("") {
        out.push(Violation::new("/cmd", "must not be empty"));
    }
    for (field, value) in [("/cpus", app.cpus), ("/mem", app.mem), ("/disk", app.disk)] {
        if value < 0.0 {
            out.push(Violation::new(
                field,
                format!("got {value}, expected 0.0 or more"),
            ));
        }
    }
    if app.backoff_factor < 1.0 {
        out.push(Violation::new(
            "/backoffFactor",
            "got less than 1.0, expected 1.0 or more",
        ));
    }
    if app.backoff_seconds < 0.0 || app.max_launch_delay_seconds < 0.0 {
        out.push(Violation::new("/backoffSeconds", "expected 0 or more"));
    }
    for (field, value) in [
        (
            "/upgradeStrategy/minimumHealthCapacity",
            app.upgrade_strategy.minimum_health_capacity,
        ),
        (
            "/upgradeStrategy/maximumOverCapacity",
            app.upgrade_strategy.maximum_over_capacity,
        ),
    ] {
        if value > 1.0 {
            out.push(Violation::new(field, "is greater than 1"));
        } else if value < 0.0 {
            out.push(Violation::new(field, "is less than 0"));
        }
    }
    validate_unreachable(&app.unreachable_strategy, &mut out);
    if app
        .labels
        .get("MARATHON_SINGLE_INSTANCE_APP")
        .is_some_and(|v| v == "true")
        && app.instances > 1
    {
        out.push(Violation::new(
            "/instances",
            "got 2, expected between 0 and 1",
        ));
    }
    for name in app.env.keys() {
        if !env_name_regex().is_match(name) || name.len() > 254 {
            out.push(Violation::new(format!("/env({name})"), "must contain only alphanumeric chars or underscore, and must not begin with a number"));
        }
    }
    for (key, value) in &app.env {
        if value.get("secret").is_some_and(Value::is_string) {
            // Marathon answers so when its secrets feature is off; Strato has no secret store,
            // and silently starting the task without the value would be worse.
            out.push(Violation::new(format!("/env({key})"), FEATURE_SECRETS));
        } else if !value.is_string() {
            out.push(Violation::new(
                format!("/env({key})"),
                "must be a string or a secret reference",
            ));
        }
    }
    if !app.secrets.is_empty() {
        out.push(Violation::new("/secrets", FEATURE_SECRETS));
    }
    if app.gpus > 0 {
        out.push(Violation::new("/gpus", FEATURE_GPUS));
    }

    validate_ports(app, &mut out);
    validate_networks(app, &mut out);
    validate_fetch(app, &mut out);
    for (i, constraint) in app.constraints.iter().enumerate() {
        if let Err(error) = check_constraint(constraint) {
            out.push(Violation::new(format!("/constraints({i})"), error));
        }
    }
    for (i, check) in app.health_checks.iter().enumerate() {
        let path = format!("/healthChecks({i})");
        match protocol_of(&check.protocol) {
            None => out.push(Violation::new(
                format!("{path}/protocol"),
                "error.unknown.enum.literal",
            )),
            Some(strato_proto::HealthProtocol::Command) => {
                if check.command.as_ref().is_none_or(|c| c.value.is_empty()) {
                    out.push(Violation::new(
                        format!("{path}/command"),
                        "is required for COMMAND health checks",
                    ));
                }
            }
            Some(_) => {
                if check.port.is_none() && check.port_index.unwrap_or(0) >= app.port_count() {
                    out.push(Violation::new(path, "Health check port indices must address an element of the ports array or container port mappings."));
                }
            }
        }
    }
    if let Some(roles) = &app.accepted_resource_roles {
        if roles.is_empty() {
            out.push(Violation::new(
                "/acceptedResourceRoles",
                "must not be empty",
            ));
        }
        for role in roles {
            if role != strato_proto::ROLE_DEFAULT && role != strato_proto::ROLE_PUBLIC {
                out.push(Violation::new(
                    "/acceptedResourceRoles",
                    format!("role '{role}' is not accepted"),
                ));
            }
        }
    }
    for (i, dependency) in app.dependencies.iter().enumerate() {
        if let Err(error) = PathId::parse(dependency) {
            out.push(Violation::new(format!("/dependencies({i})"), error));
        }
    }
    out
}

/// `"disabled"`, or whole seconds with `inactiveAfterSeconds` <= `expungeAfterSeconds` (Marathon's
/// `UnreachableStrategy` rules).
fn validate_unreachable(value: &serde_json::Value, out: &mut Vec<Violation>) {
    use serde_json::Value;
    const PATH: &str = "/unreachableStrategy";
    let map = match value {
        Value::String(s) if s == "disabled" => return,
        Value::Object(map) => map,
        _ => {
            out.push(Violation::new(
                PATH,
                "expected \"disabled\" or {\"inactiveAfterSeconds\": n, \"expungeAfterSeconds\": n}",
            ));
            return;
        }
    };
    let mut seconds = [0u64; 2];
    for (i, key) in ["inactiveAfterSeconds", "expungeAfterSeconds"]
        .into_iter()
        .enumerate()
    {
        match map.get(key) {
            None => {}
            Some(v) => match v.as_u64() {
                Some(n) => seconds[i] = n,
                None => out.push(Violation::new(
                    format!("{PATH}/{key}"),
                    format!("got {v}, expected whole seconds, 0 or more"),
                )),
            },
        }
    }
    if let Some(key) = map
        .keys()
        .find(|k| *k != "inactiveAfterSeconds" && *k != "expungeAfterSeconds")
    {
        out.push(Violation::new(format!("{PATH}/{key}"), "unknown field"));
    }
    if seconds[0] > seconds[1] {
        out.push(Violation::new(
            format!("{PATH}/inactiveAfterSeconds"),
            "must be less than or equal to expungeAfterSeconds",
        ));
    }
}

fn validate_ports(app: &App, out: &mut Vec<Violation>) {
    let mut names = BTreeSet::new();
    let mut ports = BTreeSet::new();
    for (i, definition) in app.port_definitions.iter().enumerate() {
        if let Some(name) = &definition.name {
            if !names.insert(name.clone()) {
                out.push(Violation::new(
                    "/portDefinitions",
                    "Port names must be unique.",
                ));
            }
        }
        if definition.port != 0 && !ports.insert(definition.port) {
            out.push(Violation::new("/portDefinitions", "Ports must be unique."));
        }
        if definition.port > 65535 {
            out.push(Violation::new(
                format!("/portDefinitions({i})/port"),
                "got a port above 65535",
            ));
        }
        if !["tcp", "udp", "udp,tcp", "tcp,udp"].contains(&definition.protocol.as_str()) {
            out.push(Violation::new(
                format!("/portDefinitions({i})/protocol"),
                "is not one of (tcp,udp,udp,tcp)",
            ));
        }
    }
    if app.require_ports
        && app.port_definitions.iter().any(|p| p.port == 0)
        && app.is_host_networking()
    {
        out.push(Violation::new(
            "/requirePorts",
            "requirePorts needs every port of portDefinitions to be set (not 0)",
        ));
    }
}

fn validate_networks(app: &App, out: &mut Vec<Violation>) {
    let modes: Vec<&str> = app.networks.iter().map(|n| n.mode.as_str()).collect();
    for mode in &modes {
        if !["host", "container", "container/bridge"].contains(mode) {
            out.push(Violation::new("/networks", "error.unknown.enum.literal"));
        }
    }
    let hosts = modes.iter().filter(|m| **m == "host").count();
    let bridges = modes.iter().filter(|m| **m == "container/bridge").count();
    if (hosts > 0 && modes.len() > 1) || bridges > 1 || (bridges == 1 && modes.len() > 1) {
        out.push(Violation::new(
            "/networks",
            "Networks of mode host or container/bridge cannot be mixed with other networks",
        ));
    }
    let has_mappings = app
        .container
        .as_ref()
        .is_some_and(|c| c.port_mappings.as_ref().is_some_and(|m| !m.is_empty()));
    if app.is_host_networking() && has_mappings {
        out.push(Violation::new(
            "/container/portMappings",
            "Port mappings are only allowed with container or container/bridge networking",
        ));
    }
    if !app.is_host_networking() && !app.port_definitions.is_empty() {
        out.push(Violation::new(
            "/portDefinitions",
            "Port definitions are only allowed with host networking",
        ));
    }
    if let Some(container) = &app.container {
        if !["DOCKER", "MESOS"].contains(&container.kind.as_str()) {
            out.push(Violation::new(
                "/container/type",
                "error.unknown.enum.literal",
            ));
        }
        validate_container(container, out);
    }
}

/// Fetch URIs an agent can get, into places inside the task's sandbox.
fn validate_fetch(app: &App, out: &mut Vec<Violation>) {
    for (i, fetch) in app.fetch.iter().enumerate() {
        let scheme_ok = ["http://", "https://", "file://"]
            .iter()
            .any(|s| fetch.uri.starts_with(s) && fetch.uri.len() > s.len());
        if !scheme_ok {
            out.push(Violation::new(
                format!("/fetch({i})/uri"),
                "URI has invalid syntax: only http, https and file URIs can be fetched",
            ));
        }
        if let Some(dest) = &fetch.dest_path {
            if dest.starts_with('/') || dest.split('/').any(|step| step == "..") {
                out.push(Violation::new(
                    format!("/fetch({i})/destPath"),
                    "destPath must be a relative path inside the sandbox, without '..'",
                ));
            }
        }
    }
}

/// What an agent's container engine can be asked for; anything else is refused here, so no task
/// half-starts on an agent.
fn validate_container(container: &crate::app::Container, out: &mut Vec<Violation>) {
    if let Some(docker) = &container.docker {
        if container.kind == "DOCKER" && docker.image.trim().is_empty() {
            out.push(Violation::new(
                "/container/docker/image",
                "must not be empty",
            ));
        }
        // Whether this cluster allows `privileged` and each parameter is the master's to say.
        if let Err(wrong) = crate::docker_parameters::parse(&docker.parameters) {
            out.extend(wrong);
        }
    }
    for (i, mapping) in container.port_mappings.iter().flatten().enumerate() {
        if mapping.container_port > 65535 || mapping.host_port.is_some_and(|p| p > 65535) {
            out.push(Violation::new(
                format!("/container/portMappings({i})"),
                "Ports must be between 0 and 65535",
            ));
        }
        let protocols: Vec<&str> = mapping.protocol.split(',').map(str::trim).collect();
        if protocols.is_empty() || protocols.iter().any(|p| *p != "tcp" && *p != "udp") {
            out.push(Violation::new(
                format!("/container/portMappings({i})/protocol"),
                "Invalid protocol. Only 'udp', 'tcp' and 'udp,tcp' are allowed.",
            ));
        }
    }
    for (i, volume) in container.volumes.iter().enumerate() {
        if let Err(message) = crate::volume::Volume::from_json(volume) {
            out.push(Violation::new(format!("/container/volumes({i})"), message));
        }
    }
}

/// Checks one `[field, OPERATOR(, value)]` constraint; errors are Marathon's wording.
pub fn check_constraint(constraint: &[String]) -> Result<(), String> {
    let (op, value) = match constraint {
        [_, op] => (op.as_str(), None),
        [_, op, value] => (op.as_str(), Some(value.as_str())),
        _ => return Err("Each constraint must have either 2 or 3 fields".into()),
    };
    match (op, value) {
        ("UNIQUE", None) => Ok(()),
        ("UNIQUE", Some(_)) => Err("UNIQUE does not accept a value".into()),
        ("CLUSTER", _) => Ok(()),
        ("GROUP_BY", None) => Ok(()),
        ("GROUP_BY", Some(v)) => v.parse::<u32>().map(|_| ()).map_err(|_| "GROUP_BY may either have no value or an integer value".into()),
        ("MAX_PER", Some(v)) if v.parse::<u32>().is_ok() => Ok(()),
        ("MAX_PER", _) => Err("MAX_PER requires an integer value".into()),
        ("LIKE" | "UNLIKE", Some(v)) if !v.is_empty() => {
            Regex::new(&format!("^(?:{v})$")).map(|_| ()).map_err(|_| format!("'{v}' is not a valid regular expression"))
        }
        ("LIKE" | "UNLIKE", _) => Err(format!("{op} requires a non-empty value")),
        ("IS", Some(_)) => Ok(()),
        ("IS", None) => Err("IS requires a value".into()),
        _ => Err(format!("Constraint operator must be one of the following: [CLUSTER, GROUP_BY, IS, LIKE, MAX_PER, UNIQUE, UNLIKE], got {op}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<App, Vec<Violation>> {
        parse_app(value.as_object().cloned().expect("object"))
    }

    #[test]
    fn a_network_health_check_without_a_port_gets_port_index_0() {
        let app = app_from_value(json!({"id": "/w", "cmd": "x", "portDefinitions": [{"port": 0}],
            "healthChecks": [{"protocol": "HTTP"}, {"protocol": "COMMAND", "command": {"value": "true"}},
                             {"protocol": "TCP", "port": 8080}]}))
        .expect("valid");
        let indexes: Vec<Option<usize>> = app.health_checks.iter().map(|c| c.port_index).collect();
        assert_eq!(indexes, vec![Some(0), None, None]);
    }

    #[test]
    fn minimal_app_gets_marathon_defaults() {
        let app = parse(json!({"id": "sleepy", "cmd": "sleep 100"})).expect("valid");
        assert_eq!(app.id, "/sleepy");
        assert_eq!(app.instances, 1);
        assert_eq!(app.mem, 128.0);
        assert_eq!(app.port_definitions.len(), 1);
        assert_eq!(app.backoff_factor, 1.15);
    }

    #[test]
    fn unnamed_port_definitions_are_accepted_and_stay_unnamed() {
        let app =
            parse(json!({"id": "/two", "cmd": "x", "portDefinitions": [{"port": 0}, {"port": 0}]}))
                .expect("Marathon accepts several unnamed ports");
        assert_eq!(app.port_definitions.len(), 2);
        assert!(app
            .port_definitions
            .iter()
            .all(|p| p.name.is_none() && p.protocol == "tcp"));
        let named = parse(json!({"id": "/two", "cmd": "x",
            "portDefinitions": [{"port": 0, "name": "http"}, {"port": 0, "name": "http"}]}))
        .expect_err("duplicate names");
        assert_eq!(
            named[0].errors,
            vec!["Port names must be unique.".to_string()]
        );
    }

    #[test]
    fn cmd_and_args_together_are_rejected() {
        let errors = parse(json!({"id": "/a", "cmd": "x", "args": ["y"]})).expect_err("both");
        assert_eq!(errors[0].path, "/");
    }

    #[test]
    fn docker_app_without_cmd_is_valid() {
        let app = parse(
            json!({"id": "/web", "container": {"type": "DOCKER", "docker": {"image": "nginx"}}}),
        )
        .expect("valid");
        assert_eq!(app.docker_image().as_deref(), Some("nginx"));
    }

    #[test]
    fn uppercase_id_is_a_violation_on_id() {
        let errors = parse(json!({"id": "/Bad", "cmd": "x"})).expect_err("uppercase");
        assert_eq!(errors[0].path, "/id");
    }

    #[test]
    fn constraint_syntax_follows_marathon() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_constraint(&s(&["hostname", "UNIQUE"])).is_ok());
        assert_eq!(
            check_constraint(&s(&["hostname", "UNIQUE", "x"])).expect_err("invalid"),
            "UNIQUE does not accept a value"
        );
        assert_eq!(
            check_constraint(&s(&["rack", "MAX_PER", "x"])).expect_err("invalid"),
            "MAX_PER requires an integer value"
        );
        assert!(check_constraint(&s(&["rack", "LIKE", "r[12"])).is_err());
        assert!(check_constraint(&s(&["rack", "FOO"])).is_err());
    }

    #[test]
    fn unreachable_strategy_is_disabled_or_ordered_seconds() {
        let with = |v: serde_json::Value| App {
            cmd: Some("x".into()),
            unreachable_strategy: v,
            ..App::default()
        };
        assert!(validate(&with(serde_json::json!("disabled"))).is_empty());
        let ok = with(serde_json::json!({"inactiveAfterSeconds": 5, "expungeAfterSeconds": 60}));
        assert!(validate(&ok).is_empty());
        assert_eq!(
            ok.unreachable()
                .map(|u| (u.inactive_after_seconds, u.expunge_after_seconds)),
            Some((5, 60))
        );
        assert_eq!(with(serde_json::json!("disabled")).unreachable(), None);
        let backwards = validate(&with(
            serde_json::json!({"inactiveAfterSeconds": 60, "expungeAfterSeconds": 5}),
        ));
        assert_eq!(
            backwards[0].path,
            "/unreachableStrategy/inactiveAfterSeconds"
        );
        let negative = validate(&with(serde_json::json!({"inactiveAfterSeconds": -1})));
        assert_eq!(
            negative[0].path,
            "/unreachableStrategy/inactiveAfterSeconds"
        );
        assert_eq!(
            validate(&with(serde_json::json!("later")))[0].path,
            "/unreachableStrategy"
        );
    }

    #[test]
    fn upgrade_strategy_above_one_is_named() {
        let errors = parse(
            json!({"id": "/a", "cmd": "x", "upgradeStrategy": {"minimumHealthCapacity": 1.5}}),
        )
        .expect_err("invalid");
        assert_eq!(errors[0].path, "/upgradeStrategy/minimumHealthCapacity");
        assert_eq!(errors[0].errors, vec!["is greater than 1".to_string()]);
    }

    #[test]
    fn health_check_port_index_must_exist() {
        let errors = parse(
            json!({"id": "/a", "cmd": "x", "healthChecks": [{"protocol": "HTTP", "portIndex": 3}]}),
        )
        .expect_err("invalid");
        assert!(errors[0].path.starts_with("/healthChecks(0)"));
    }

    #[test]
    fn negative_resources_name_the_value() {
        let err = parse(json!({"id": "/a", "cmd": "x", "cpus": -0.5, "mem": -1})).expect_err("422");
        assert!(err.contains(&Violation::new("/cpus", "got -0.5, expected 0.0 or more")));
        assert!(err.contains(&Violation::new("/mem", "got -1, expected 0.0 or more")));
    }

    #[test]
    fn secrets_and_gpus_are_refused_not_ignored() {
        let err = parse(json!({
            "id": "/a", "cmd": "x", "gpus": 1,
            "secrets": {"db": {"source": "/db/password"}},
            "env": {"DB_PASSWORD": {"secret": "db"}, "PLAIN": "ok"}
        }))
        .expect_err("422");
        let paths: Vec<&str> = err.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, vec!["/env(DB_PASSWORD)", "/secrets", "/gpus"]);
        assert!(err[0].errors[0].contains("secrets is not enabled"));
        assert!(err[2].errors[0].contains("gpu_resources is not enabled"));
    }
}
