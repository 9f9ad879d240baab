//! Turn a positioned YAML tree into the typed model by hand, so that one pass reports every unknown
//! key, duplicate key, wrong type and null (serde's `deny_unknown_fields` stops at the first).
//! Values that fail to decode fall back to their defaults, so later checks still run.
mod cloud;
mod cluster;
mod gateway;
mod host;
mod sections;

pub(crate) use cluster::cluster;
pub(crate) use sections::one_of;

use std::collections::HashMap;

use crate::diagnostic::{Mark, Sink};
use crate::yaml::{Entry, Node, Value};

/// Where each decoded key path's value sits in the file, for semantic checks that run later.
#[derive(Debug, Clone, Default)]
pub struct Positions(HashMap<String, Mark>);

impl Positions {
    pub(crate) fn insert(&mut self, key: &str, mark: Mark) {
        self.0.insert(key.to_string(), mark);
    }

    /// The position of `key`, or of its nearest parent that has one (`masters[2].port` →
    /// `masters[2]` → `masters`).
    pub fn find(&self, key: &str) -> Option<Mark> {
        let mut key = key;
        loop {
            if let Some(mark) = self.0.get(key) {
                return Some(*mark);
            }
            if key.is_empty() {
                return None;
            }
            key = key.rfind(['.', '[']).map_or("", |cut| &key[..cut]);
        }
    }
}

pub(crate) struct Decoder<'s> {
    pub(crate) sink: &'s mut Sink,
    pub(crate) positions: Positions,
}

/// The keys of one mapping, after unknown and duplicate keys were reported.
pub(crate) struct Fields<'n> {
    pub(crate) mark: Mark,
    pub(crate) path: String,
    entries: Vec<&'n Entry>,
}

impl<'n> Fields<'n> {
    pub(crate) fn get(&self, name: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|e| e.key == name)
            .map(|e| &e.value)
    }

    pub(crate) fn path(&self, name: &str) -> String {
        join(&self.path, name)
    }
}

pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

impl<'s> Decoder<'s> {
    pub(crate) fn new(sink: &'s mut Sink) -> Self {
        Decoder {
            sink,
            positions: Positions::default(),
        }
    }

    pub(crate) fn error(&mut self, mark: Mark, key: &str, message: impl Into<String>) {
        self.sink.error(Some(mark), key, message);
    }

    fn wrong_type(&mut self, node: &Node, key: &str, expected: &str) {
        let found = node.value.kind();
        let shown = node
            .value
            .scalar_text()
            .map(|t| format!(" `{t}`"))
            .unwrap_or_default();
        let hint = match (&node.value, expected) {
            (Value::Int(_) | Value::Float(_) | Value::Bool(_), "a string") => {
                format!(
                    "; quote it: \"{}\"",
                    node.value.scalar_text().unwrap_or_default()
                )
            }
            (Value::Str { text, .. }, "true or false")
                if matches!(text.as_str(), "yes" | "no" | "on" | "off" | "Yes" | "No") =>
            {
                "; YAML 1.2 reads `yes`/`no` as text, write true or false".to_string()
            }
            _ => String::new(),
        };
        self.error(
            node.mark,
            key,
            format!("expected {expected}, found {found}{shown}{hint}"),
        );
    }

