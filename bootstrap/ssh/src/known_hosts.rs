//! Host key pinning. We keep no `known_hosts` file: the caller (the deploy engine) stores each
//! host's fingerprint in the cluster state and passes it back in on the next connect. DC/OS ran
//! ssh with `StrictHostKeyChecking=no` (docs/dcos-installer-notes.md §SSH fan-out); here a
//! changed key is a hard error.

use std::fmt;
use std::str::FromStr;

use russh::keys::{HashAlg, PublicKey};

/// A host key fingerprint in OpenSSH's format, `SHA256:<base64 without padding>` — the string
/// `ssh-keygen -lf` prints, so an operator can compare it with the server by eye.
/// Serialised as that string, so it can be stored in the cluster state as is.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

impl TryFrom<String> for Fingerprint {
    type Error = InvalidFingerprint;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.0
    }
}

impl Fingerprint {
    /// The SHA-256 fingerprint of a public key.
    pub(crate) fn of(key: &PublicKey) -> Self {
        Fingerprint(key.fingerprint(HashAlg::Sha256).to_string())
    }

    /// The `SHA256:…` text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A string that is not an OpenSSH SHA-256 fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid host key fingerprint {0:?}: expected SHA256: followed by 43 base64 characters")]
pub struct InvalidFingerprint(pub String);

impl FromStr for Fingerprint {
    type Err = InvalidFingerprint;

    /// Accepts exactly what [`Fingerprint::of`] produces (and `ssh-keygen -lf` prints).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let body = s
            .strip_prefix("SHA256:")
            .ok_or_else(|| InvalidFingerprint(s.to_string()))?;
        let base64_char = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
        if body.len() != 43 || !body.chars().all(base64_char) {
            return Err(InvalidFingerprint(s.to_string()));
        }
        Ok(Fingerprint(s.to_string()))
    }
}

/// An OpenSSH `known_hosts` file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the host keys in {path}: {message}")]
pub struct KnownHostsFileError {
    pub path: std::path::PathBuf,
    pub message: String,
}

/// The fingerprints an OpenSSH `known_hosts` file records for `host` on `port` (plain and
/// hashed entries, `[host]:port` for other ports). A missing file records none.
pub fn openssh_known_fingerprints(
    host: &str,
    port: u16,
    path: &std::path::Path,
) -> Result<Vec<Fingerprint>, KnownHostsFileError> {
    let keys = russh::keys::known_hosts::known_host_keys_path(host, port, path).map_err(|e| {
        KnownHostsFileError {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })?;
    Ok(keys.iter().map(|(_, key)| Fingerprint::of(key)).collect())
}

/// How to treat the key a server presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyPolicy {
    /// Nothing pinned yet: accept the key and report it through
    /// [`Session::host_key`](crate::Session::host_key) so the caller pins it.
    TrustOnFirstUse,
    /// The key must match one of these (several allow for a planned key rotation); anything
    /// else is [`SshError::HostKeyChanged`](crate::SshError::HostKeyChanged).
    Pinned(Vec<Fingerprint>),
    /// Accept any key and pin nothing. Only for throwaway test hosts.
    InsecureAcceptAny,
}

impl HostKeyPolicy {
    /// TOFU when `pinned` is `None`, otherwise pinned to that fingerprint: the usual call with
    /// the value read from the cluster state.
    pub fn from_pinned(pinned: Option<Fingerprint>) -> Self {
        match pinned {
            Some(fp) => HostKeyPolicy::Pinned(vec![fp]),
            None => HostKeyPolicy::TrustOnFirstUse,
        }
    }

    /// Decide on a presented key. Pure, so the rule is unit-tested without a server.
    pub fn verdict(&self, actual: &Fingerprint) -> HostKeyVerdict {
        match self {
            HostKeyPolicy::TrustOnFirstUse => HostKeyVerdict::FirstUse,
            HostKeyPolicy::InsecureAcceptAny => HostKeyVerdict::FirstUse,
            HostKeyPolicy::Pinned(pins) if pins.is_empty() => HostKeyVerdict::Unknown,
            HostKeyPolicy::Pinned(pins) if pins.contains(actual) => HostKeyVerdict::Matches,
            HostKeyPolicy::Pinned(pins) => HostKeyVerdict::Changed {
                expected: pins
                    .iter()
                    .map(Fingerprint::as_str)
                    .collect::<Vec<_>>()
                    .join(" or "),
            },
        }
    }
}

/// The outcome of checking a presented key against a [`HostKeyPolicy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyVerdict {
    /// It matches a pinned fingerprint.
    Matches,
    /// Accepted without a pin: the caller should store the fingerprint now.
    FirstUse,
    /// It differs from the pin(s), shown joined by " or ".
    Changed { expected: String },
    /// A pin was required but none was given.
    Unknown,
}

/// What the connection learnt about the server's key, for the caller to persist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKeyInfo {
    /// The server's fingerprint.
    pub fingerprint: Fingerprint,
    /// The key algorithm, e.g. `ssh-ed25519`.
    pub algorithm: String,
    /// True when the key was accepted by trust-on-first-use: pin it.
    pub first_use: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP_A: &str = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
    const FP_B: &str = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";

    fn fp(s: &str) -> Fingerprint {
        s.parse().expect("valid fingerprint")
    }

    #[test]
    fn fingerprint_parses_openssh_format_and_rejects_others() {
        assert_eq!(fp(FP_A).as_str(), FP_A);
        assert!("MD5:aa:bb".parse::<Fingerprint>().is_err());
        assert!("SHA256:short".parse::<Fingerprint>().is_err());
        assert!(format!("{FP_A}=").parse::<Fingerprint>().is_err());
    }

    #[test]
    fn fingerprint_of_key_matches_ssh_keygen_output() {
        // `ssh-keygen -lf` on this public key prints this fingerprint.
        let key = russh::keys::parse_public_key_base64(
            "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ",
        )
        .expect("valid key");
        assert_eq!(
            Fingerprint::of(&key).as_str(),
            "SHA256:T7SvZ2cslqpPj6nKzitCBHHlpVF3r3MvLwmFL0fk0IE"
        );
    }

    #[test]
    fn fingerprint_serialises_as_its_string_and_rejects_garbage() {
        let json = serde_json::to_string(&fp(FP_A)).expect("serialise");
        assert_eq!(json, format!("\"{FP_A}\""));
        let back: Fingerprint = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, fp(FP_A));
        assert!(serde_json::from_str::<Fingerprint>("\"MD5:00\"").is_err());
    }

    #[test]
    fn policy_tofu_accepts_and_asks_to_pin() {
        let v = HostKeyPolicy::from_pinned(None).verdict(&fp(FP_A));
        assert_eq!(v, HostKeyVerdict::FirstUse);
    }

    #[test]
    fn policy_pinned_matches_or_reports_the_pin() {
        let policy = HostKeyPolicy::from_pinned(Some(fp(FP_A)));
        assert_eq!(policy.verdict(&fp(FP_A)), HostKeyVerdict::Matches);
        assert_eq!(
            policy.verdict(&fp(FP_B)),
            HostKeyVerdict::Changed {
                expected: FP_A.to_string()
            }
        );
        assert_eq!(
            HostKeyPolicy::Pinned(vec![]).verdict(&fp(FP_A)),
            HostKeyVerdict::Unknown
        );
    }
}
