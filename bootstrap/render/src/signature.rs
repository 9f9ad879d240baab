//! Signing a rendered tree: `SHA256SUMS.sig`, the signature of `SHA256SUMS` by the cluster's
//! serve-tree key (`strato_tls::TreeSigner`), which nodes check before trusting any checksum
//! (`templates/scripts/fetch.sh.tera`). The signature is not listed in the manifest: it covers
//! the manifest's content through `SHA256SUMS`, and a re-render of the same tree must keep the
//! manifest's digest (deploy's "up to date" test, `bootstrap/engine/src/phases/install.rs`).

use std::path::Path;

use strato_tls::TreeSigner;

use crate::error::RenderError;
use crate::manifest::{sha256_hex, SHA256SUMS_PATH};
use crate::tree::{RenderedFile, RenderedTree};

/// Where the signature sits in the tree.
pub const SIGNATURE_PATH: &str = "SHA256SUMS.sig";
/// The last signature made in the PKI directory, with the digest of what it signed: ECDSA
/// signatures differ each time, and re-uploading an unchanged tree's signature on every deploy
/// would report a change that is not one.
const LAST_SIGNATURE: &str = "serve-signing.last";

fn sign_error(dir: &Path, e: impl std::fmt::Display) -> RenderError {
    RenderError::Sign {
        dir: dir.to_path_buf(),
        message: e.to_string(),
    }
}

impl RenderedTree {
    /// Adds `SHA256SUMS.sig`, signed with the key in `pki_dir` (made there on first use).
    pub fn sign(&mut self, pki_dir: &Path) -> Result<(), RenderError> {
        let sums = self
            .files
            .get(SHA256SUMS_PATH)
            .map(|f| f.bytes.clone())
            .ok_or_else(|| sign_error(pki_dir, "the tree has no SHA256SUMS"))?;
        let signer = TreeSigner::load_or_create(pki_dir).map_err(|e| sign_error(pki_dir, e))?;
        // What was signed, and with which key: a new key must not reuse an old signature.
        let signed = format!(
            "{}-{}",
            sha256_hex(&sums),
            &sha256_hex(signer.public_pem().as_bytes())[..16]
        );
        let last = pki_dir.join(LAST_SIGNATURE);
        let cached = std::fs::read_to_string(&last).ok().and_then(|text| {
            let (what, sig) = text.trim().split_once(' ')?;
            (what == signed).then(|| hex::decode(sig).ok()).flatten()
        });
        let signature = match cached {
            Some(sig) => sig,
            None => {
                let sig = signer.sign(&sums).map_err(|e| sign_error(pki_dir, e))?;
                strato_atomic_file::write_with_mode(
                    &last,
                    format!("{signed} {}\n", hex::encode(&sig)).as_bytes(),
                    0o644,
                )
                .map_err(|source| RenderError::Write {
                    path: last.clone(),
                    source,
                })?;
                sig
            }
        };
        self.files.insert(
            SIGNATURE_PATH.to_owned(),
            RenderedFile {
                bytes: signature,
                mode: 0o644,
            },
        );
        Ok(())
    }

    /// Whether the tree carries a signature.
    pub fn is_signed(&self) -> bool {
        self.files.contains_key(SIGNATURE_PATH)
    }
}
