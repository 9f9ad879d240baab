//! A YAML tree that remembers where every node and key came from.
//!
//! serde_yaml stops at the first error and forgets positions, so `strato validate` could neither
//! report every problem in one pass nor name a line for a semantic error (an address listed twice).
//! We therefore build our own small tree from yaml-rust2's marked event stream (YAML 1.2, pure
//! Rust, no C), keeping duplicate keys so they can be reported instead of silently overwritten,
//! and decode the typed model from it by hand (`crate::decode`).
mod parse;
mod scalar;

pub use parse::{parse, ParseError};

use crate::diagnostic::Mark;

/// A node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub mark: Mark,
}

/// A resolved YAML value (YAML 1.2 core schema for plain scalars; quoted scalars are strings).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// `quoted` is true for quoted and block scalars: DC/OS's YAML 1.1 reading turns a plain `yes`
    /// into a boolean but never a quoted one, so the DC/OS import needs to know.
    Str {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// Entries in file order, duplicates kept.
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_mark: Mark,
    pub value: Node,
}

impl Value {
    /// What a user calls this kind of value, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null (an empty value)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a decimal number",
            Value::Str { .. } => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The scalar as text (numbers and booleans as YAML would print them), or `None` for
    /// collections and null.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(x) => Some(format!("{x:?}")),
            Value::Str { text, .. } => Some(text.clone()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }
}

/// Parse one document straight into JSON values (later duplicate keys win), for callers that
/// compare documents rather than decode them (installer/cloud/src/hosts_yaml.rs).
pub fn to_json(text: &str) -> Result<serde_json::Value, ParseError> {
    parse(text).map(|node| node.to_json())
}

impl Node {
    /// Convert to JSON (for schema checks and for DC/OS's "every value is a string" view);
    /// later duplicate keys win, as in most YAML loaders.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
            Value::Str { text, .. } => J::String(text.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}
