//! DC/OS Jobs (Metronome v1): a job's definition as `/v1/jobs` takes and serves it, with
//! Metronome's defaults and its `{"message", "details": [{"path", "errors"}]}` validation.
//! Output carries only Metronome's field names: the `dcos-metronome` client parses answers
//! into protobuf messages and rejects any other key.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validate::Violation;

/// A job: an id, a description, labels and what each run runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub run: RunSpec,
}

/// What one run of a job starts: one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSpec {
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Required, as Metronome's schema requires them (its defaults never apply to v1 input).
    pub cpus: f64,
    pub mem: f64,
    pub disk: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerSpec>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Seconds a run may wait for an agent to take it before it fails.
    #[serde(default = "default_max_launch_delay")]
    pub max_launch_delay: u64,
    #[serde(default)]
    pub placement: Placement,
    #[serde(default)]
    pub restart: Restart,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default)]
    pub volumes: Vec<JobVolume>,
    /// SIGTERM, then SIGKILL after this long, when a run is stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_kill_grace_period_seconds: Option<u64>,
}

/// Metronome's default `maxLaunchDelay`: an hour.
fn default_max_launch_delay() -> u64 {
    3600
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    pub uri: String,
    #[serde(default = "yes")]
    pub extract: bool,
    #[serde(default)]
    pub executable: bool,
    #[serde(default)]
    pub cache: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerSpec {
    pub image: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    #[serde(default)]
    pub constraints: Vec<JobConstraint>,
}

/// `{"attribute": "rack", "operator": "EQ", "value": "r1"}`; `hostname` is the agent's host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobConstraint {
    pub attribute: String,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl JobConstraint {
    /// The Marathon constraint the scheduler checks (`EQ` is Marathon's `IS`).
    pub fn to_marathon(&self) -> Vec<String> {
        let operator = match self.operator.as_str() {
            "EQ" => "IS",
            other => other,
        };
        let mut constraint = vec![self.attribute.clone(), operator.to_string()];
        constraint.extend(self.value.clone());
        constraint
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RestartPolicy {
    #[default]
    Never,
    OnFailure,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Restart {
    #[serde(default)]
    pub policy: RestartPolicy,
    /// With ON_FAILURE: how long after the run started a failed task is still retried; absent,
    /// forever. A run still going at the deadline is killed and fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobVolume {
    pub container_path: String,
    pub host_path: String,
    pub mode: String,
}

/// Metronome's job id: dot-separated lowercase segments (`prod.reports.daily`).
pub fn job_id_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(
            r"^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])$",
        )
        .expect("job id pattern")
    })
}

/// The error Metronome's schema gives an id that does not match [`job_id_pattern`].
pub fn job_id_error(id: &str) -> String {
    format!(
        "'{id}' does not match pattern '^([a-z0-9]+(\\-+[a-z0-9]+)*)(\\.([a-z0-9]+(\\-+[a-z0-9]+)*))*$'."
    )
}

impl JobSpec {
    /// A job from a request body: types, defaults, then Metronome's rules.
    pub fn parse(body: &[u8]) -> Result<JobSpec, JobBodyError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| JobBodyError::Json {
            details: e.to_string(),
        })?;
        Self::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<JobSpec, JobBodyError> {
        let mut violations = unsupported(&value);
        if !violations.is_empty() {
            violations.sort_by(|a, b| a.path.cmp(&b.path));
            return Err(JobBodyError::Invalid(violations));
        }
        let spec: JobSpec = typed(value)?;
        let violations = spec.validate();
        if violations.is_empty() {
            Ok(spec)
        } else {
            Err(JobBodyError::Invalid(violations))
        }
    }

    pub fn validate(&self) -> Vec<Violation> {
        let mut out = Vec::new();
        if !job_id_pattern().is_match(&self.id) {
            out.push(Violation::new("/id", job_id_error(&self.id)));
        }
        let run = &self.run;
        let has_cmd = run.cmd.as_ref().is_some_and(|c| !c.trim().is_empty());
        let has_args = run.args.as_ref().is_some_and(|a| !a.is_empty());
        if !has_cmd && !has_args && run.docker.is_none() {
            out.push(Violation::new(
                "/run",
                "Cmd, Docker or UCR image must be specified",
            ));
        }
        if has_cmd && has_args {
            out.push(Violation::new(
                "/run",
                "Only one of cmd and args may be given",
            ));
        }
        for (key, value, min) in [("cpus", run.cpus, 0.01), ("mem", run.mem, 32.0)] {
            if value < min {
                out.push(Violation::new(
                    format!("/run/{key}"),
                    format!("{value} is smaller than required minimum value of {min}."),
                ));
            }
        }
        if run.max_launch_delay < 1 {
            out.push(Violation::new(
                "/run/maxLaunchDelay",
                "0 is smaller than required minimum value of 1.",
            ));
        }
        if run.disk < 0.0 {
            out.push(Violation::new(
                "/run/disk",
                format!("{} is smaller than required minimum value of 0.", run.disk),
            ));
        }
        if let Some(docker) = &run.docker {
            if docker.image.trim().is_empty() {
                out.push(Violation::new("/run/docker/image", "error.minLength"));
            }
        }
        for (i, constraint) in run.placement.constraints.iter().enumerate() {
            let path = format!("/run/placement/constraints({i})");
            if !matches!(
                constraint.operator.as_str(),
                "EQ" | "IS" | "LIKE" | "UNLIKE"
            ) {
                out.push(Violation::new(
                    format!("{path}/operator"),
                    format!(
                        "Constraint operator must be one of EQ, IS, LIKE, UNLIKE, got {}",
                        constraint.operator
                    ),
                ));
            } else if let Err(message) =
                crate::validate::check_constraint(&constraint.to_marathon())
            {
                out.push(Violation::new(path, message));
            }
        }
        for (i, volume) in run.volumes.iter().enumerate() {
            let json = serde_json::json!({"containerPath": volume.container_path,
                "hostPath": volume.host_path, "mode": volume.mode});
            if let Err(message) = crate::volume::Volume::from_json(&json) {
                out.push(Violation::new(format!("/run/volumes({i})"), message));
            }
        }
        for (i, artifact) in run.artifacts.iter().enumerate() {
            if artifact.uri.trim().is_empty() {
                out.push(Violation::new(
                    format!("/run/artifacts({i})/uri"),
                    "error.minLength",
                ));
            }
        }
        out
    }
}

