//! Decode host lists: each item a bare address or a mapping.
use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Decoder;
use crate::yaml::{Node, Value};
use crate::Host;

const KEYS: &[&str] = &["address", "port", "user", "key_path", "labels", "hostname"];
const HINTS: &[(&str, &str)] = &[("host", "address"), ("ip", "address"), ("ssh_port", "port")];

pub(crate) fn hosts(d: &mut Decoder, node: &Node, key: &str) -> Vec<Host> {
    let Some(items) = d.list(node, key) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_key = format!("{key}[{i}]");
        d.positions.insert(&item_key, item.mark);
        if let Some(h) = host(d, item, &item_key) {
            out.push(h);
        }
    }
    out
}

fn host(d: &mut Decoder, node: &Node, key: &str) -> Option<Host> {
    if let Value::Str { text, .. } = &node.value {
        return Some(Host::new(text.clone()));
    }
    if !matches!(node.value, Value::Map(_)) {
        d.error(
            node.mark,
            key,
            format!(
                "expected an address or a mapping with `address`, found {}",
                node.value.kind()
            ),
        );
        return None;
    }
    let f = d.fields(node, key, KEYS, HINTS)?;
    let address = d
        .require(&f, "address")
        .and_then(|n| d.string(n, &f.path("address")))?;
    let port = f
        .get("port")
        .and_then(|n| d.number(n, &f.path("port"), 1, 65535))
        .map(|p| p as u16);
    let user = f.get("user").and_then(|n| d.string(n, &f.path("user")));
    let key_path = f
        .get("key_path")
        .and_then(|n| d.string(n, &f.path("key_path")))
        .map(PathBuf::from);
    let labels = f
        .get("labels")
        .map(|n| labels(d, n, &f.path("labels")))
        .unwrap_or_default();
    let hostname = f
        .get("hostname")
        .and_then(|n| d.string(n, &f.path("hostname")));
    Some(Host {
        address,
        port,
        user,
        key_path,
        labels,
        hostname,
    })
}

fn labels(d: &mut Decoder, node: &Node, key: &str) -> BTreeMap<String, String> {
    let Value::Map(entries) = &node.value else {
        d.error(
            node.mark,
            key,
            format!("expected a mapping of labels, found {}", node.value.kind()),
        );
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for entry in entries {
        let label_key = format!("{key}.{}", entry.key);
        if out.contains_key(&entry.key) {
            d.error(entry.key_mark, &label_key, "duplicate key");
        } else if let Some(value) = d.string(&entry.value, &label_key) {
            out.insert(entry.key.clone(), value);
        }
    }
    out
}
