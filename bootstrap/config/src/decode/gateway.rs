//! Decode the `gateway:` section; each user and account is checked where it is written, so a
//! bad hash or key names its line.
use std::path::PathBuf;

use super::Decoder;
use crate::gateway::{self, Gateway, GatewayServiceAccount, GatewayUser};
use crate::yaml::Node;

const KEYS: &[&str] = &[
    "https_port",
    "http_port",
    "token_ttl_hours",
    "users",
    "service_accounts",
    "tls_cert",
    "tls_key",
];
const HINTS: &[(&str, &str)] = &[
    ("port", "https_port"),
    ("certificate", "tls_cert"),
    ("key", "tls_key"),
];

/// Checked text, or the error reported at the node.
fn checked(
    d: &mut Decoder,
    node: &Node,
    path: &str,
    check: fn(&str) -> Result<(), String>,
) -> Option<String> {
    let text = d.string(node, path)?;
    match check(&text) {
        Ok(()) => Some(text),
        Err(message) => {
            d.error(node.mark, path, message);
            None
        }
    }
}

pub(crate) fn decode(d: &mut Decoder, node: &Node, key: &str) -> Gateway {
    let mut out = Gateway::default();
    let Some(f) = d.fields(node, key, KEYS, HINTS) else {
        return out;
    };
    if let Some(port) = f
        .get("https_port")
        .and_then(|n| d.number(n, &f.path("https_port"), 1, 65535))
    {
        out.https_port = port as u16;
    }
    if let Some(port) = f
        .get("http_port")
        .and_then(|n| d.number(n, &f.path("http_port"), 0, 65535))
    {
        out.http_port = port as u16;
    }
    if let Some(hours) = f
        .get("token_ttl_hours")
        .and_then(|n| d.number(n, &f.path("token_ttl_hours"), 1, 24 * 365))
    {
        out.token_ttl_hours = hours;
    }
    if let Some(items) = f.get("users").and_then(|n| d.list(n, &f.path("users"))) {
        for (i, item) in items.iter().enumerate() {
            let path = format!("{}[{i}]", f.path("users"));
            let Some(u) = d.fields(
                item,
                &path,
                &["name", "password_hash"],
                &[("password", "password_hash")],
            ) else {
                continue;
            };
            let name = d
                .require(&u, "name")
                .and_then(|n| checked(d, n, &u.path("name"), gateway::account_name));
            let hash = d
                .require(&u, "password_hash")
                .and_then(|n| checked(d, n, &u.path("password_hash"), gateway::password_hash));
            if let (Some(name), Some(password_hash)) = (name, hash) {
                if out.users.iter().any(|u| u.name == name) {
                    d.error(item.mark, &path, format!("user {name:?} is listed twice"));
                    continue;
                }
                out.users.push(GatewayUser {
                    name,
                    password_hash,
                });
            }
        }
    }
    if let Some(items) = f
        .get("service_accounts")
        .and_then(|n| d.list(n, &f.path("service_accounts")))
    {
        for (i, item) in items.iter().enumerate() {
            let path = format!("{}[{i}]", f.path("service_accounts"));
            let Some(a) = d.fields(item, &path, &["name", "public_key"], &[]) else {
                continue;
            };
            let name = d
                .require(&a, "name")
                .and_then(|n| checked(d, n, &a.path("name"), gateway::account_name));
            let key = d
                .require(&a, "public_key")
                .and_then(|n| checked(d, n, &a.path("public_key"), gateway::public_key));
            if let (Some(name), Some(public_key)) = (name, key) {
                if out.users.iter().any(|u| u.name == name)
                    || out.service_accounts.iter().any(|a| a.name == name)
                {
                    d.error(
                        item.mark,
                        &path,
                        format!("account {name:?} is listed twice"),
                    );
                    continue;
                }
                out.service_accounts
                    .push(GatewayServiceAccount { name, public_key });
            }
        }
    }
    out.tls_cert = f
        .get("tls_cert")
        .and_then(|n| d.string(n, &f.path("tls_cert")))
        .map(PathBuf::from);
    out.tls_key = f
        .get("tls_key")
        .and_then(|n| d.string(n, &f.path("tls_key")))
        .map(PathBuf::from);
    if out.tls_cert.is_some() != out.tls_key.is_some() {
        let missing = if out.tls_cert.is_some() {
            "tls_key"
        } else {
            "tls_cert"
        };
        d.error(
            f.mark,
            &f.path(missing),
            "tls_cert and tls_key go together: set both or neither",
        );
    }
    out
}