/// Keys Metronome's schema knows but this cluster cannot honour unless empty, and keys it does
/// not know at all (Metronome refuses those too).
fn unsupported(value: &Value) -> Vec<Violation> {
    const TOP: [&str; 6] = [
        "id",
        "description",
        "labels",
        "run",
        "schedules",
        "dependencies",
    ];
    const RUN: [&str; 18] = [
        "artifacts",
        "cmd",
        "args",
        "cpus",
        "mem",
        "disk",
        "gpus",
        "docker",
        "env",
        "maxLaunchDelay",
        "placement",
        "restart",
        "user",
        "volumes",
        "secrets",
        "networks",
        "taskKillGracePeriodSeconds",
        "ucr",
    ];
    let mut out = Vec::new();
    let Some(object) = value.as_object() else {
        return out;
    };
    let extra = |object: &serde_json::Map<String, Value>, known: &[&str]| -> Option<String> {
        let extra: Vec<String> = object
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .map(|k| format!("'{k}'"))
            .collect();
        (!extra.is_empty()).then(|| {
            format!(
                "Additional properties are not allowed, but found properties {}.",
                extra.join(", ")
            )
        })
    };
    if let Some(message) = extra(object, &TOP) {
        out.push(Violation::new("", message));
    }
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    };
    if object.get("dependencies").is_some_and(|d| !empty(d)) {
        out.push(Violation::new(
            "/dependencies",
            "job dependencies are not supported on this cluster",
        ));
    }
    if let Some(run) = object.get("run").and_then(Value::as_object) {
        if let Some(message) = extra(run, &RUN) {
            out.push(Violation::new("/run", message));
        }
        for key in ["gpus", "secrets", "networks"] {
            if run.get(key).is_some_and(|v| !empty(v)) {
                out.push(Violation::new(
                    format!("/run/{key}"),
                    format!("{key} are not supported on this cluster"),
                ));
            }
        }
        if run.get("ucr").is_some_and(|v| !v.is_null()) {
            out.push(Violation::new(
                "/run/ucr",
                "the Universal Container Runtime is not supported on this cluster: use docker",
            ));
        }
        if let Some(env) = run.get("env").and_then(Value::as_object) {
            for (name, value) in env {
                if !value.is_string() {
                    out.push(Violation::new(
                        format!("/run/env/{name}"),
                        "secret references are not supported on this cluster: give a string",
                    ));
                }
            }
        }
    }
    out
}