    /// A mapping whose keys must be among `allowed`; `hints` suggest where a misplaced key belongs.
    pub(crate) fn fields<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        allowed: &[&str],
        hints: &[(&str, &str)],
    ) -> Option<Fields<'n>> {
        self.positions.insert(path, node.mark);
        let Value::Map(all) = &node.value else {
            self.wrong_type(node, path, "a mapping");
            return None;
        };
        let mut entries: Vec<&Entry> = Vec::new();
        for entry in all {
            let key_path = join(path, &entry.key);
            if let Some(first) = entries.iter().find(|e| e.key == entry.key) {
                let line = first.key_mark.line;
                self.error(
                    entry.key_mark,
                    &key_path,
                    format!("duplicate key (first set on line {line})"),
                );
            } else if allowed.contains(&entry.key.as_str()) {
                self.positions.insert(&key_path, entry.value.mark);
                entries.push(entry);
            } else {
                let message = unknown_key_message(&entry.key, allowed, hints);
                self.error(entry.key_mark, &key_path, message);
            }
        }
        Some(Fields {
            mark: node.mark,
            path: path.to_string(),
            entries,
        })
    }

    /// The value of a key that must be present.
    pub(crate) fn require<'n>(&mut self, fields: &Fields<'n>, name: &str) -> Option<&'n Node> {
        let found = fields.get(name);
        if found.is_none() {
            self.error(fields.mark, &fields.path(name), "missing required key");
        }
        found
    }

    pub(crate) fn string(&mut self, node: &Node, key: &str) -> Option<String> {
        match &node.value {
            Value::Str { text, .. } => Some(text.clone()),
            _ => {
                self.wrong_type(node, key, "a string");
                None
            }
        }
    }

    pub(crate) fn boolean(&mut self, node: &Node, key: &str) -> Option<bool> {
        match &node.value {
            Value::Bool(b) => Some(*b),
            _ => {
                self.wrong_type(node, key, "true or false");
                None
            }
        }
    }

    /// A whole number within `min..=max`.
    pub(crate) fn number(&mut self, node: &Node, key: &str, min: u64, max: u64) -> Option<u64> {
        match &node.value {
            Value::Int(i) if (min as i128..=max as i128).contains(&(*i as i128)) => Some(*i as u64),
            Value::Int(i) => {
                self.error(
                    node.mark,
                    key,
                    format!("must be between {min} and {max}, got {i}"),
                );
                None
            }
            _ => {
                self.wrong_type(node, key, "a whole number");
                None
            }
        }
    }

    pub(crate) fn list<'n>(&mut self, node: &'n Node, key: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            _ => {
                self.wrong_type(node, key, "a list");
                None
            }
        }
    }

    /// A list of strings; bad items are reported and skipped.
    pub(crate) fn strings(&mut self, node: &Node, key: &str) -> Option<Vec<String>> {
        let items = self.list(node, key)?;
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_key = format!("{key}[{i}]");
            self.positions.insert(&item_key, item.mark);
            if let Some(s) = self.string(item, &item_key) {
                out.push(s);
            }
        }
        Some(out)
    }
}

/// "unknown key `x`", with the closest allowed key when one is close enough.
pub(crate) fn unknown_key_message(key: &str, allowed: &[&str], hints: &[(&str, &str)]) -> String {
    if let Some((_, to)) = hints.iter().find(|(from, _)| *from == key) {
        let dcos = crate::dcos::keys::is_dcos_key(key);
        let tail = if dcos {
            " (a DC/OS config.yaml? convert it with `strato config import-dcos`)"
        } else {
            ""
        };
        return format!("unknown key `{key}`; did you mean `{to}`?{tail}");
    }
    match closest(key, allowed.iter().copied()) {
        Some(best) => format!("unknown key `{key}`; did you mean `{best}`?"),
        None => format!(
            "unknown key `{key}` (expected one of: {})",
            allowed.join(", ")
        ),
    }
}

/// The candidate nearest to `word` by edit distance, if it is a plausible typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(distance, c)| *distance <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_but_not_strangers() {
        let keys = ["masters", "agents", "public_agents"];
        assert_eq!(closest("agnets", keys.iter().copied()), Some("agents"));
        assert_eq!(closest("master", keys.iter().copied()), Some("masters"));
        assert_eq!(
            closest("public-agents", keys.iter().copied()),
            Some("public_agents")
        );
        assert_eq!(closest("zookeeper", keys.iter().copied()), None);
    }

    #[test]
    fn positions_fall_back_to_the_parent() {
        let mut p = Positions::default();
        p.insert("masters", Mark { line: 3, column: 1 });
        p.insert("masters[1]", Mark { line: 5, column: 5 });
        assert_eq!(p.find("masters[1].port"), Some(Mark { line: 5, column: 5 }));
        assert_eq!(p.find("masters[7]"), Some(Mark { line: 3, column: 1 }));
        assert_eq!(p.find("agents"), None);
        p.insert("", Mark::START);
        assert_eq!(p.find("agents"), Some(Mark::START));
    }
}
