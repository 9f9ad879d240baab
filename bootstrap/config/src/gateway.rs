//! [`Gateway`]: the `gateway:` section, the Admin Router every master runs (`runtime/gateway`):
//! its ports, who may log in, and optionally the operator's own certificate.
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `gateway:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Gateway {
    /// HTTPS port on every master. Default 443.
    pub https_port: u16,
    /// Plain HTTP port that redirects to HTTPS (health answers there too); 0 turns it off.
    /// Default 80.
    pub http_port: u16,
    /// Hours a login's token lasts. Default 120 (DC/OS's five days).
    pub token_ttl_hours: u64,
    /// Users who log in with a password: `strato passwd` prints the hash to paste here.
    pub users: Vec<GatewayUser>,
    /// Accounts that log in with a JWT signed by their private key (DC/OS's service login).
    pub service_accounts: Vec<GatewayServiceAccount>,
    /// A certificate (PEM chain) for the gateway instead of the one the cluster CA issues each
    /// master; relative paths are relative to cluster.yaml. Set with `tls_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// The key of `tls_cert` (PEM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
}

impl Default for Gateway {
    fn default() -> Self {
        Self {
            https_port: 443,
            http_port: 80,
            token_ttl_hours: 120,
            users: Vec::new(),
            service_accounts: Vec::new(),
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl Gateway {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// One user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayUser {
    pub name: String,
    /// An argon2 hash in PHC form (`$argon2id$v=19$…`), as `strato passwd` prints it.
    pub password_hash: String,
}

// The hash stays out of logs and error output.
impl std::fmt::Debug for GatewayUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayUser")
            .field("name", &self.name)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// One service account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayServiceAccount {
    pub name: String,
    /// The account's public key, PEM (RSA, EC P-256 or Ed25519).
    pub public_key: String,
}

/// A user or account name: what DC/OS accepted (letters, digits, `-`, `_`, `.`, `@`), 1–64.
pub fn account_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not an account name: 1 to 64 letters, digits, '-', '_', '.' or '@'"
        ))
    }
}

/// The shape of an argon2 PHC string (the master parses it fully when it starts).
pub fn password_hash(hash: &str) -> Result<(), String> {
    let parts: Vec<&str> = hash.split('$').collect();
    let ok = parts.len() >= 5
        && parts[0].is_empty()
        && matches!(parts[1], "argon2id" | "argon2i" | "argon2d")
        && parts.iter().skip(1).all(|p| !p.is_empty());
    if ok {
        Ok(())
    } else {
        Err(
            "not an argon2 password hash ($argon2id$v=19$m=…$salt$hash): run `strato passwd` \
             and paste what it prints"
                .into(),
        )
    }
}

/// A PEM public key block.
pub fn public_key(pem: &str) -> Result<(), String> {
    let text = pem.trim();
    let ok = (text.starts_with("-----BEGIN PUBLIC KEY-----")
        && text.ends_with("-----END PUBLIC KEY-----"))
        || (text.starts_with("-----BEGIN RSA PUBLIC KEY-----")
            && text.ends_with("-----END RSA PUBLIC KEY-----"));
    if ok {
        Ok(())
    } else {
        Err("not a PEM public key (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hashes_and_keys_are_checked_for_shape() {
        assert!(account_name("ops-admin@example.com").is_ok());
        assert!(account_name("").is_err());
        assert!(account_name("a b").is_err());
        assert!(password_hash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").is_ok());
        assert!(password_hash("hunter2").is_err());
        assert!(password_hash("$2b$12$abcdefghijk").is_err());
        assert!(public_key("-----BEGIN PUBLIC KEY-----\nMCow\n-----END PUBLIC KEY-----\n").is_ok());
        assert!(public_key("ssh-ed25519 AAAA").is_err());
        let user = GatewayUser {
            name: "a".into(),
            password_hash: "$argon2id$secret".into(),
        };
        assert!(!format!("{user:?}").contains("secret"));
    }
}
