//! The cluster's serve-tree signing key: `strato genconf`/`deploy` sign the tree's `SHA256SUMS`
//! with it and nodes verify that signature with `openssl dgst -sha256 -verify` before they trust
//! any checksum (`templates/scripts/fetch.sh.tera`). ECDSA P-256 with SHA-256, DER signatures:
//! `openssl dgst -verify` checks them alike on OpenSSL 1.1.1 (EL8) and 3.x (Ed25519 would need
//! `dgst` from 3.0 or `pkeyutl -rawin`), and the CA's keys are P-256 too. A key of its own, beside the CA's:
//! a signing key and a CA key are never the same key.

use std::path::{Path, PathBuf};

use rcgen::{KeyPair, SigningKey};

use crate::error::TlsError;
use crate::issue::{read, write};

/// The private key's file name in the PKI directory (0600; never leaves the operator's machine).
pub const SIGNING_KEY: &str = "serve-signing.key";
/// The public key's file name, in the PKI directory and in `/opt/strato/etc/tls` on nodes.
pub const SIGNING_PUB: &str = "serve-signing.pub";

/// The serve-tree signing key, loaded or made. `Debug` names its directory only.
pub struct TreeSigner {
    dir: PathBuf,
    key: KeyPair,
}

impl std::fmt::Debug for TreeSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeSigner")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl TreeSigner {
    /// Loads `dir/serve-signing.key`, or makes it (and the public key beside it) when missing.
    pub fn load_or_create(dir: &Path) -> Result<Self, TlsError> {
        let key_path = dir.join(SIGNING_KEY);
        let pub_path = dir.join(SIGNING_PUB);
        let key = if key_path.exists() {
            KeyPair::from_pem(&read(&key_path)?).map_err(|_| TlsError::Pem {
                path: key_path.clone(),
                what: "not a PEM private key".into(),
            })?
        } else {
            let key = KeyPair::generate().map_err(|e| TlsError::Issue {
                name: "serve-tree signing key".into(),
                message: e.to_string(),
            })?;
            write(&key_path, &key.serialize_pem(), 0o600)?;
            key
        };
        // Rewritten from the key each time, so a lost or stale public key heals itself.
        let public = key.public_key_pem();
        if std::fs::read_to_string(&pub_path).ok().as_deref() != Some(public.as_str()) {
            write(&pub_path, &public, 0o644)?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            key,
        })
    }

    /// The public key (SubjectPublicKeyInfo PEM), as nodes receive it.
    pub fn public_pem(&self) -> String {
        self.key.public_key_pem()
    }

    /// An ECDSA-SHA256 signature of `data` (ASN.1 DER, what `openssl dgst -verify` reads).
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, TlsError> {
        self.key.sign(data).map_err(|e| TlsError::Issue {
            name: "serve-tree signature".into(),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_private_and_its_signatures_verify_with_openssl() {
        let dir = tempfile::tempdir().expect("tmp");
        let signer = TreeSigner::load_or_create(dir.path()).expect("make");
        let again = TreeSigner::load_or_create(dir.path()).expect("load");
        assert_eq!(signer.public_pem(), again.public_pem());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SIGNING_KEY))
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{signer:?}").contains("PRIVATE"));

        // The node's check, with the node's tool.
        let data = dir.path().join("SHA256SUMS");
        std::fs::write(&data, "abc  install.sh\n").expect("write");
        let sig = dir.path().join("SHA256SUMS.sig");
        std::fs::write(&sig, again.sign(b"abc  install.sh\n").expect("sign")).expect("write");
        let verify = |file: &Path| {
            std::process::Command::new("openssl")
                .args(["dgst", "-sha256", "-verify"])
                .arg(dir.path().join(SIGNING_PUB))
                .arg("-signature")
                .arg(&sig)
                .arg(file)
                .output()
                .expect("openssl is installed (tests/prereqs.sh)")
                .status
                .success()
        };
        assert!(verify(&data), "openssl verifies the signature");
        std::fs::write(&data, "abd  install.sh\n").expect("tamper");
        assert!(!verify(&data), "openssl refuses a changed file");
    }
}
