//! DC/OS's view of a value: PyYAML (YAML 1.1) loads it, then every value becomes a string
//! (lists and mappings as JSON, booleans as `true`/`false`). Null and floats crash DC/OS 1.13.
use crate::yaml::{Node, Value};

/// The string DC/OS would see, or why DC/OS cannot use the value.
pub(super) fn stringify(node: &Node) -> Result<String, String> {
    match &node.value {
        Value::Null => Err("Invalid type for value: null (an empty value). DC/OS 1.13 crashes on it; give a value or remove the key".into()),
        Value::Float(x) => Err(format!("Invalid type for value: {x:?} is a float. DC/OS 1.13 crashes on it; quote it")),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Str { text, quoted: false } => Ok(yaml11_bool(text).map_or_else(|| text.clone(), str::to_string)),
        Value::Str { text, .. } => Ok(text.clone()),
        Value::Seq(_) | Value::Map(_) => Ok(node.to_json().to_string()),
    }
}

/// PyYAML reads these plain words as booleans (YAML 1.1), so `enable_ipv6: yes` is `true` to DC/OS.
fn yaml11_bool(text: &str) -> Option<&'static str> {
    match text {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some("true"),
        "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some("false"),
        _ => None,
    }
}

/// A list parameter: DC/OS parses the string form as JSON and wants a list of strings.
pub(super) fn string_list(text: &str) -> Result<Vec<String>, String> {
    let parsed: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!("Must be a JSON formatted list, but couldn't be parsed the given value `{text}` as one because of: {e}")
    })?;
    let serde_json::Value::Array(items) = parsed else {
        return Err(format!(
            "Must be a JSON formatted list, but couldn't be parsed the given value `{text}` as one"
        ));
    };
    items
        .into_iter()
        .map(|item| match item {
            serde_json::Value::String(s) => Ok(s),
            other => Err(format!("Items in list must be strings, got {other}")),
        })
        .collect()
}
