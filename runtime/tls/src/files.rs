//! A member's TLS files (the cluster CA, its certificate, its key) and their loaded form.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::RootCertStore;

use crate::error::TlsError;
use crate::role::{peer_roles, MemberRole};

/// Where a member's files are (`tls_ca`, `tls_cert`, `tls_key` in master.toml and agent.toml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// The three keys of a config file (`tls_ca`, `tls_cert`, `tls_key`): all set → `Some`, none
    /// → `None`, some → `Err` naming the missing ones.
    pub fn from_keys(
        ca: Option<&Path>,
        cert: Option<&Path>,
        key: Option<&Path>,
    ) -> Result<Option<Self>, String> {
        match (ca, cert, key) {
            (Some(ca), Some(cert), Some(key)) => Ok(Some(Self {
                ca: ca.to_path_buf(),
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
            })),
            (None, None, None) => Ok(None),
            (ca, cert, key) => {
                let missing: Vec<&str> = [("tls_ca", ca), ("tls_cert", cert), ("tls_key", key)]
                    .iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(k, _)| *k)
                    .collect();
                Err(format!(
                    "tls_ca, tls_cert and tls_key go together; {} missing",
                    missing.join(", ")
                ))
            }
        }
    }
}

/// A member's loaded identity. `Debug` names the roles only, never key material.
pub struct MemberTls {
    pub(crate) roots: Arc<RootCertStore>,
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
    roles: Vec<MemberRole>,
}

impl std::fmt::Debug for MemberTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberTls")
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

impl Clone for MemberTls {
    fn clone(&self) -> Self {
        Self {
            roots: Arc::clone(&self.roots),
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            roles: self.roles.clone(),
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: path.to_path_buf(),
            what: format!("not a PEM certificate file ({e})"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            path: path.to_path_buf(),
            what: "holds no certificate".into(),
        });
    }
    Ok(certs)
}

impl MemberTls {
    /// Reads and checks the three files: the certificate must chain to the CA file's certificate.
    pub fn load(files: &TlsFiles) -> Result<Self, TlsError> {
        let ca = certificates(&files.ca, &read(&files.ca)?)?;
        let chain = certificates(&files.cert, &read(&files.cert)?)?;
        let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?).map_err(|_| TlsError::Pem {
            path: files.key.clone(),
            // The parser's message could quote the file; keep key material out of errors.
            what: "not a PEM private key".into(),
        })?;
        Self::from_parts(&files.ca, ca, &files.cert, chain, key)
    }

    /// The same from PEM text (tests, and the CLI's operator identity held in memory).
    pub fn from_pem(ca: &str, cert: &str, key: &str) -> Result<Self, TlsError> {
        let here = Path::new("<memory>");
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|_| TlsError::Pem {
            path: here.to_path_buf(),
            what: "not a PEM private key".into(),
        })?;
        Self::from_parts(
            here,
            certificates(here, ca.as_bytes())?,
            here,
            certificates(here, cert.as_bytes())?,
            key,
        )
    }

    fn from_parts(
        ca_path: &Path,
        ca: Vec<CertificateDer<'static>>,
        cert_path: &Path,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in ca {
            roots.add(cert).map_err(|e| TlsError::Config {
                path: ca_path.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        let roles = peer_roles(&chain[0]);
        if roles.is_empty() {
            return Err(TlsError::Config {
                path: cert_path.to_path_buf(),
                message: "the certificate grants no Strato role (no urn:strato:role: name)".into(),
            });
        }
        Ok(Self {
            roots: Arc::new(roots),
            chain,
            key,
            roles,
        })
    }

    /// The roles this member's own certificate grants.
    pub fn roles(&self) -> &[MemberRole] {
        &self.roles
    }
}

/// A server identity for a public listener (the gateway): a certificate chain and its key, from
/// the master's own certificate or files the operator names. No client certificate is asked for.
pub struct ServerIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity")
            .field("chain", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ServerIdentity {
    pub fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let chain = certificates(cert, &read(cert)?)?;
        let key_der = PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|_| TlsError::Pem {
            path: key.to_path_buf(),
            what: "not a PEM private key".into(),
        })?;
        Ok(Self {
            chain,
            key: key_der,
        })
    }

    pub fn of_member(member: &MemberTls) -> Self {
        Self {
            chain: member.chain.clone(),
            key: member.key.clone_key(),
        }
    }
}
