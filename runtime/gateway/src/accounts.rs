//! Who may log in: users with an argon2 password hash (`strato passwd` prints one) and service
//! accounts with a public key, which log in with a JWT signed by their private key (DC/OS's
//! service login: `{"uid", "token"}`). `strato deploy` writes the list from `cluster.yaml`.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

/// The accounts file (`gateway.json` on masters).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accounts {
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub service_accounts: Vec<ServiceAccount>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    /// A PHC string, `$argon2id$v=19$…`.
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccount {
    pub name: String,
    /// PEM: an RSA, EC (P-256) or Ed25519 public key.
    pub public_key: String,
}

// Hashes are secrets too (offline guessing): Debug shows names only.
impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("users", &self.users)
            .field("service_accounts", &self.service_accounts)
            .finish()
    }
}

/// An argon2id hash of `password` with a random salt, in PHC form (what `strato passwd` prints
/// and `cluster.yaml` holds). Argon2's default cost (19 MiB, 2 passes): ~10s of ms per login.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt =
        SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checked when an account is accepted into the file, so a bad one is an error at deploy time,
/// not a login that can never succeed.
pub fn check_password_hash(hash: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(hash).map_err(|e| {
        format!("not a password hash in PHC form ({e}); `strato passwd` prints one")
    })?;
    if !parsed.algorithm.as_str().starts_with("argon2") {
        return Err(format!(
            "the hash uses {}, not argon2; `strato passwd` prints an argon2id hash",
            parsed.algorithm
        ));
    }
    Ok(())
}

/// Checked the same way for a service account's key.
pub fn check_public_key(pem: &str) -> Result<(), String> {
    decoding_key(pem).map(|_| ())
}

fn decoding_key(pem: &str) -> Result<(DecodingKey, Vec<Algorithm>), String> {
    let bytes = pem.as_bytes();
    if let Ok(key) = DecodingKey::from_rsa_pem(bytes) {
        return Ok((key, vec![Algorithm::RS256]));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(bytes) {
        return Ok((key, vec![Algorithm::ES256]));
    }
    if let Ok(key) = DecodingKey::from_ed_pem(bytes) {
        return Ok((key, vec![Algorithm::EdDSA]));
    }
    Err("not a PEM public key (RSA, EC P-256 or Ed25519)".into())
}

/// A hash no password matches, verified for unknown users so a login takes as long whether the
/// user exists or not.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c3RyYXRvLWR1bW15LXNhbHQ$0wU0C4vUJ1SyMuvB+p8P8mW6oiyR1iE7ioDqJAeXx4E";

impl Accounts {
    /// True when `uid` is a user whose password is `password`. Slow on purpose (argon2): call it
    /// off the async threads.
    pub fn password_matches(&self, uid: &str, password: &str) -> bool {
        let user = self.users.iter().find(|u| u.name == uid);
        let hash = user.map_or(DUMMY_HASH, |u| u.password_hash.as_str());
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && user.is_some()
    }

    /// True when `uid` is a service account and `login_token` is a JWT its key signed, naming
    /// `uid` and not expired.
    pub fn service_login_matches(&self, uid: &str, login_token: &str) -> bool {
        let Some(account) = self.service_accounts.iter().find(|a| a.name == uid) else {
            return false;
        };
        let Ok((key, algorithms)) = decoding_key(&account.public_key) else {
            return false;
        };
        let Ok(header) = jsonwebtoken::decode_header(login_token) else {
            return false;
        };
        if !algorithms.contains(&header.alg) {
            return false;
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = 0;
        #[derive(Deserialize)]
        struct LoginClaims {
            uid: String,
        }
        jsonwebtoken::decode::<LoginClaims>(login_token, &key, &validation)
            .is_ok_and(|data| data.claims.uid == uid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};

    fn hash(password: &str) -> String {
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("hash")
            .to_string()
    }

    #[test]
    fn passwords_are_checked_against_the_users_hash() {
        let accounts = Accounts {
            users: vec![User {
                name: "alice".into(),
                password_hash: hash("s3cret"),
            }],
            service_accounts: vec![],
        };
        assert!(accounts.password_matches("alice", "s3cret"));
        assert!(!accounts.password_matches("alice", "wrong"));
        assert!(!accounts.password_matches("bob", "s3cret"));
        assert!(check_password_hash(&accounts.users[0].password_hash).is_ok());
        assert!(check_password_hash("s3cret").is_err());
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        let shown = format!("{accounts:?}");
        assert!(
            shown.contains("alice") && !shown.contains("argon2id"),
            "{shown}"
        );
    }

    const ED_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEO/FVR42bqY7W1egPmhzWBiHkfk4PhtYnZLb8NEve74\n-----END PRIVATE KEY-----\n";
    const ED_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEABli16BTHgOoYfSt1s+v+2+O3YYIfnYrLdRpACKg6IUs=\n-----END PUBLIC KEY-----\n";

    fn signed(uid: &str, exp: u64) -> String {
        let key = jsonwebtoken::EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).expect("key");
        let claims = serde_json::json!({"uid": uid, "exp": exp});
        jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::EdDSA), &claims, &key)
            .expect("sign")
    }

    #[test]
    fn a_service_account_logs_in_with_a_token_its_key_signed() {
        let accounts = Accounts {
            users: vec![],
            service_accounts: vec![ServiceAccount {
                name: "ci".into(),
                public_key: ED_PUBLIC.into(),
            }],
        };
        assert!(check_public_key(ED_PUBLIC).is_ok());
        assert!(check_public_key("not a key").is_err());
        let later = 4_000_000_000;
        assert!(accounts.service_login_matches("ci", &signed("ci", later)));
        // Another uid in the claims, an expired one, an unknown account: refused.
        assert!(!accounts.service_login_matches("ci", &signed("admin", later)));
        assert!(!accounts.service_login_matches("ci", &signed("ci", 1000)));
        assert!(!accounts.service_login_matches("other", &signed("other", later)));
    }
}