/// What is wrong with a request body: not JSON (400), or JSON Metronome would refuse (422).
#[derive(Debug, Clone, PartialEq)]
pub enum JobBodyError {
    Json { details: String },
    Invalid(Vec<Violation>),
}

/// Deserialises `value` as `T`; a field of the wrong type is a violation at its JSON path.
pub fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, JobBodyError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = json_pointer(&error.path().to_string());
        let inner = error.inner().to_string();
        // Metronome's schema validator's wording for a missing property.
        let message = match inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
        {
            Some((field, _)) => format!("Property {field} missing."),
            None => inner,
        };
        JobBodyError::Invalid(vec![Violation::new(path, message)])
    })
}

/// serde_path_to_error's `run.env.A` / `a[0]` → Metronome's `/run/env/A` / `/a(0)`.
fn json_pointer(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    let mut out = String::new();
    for part in path.split('.') {
        out.push('/');
        match part.split_once('[') {
            Some((name, index)) => {
                out.push_str(name);
                out.push('(');
                out.push_str(index.trim_end_matches(']'));
                out.push(')');
            }
            None => out.push_str(part),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_metronomes() {
        let spec = JobSpec::from_value(
            json!({"id": "prod.backup", "run": {"cmd": "true", "cpus": 0.1, "mem": 32, "disk": 0}}),
        )
        .expect("valid");
        assert_eq!(spec.run.max_launch_delay, 3600);
        assert_eq!(spec.run.restart.policy, RestartPolicy::Never);
        let out = serde_json::to_value(&spec).expect("json");
        assert_eq!(out["run"]["restart"], json!({"policy": "NEVER"}));
        assert_eq!(out["run"]["placement"], json!({"constraints": []}));
    }

    #[test]
    fn bad_ids_and_types_name_their_paths() {
        let invalid = |body: Value| match JobSpec::from_value(body) {
            Err(JobBodyError::Invalid(v)) => v,
            other => panic!("accepted: {other:?}"),
        };
        let run = json!({"cmd": "true", "cpus": 1, "mem": 64, "disk": 0});
        assert_eq!(
            invalid(json!({"id": "Prod_Backup", "run": run})),
            vec![Violation::new("/id", job_id_error("Prod_Backup"))]
        );
        let mut text_cpus = run.clone();
        text_cpus["cpus"] = json!("lots");
        assert_eq!(
            invalid(json!({"id": "a", "run": text_cpus}))[0].path,
            "/run/cpus"
        );
        let missing = invalid(json!({"id": "a", "run": {"cmd": "true", "cpus": 1, "mem": 64}}));
        assert_eq!(
            missing,
            vec![Violation::new("/run", "Property disk missing.")]
        );
        let mut near = run.clone();
        near["placement"] =
            json!({"constraints": [{"attribute": "rack", "operator": "NEAR", "value": "x"}]});
        assert_eq!(
            invalid(json!({"id": "a", "run": near}))[0].path,
            "/run/placement/constraints(0)/operator"
        );
        let unknown = invalid(json!({"id": "a", "run": run, "colour": "red"}));
        assert_eq!(
            unknown,
            vec![Violation::new(
                "",
                "Additional properties are not allowed, but found properties 'colour'."
            )]
        );
    }

    #[test]
    fn eq_is_marathons_is() {
        let c = JobConstraint {
            attribute: "rack".into(),
            operator: "EQ".into(),
            value: Some("r1".into()),
        };
        assert_eq!(c.to_marathon(), vec!["rack", "IS", "r1"]);
    }
}
