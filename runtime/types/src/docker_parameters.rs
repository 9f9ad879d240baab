//! Marathon's `docker.parameters`: `[{"key": "cap-drop", "value": "ALL"}, ...]`, Docker CLI flags
//! Mesos passed to `docker run`. Strato's agents talk to the engine's API, so only the flags in
//! `strato_proto::DOCKER_PARAMETERS` have a meaning, each checked here; which of them a cluster
//! allows is the master's to say (`runtime/master/src/changes.rs`).

use serde_json::Value;
use strato_proto::DOCKER_PARAMETERS;

use crate::validate::Violation;

const PATH: &str = "/container/docker/parameters";

/// The parameters as (key, value), or what is wrong with each.
pub fn parse(parameters: &[Value]) -> Result<Vec<(String, String)>, Vec<Violation>> {
    let mut out = Vec::new();
    let mut wrong = Vec::new();
    for (i, parameter) in parameters.iter().enumerate() {
        let at = format!("{PATH}({i})");
        let (Some(key), Some(value)) = (
            parameter.get("key").and_then(Value::as_str),
            parameter.get("value").and_then(Value::as_str),
        ) else {
            wrong.push(Violation::new(
                at,
                "expected {\"key\": string, \"value\": string}",
            ));
            continue;
        };
        if !DOCKER_PARAMETERS.contains(&key) {
            wrong.push(Violation::new(
                format!("{at}/key"),
                format!(
                    "'{key}' is not a Docker parameter Strato passes to the engine (it can: {})",
                    DOCKER_PARAMETERS.join(", ")
                ),
            ));
            continue;
        }
        if let Err(why) = check(key, value) {
            wrong.push(Violation::new(format!("{at}/value"), why));
            continue;
        }
        out.push((key.to_string(), value.to_string()));
    }
    if wrong.is_empty() {
        Ok(out)
    } else {
        Err(wrong)
    }
}

fn check(key: &str, value: &str) -> Result<(), String> {
    let non_empty = |v: &str| {
        if v.trim().is_empty() {
            Err("must not be empty".to_string())
        } else {
            Ok(())
        }
    };
    match key {
        "label" | "env" => match value.split_once('=') {
            Some((name, _)) if !name.is_empty() => Ok(()),
            _ => Err(format!("expected NAME=VALUE, got '{value}'")),
        },
        "shm-size" => size_bytes(value)
            .map(|_| ())
            .ok_or_else(|| format!("expected a size such as 64m or 1g, got '{value}'")),
        "ulimit" => ulimit(value)
            .map(|_| ())
            .ok_or_else(|| format!("expected NAME=SOFT[:HARD], got '{value}'")),
        _ => non_empty(value),
    }
}

/// `64m`, `1g`, `512k`, `1048576` → bytes.
pub fn size_bytes(value: &str) -> Option<i64> {
    let value = value.trim().to_ascii_lowercase();
    let (digits, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value.as_str(), ""),
    };
    let n: i64 = digits.parse().ok()?;
    let factor = match unit.trim_end_matches('b') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// `nofile=1024:2048` → (name, soft, hard); a single number is both.
pub fn ulimit(value: &str) -> Option<(String, i64, i64)> {
    let (name, limits) = value.split_once('=')?;
    let (soft, hard) = limits.split_once(':').unwrap_or((limits, limits));
    let (soft, hard) = (soft.parse().ok()?, hard.parse().ok()?);
    (!name.is_empty() && soft <= hard).then(|| (name.to_string(), soft, hard))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_parameters_parse_and_others_are_named() {
        let ok = parse(&[
            json!({"key": "label", "value": "team=web"}),
            json!({"key": "cap-drop", "value": "ALL"}),
            json!({"key": "shm-size", "value": "64m"}),
            json!({"key": "ulimit", "value": "nofile=1024:2048"}),
        ])
        .expect("valid");
        assert_eq!(ok[0], ("label".to_string(), "team=web".to_string()));
        assert_eq!(size_bytes("64m"), Some(64 << 20));
        assert_eq!(
            ulimit("nofile=1024:2048"),
            Some(("nofile".into(), 1024, 2048))
        );
        let wrong = parse(&[
            json!({"key": "volume-driver", "value": "x"}),
            json!({"key": "label", "value": "no-equals"}),
            json!({"key": "ulimit", "value": "nofile=9:1"}),
            json!("cap-add=ALL"),
        ])
        .expect_err("invalid");
        let paths: Vec<&str> = wrong.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/container/docker/parameters(0)/key",
                "/container/docker/parameters(1)/value",
                "/container/docker/parameters(2)/value",
                "/container/docker/parameters(3)",
            ]
        );
    }
}
