//! The gateway's secrets in a PKI directory: the token secret every master signs logins with
//! (so a token from one master is good on all of them, and on no other cluster), and the
//! generated `admin` password for a cluster.yaml that lists no gateway users, with its hash.
//! Made once, beside the CA, by whoever makes the CA (`installer/src/pki.rs`).

use std::path::Path;

use crate::error::TlsError;
use crate::issue::write;

/// The token secret (64 hex characters, mode 0600).
pub const GATEWAY_TOKEN_SECRET: &str = "gateway-token.secret";
/// The generated `admin` password (mode 0600), for the operator to read once.
pub const GATEWAY_ADMIN_PASSWORD: &str = "admin-password";
/// Its argon2 hash, what masters are given (mode 0600).
pub const GATEWAY_ADMIN_HASH: &str = "admin-password.hash";

/// `n` bytes from the system's secure random source (ring's).
pub fn random_bytes(n: usize) -> Result<Vec<u8>, TlsError> {
    let mut bytes = vec![0u8; n];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| TlsError::Config {
            path: "<random>".into(),
            message: "the system's random source failed".into(),
        })?;
    Ok(bytes)
}

/// Makes the token secret under `dir` unless it exists.
pub fn ensure_token_secret(dir: &Path) -> Result<(), TlsError> {
    let path = dir.join(GATEWAY_TOKEN_SECRET);
    if path.exists() {
        return Ok(());
    }
    let hex: String = random_bytes(32)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    write(&path, &format!("{hex}\n"), 0o600)
}

/// A password of `len` characters from letters and digits (no look-alikes: 0/O, 1/l/I).
pub fn random_password(len: usize) -> Result<String, TlsError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - (256 % ALPHABET.len());
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes(len * 2)? {
            if (b as usize) < limit && out.len() < len {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

/// Writes the admin password and its hash (0600 both), the hash first.
pub fn write_admin_password(dir: &Path, password: &str, hash: &str) -> Result<(), TlsError> {
    write(&dir.join(GATEWAY_ADMIN_HASH), &format!("{hash}\n"), 0o600)?;
    write(
        &dir.join(GATEWAY_ADMIN_PASSWORD),
        &format!("{password}\n"),
        0o600,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_made_once_and_private() {
        let dir = tempfile::tempdir().expect("tmp");
        ensure_token_secret(dir.path()).expect("make");
        let first = std::fs::read_to_string(dir.path().join(GATEWAY_TOKEN_SECRET)).expect("read");
        assert_eq!(first.trim().len(), 64);
        ensure_token_secret(dir.path()).expect("again");
        let second = std::fs::read_to_string(dir.path().join(GATEWAY_TOKEN_SECRET)).expect("read");
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(GATEWAY_TOKEN_SECRET))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let a = random_password(20).expect("pw");
        assert_eq!(a.len(), 20);
        assert_ne!(a, random_password(20).expect("pw"));
    }
}
