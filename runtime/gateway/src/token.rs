//! The gateway's tokens: JWTs signed with the cluster's token secret (HS256), as DC/OS's open
//! edition signed them. Every master holds the same secret (`strato deploy` writes it), so a token
//! from one master's login is good on every master and on no other cluster.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a token says: who, until when, and its id (for revocation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub uid: String,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// The token's id, what `strato token revoke` names.
    pub jti: String,
    /// `strato:<cluster name>`.
    pub iss: String,
}

/// Why a token was refused; the text is what the client reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the authentication token has expired: log in again")]
    Expired,
    #[error("the authentication token is not valid for this cluster")]
    Invalid,
    #[error("the authentication token was revoked: log in again")]
    Revoked,
}

/// The token secret. Never printed.
#[derive(Clone)]
pub struct TokenKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("issuer", &self.issuer)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The shortest secret accepted: 256 bits, HS256's own strength.
pub const MIN_SECRET_BYTES: usize = 32;

impl TokenKey {
    /// `secret`: at least [`MIN_SECRET_BYTES`] bytes; `cluster`: the cluster's name.
    pub fn new(secret: &[u8], cluster: &str) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the token secret has {} bytes, fewer than {MIN_SECRET_BYTES}",
                secret.len()
            ));
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            issuer: format!("strato:{cluster}"),
        })
    }

    /// A token for `uid` valid for `ttl` from `now` (Unix seconds).
    pub fn issue(&self, uid: &str, ttl: Duration, now: u64) -> (String, Claims) {
        let claims = Claims {
            uid: uid.to_string(),
            exp: now + ttl.as_secs().max(1),
            iat: now,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            iss: self.issuer.clone(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            // Serializing a plain struct with an HMAC key cannot fail.
            .unwrap_or_default();
        (token, claims)
    }

    /// The claims of a token this cluster signed and that has not expired at `now`.
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        // Expiry is checked below against `now`, with no leeway.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// The claims a token says it has, without checking who signed it: for the holder of a token
/// (`strato token revoke` names its id), never for deciding access.
pub fn claims_unverified(token: &str) -> Option<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.insecure_disable_signature_validation();
    validation.validate_exp = false;
    validation.set_required_spec_claims::<&str>(&[]);
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&[]), &validation)
        .ok()
        .map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_is_good_until_it_expires() {
        let key = TokenKey::new(SECRET, "prod").expect("key");
        let (token, claims) = key.issue("alice", Duration::from_secs(60), 1000);
        assert_eq!(key.verify(&token, 1059), Ok(claims));
        assert_eq!(key.verify(&token, 1060), Err(TokenError::Expired));
        assert_eq!(
            claims_unverified(&token).map(|c| c.uid),
            Some("alice".into())
        );
    }

    #[test]
    fn another_clusters_token_or_a_forged_one_is_refused() {
        let key = TokenKey::new(SECRET, "prod").expect("key");
        let other = TokenKey::new(b"another secret of thirty-two bytes!!", "prod").expect("key");
        let (token, _) = other.issue("alice", Duration::from_secs(60), 1000);
        assert_eq!(key.verify(&token, 1001), Err(TokenError::Invalid));
        let renamed = TokenKey::new(SECRET, "staging").expect("key");
        let (token, _) = renamed.issue("alice", Duration::from_secs(60), 1000);
        assert_eq!(key.verify(&token, 1001), Err(TokenError::Invalid));
        assert_eq!(key.verify("not.a.token", 1001), Err(TokenError::Invalid));
        // alg "none" is never accepted.
        let none = "eyJhbGciOiJub25lIn0.eyJ1aWQiOiJhIiwiZXhwIjo5OTk5OTk5OTk5fQ.";
        assert_eq!(key.verify(none, 1001), Err(TokenError::Invalid));
    }

    #[test]
    fn short_secrets_and_debug_output() {
        assert!(TokenKey::new(b"short", "prod").is_err());
        let key = TokenKey::new(SECRET, "prod").expect("key");
        let shown = format!("{key:?}");
        assert!(!shown.contains("0123456789"), "{shown}");
    }
}
