//! The cluster CA: made once on the operator's machine (`<dir of cluster.yaml>/.strato/pki`),
//! it issues each member a certificate for its role and addresses. Its key never leaves that
//! directory: nodes receive only their own certificate and key, over SSH.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

use crate::error::TlsError;
use crate::role::MemberRole;

/// The CA certificate's file name in the PKI directory.
pub const CA_CERT: &str = "ca.crt";
/// The CA key's file name in the PKI directory (mode 0600).
pub const CA_KEY: &str = "ca.key";
/// The subdirectory of a PKI directory holding the etcd CA: a CA of its own that only masters'
/// etcd certificates come from, so no agent or operator certificate opens etcd (CIS etcd
/// benchmark 2.7: a unique CA for etcd).
pub const ETCD_CA_DIR: &str = "etcd";

const CA_YEARS: i64 = 10;
/// Member certificates are re-issued on every deploy; two years leaves room for clusters
/// nobody redeploys for a while.
const MEMBER_DAYS: i64 = 730;

/// What a member certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRequest {
    pub role: MemberRole,
    /// The subject's common name, e.g. the host's address.
    pub name: String,
    pub ips: Vec<IpAddr>,
    pub dns: Vec<String>,
}

/// A member's certificate and key as PEM. `Debug` leaves the key out.
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// The cluster CA, loaded or made. `Debug` names its directory only.
pub struct ClusterCa {
    dir: PathBuf,
    cert_pem: String,
    /// Every CA certificate members trust: this one, and during a rotation the next or the
    /// previous one (`rotation.rs`).
    trust_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for ClusterCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterCa")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn issue_error(name: &str, e: impl std::fmt::Display) -> TlsError {
    TlsError::Issue {
        name: name.to_string(),
        message: e.to_string(),
    }
}

/// Atomically, with `mode` (keys 0600); the PKI's one way to write a file.
pub(crate) fn write(path: &Path, text: &str, mode: u32) -> Result<(), TlsError> {
    strato_atomic_file::write_with_mode(path, text.as_bytes(), mode).map_err(|source| {
        TlsError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

pub(crate) fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// A new CA (ECDSA P-256, ten years): its certificate as PEM, its key and its parameters.
pub(crate) fn new_ca(cluster_name: &str) -> Result<(String, KeyPair, CertificateParams), TlsError> {
    let key = KeyPair::generate().map_err(|e| issue_error("cluster CA", e))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        format!("Strato cluster CA {cluster_name}"),
    );
    dn.push(DnType::OrganizationName, "Strato");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(365 * CA_YEARS);
    let cert = params
        .self_signed(&key)
        .map_err(|e| issue_error("cluster CA", e))?;
    Ok((cert.pem(), key, params))
}

impl ClusterCa {
    /// Loads `dir/ca.crt` and `dir/ca.key`; both must exist (the bootstrap server, which never
    /// makes a CA of its own).
    pub fn load(dir: &Path) -> Result<Self, TlsError> {
        let cert_path = dir.join(CA_CERT);
        let key_path = dir.join(CA_KEY);
        let cert_pem = read(&cert_path)?;
        let key = KeyPair::from_pem(&read(&key_path)?).map_err(|_| TlsError::Pem {
            path: key_path.clone(),
            what: "not a PEM private key".into(),
        })?;
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|e| TlsError::Pem {
            path: cert_path.clone(),
            what: format!("not a CA certificate ({e})"),
        })?;
        let trust_path = dir.join(crate::rotation::TRUST_BUNDLE);
        let trust_pem = if trust_path.exists() {
            read(&trust_path)?
        } else {
            cert_pem.clone()
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            cert_pem,
            trust_pem,
            issuer,
        })
    }

    /// Loads `dir/ca.crt` and `dir/ca.key`, or makes them (ECDSA P-256, ten years) when neither
    /// exists. One without the other is an error: a lost key is never silently replaced, since
    /// every node trusts the old certificate.
    pub fn load_or_create(dir: &Path, cluster_name: &str) -> Result<Self, TlsError> {
        let cert_path = dir.join(CA_CERT);
        let key_path = dir.join(CA_KEY);
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => Self::load(dir),
            (false, false) => {
                let (cert_pem, key, params) = new_ca(cluster_name)?;
                std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
                    path: dir.to_path_buf(),
                    source,
                })?;
                // Key first: a crash between the two leaves a key without a certificate, which
                // the next run reports instead of making a second CA.
                write(&key_path, &key.serialize_pem(), 0o600)?;
                write(&cert_path, &cert_pem, 0o644)?;
                crate::rotation::write_trust_bundle(dir)?;
                Ok(Self {
                    dir: dir.to_path_buf(),
                    trust_pem: cert_pem.clone(),
                    cert_pem,
                    issuer: Issuer::new(params, key),
                })
            }
            (has_cert, _) => Err(TlsError::Pem {
                path: if has_cert { key_path } else { cert_path },
                what: "is missing while its pair exists; restore it from a backup (nodes trust \
                       this CA), or remove the directory and redeploy every node"
                    .into(),
            }),
        }
    }

    /// The certificate of the CA that issues (signs) member certificates.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Every CA certificate members trust (nodes' `ca.crt`): during a rotation two of them.
    pub fn trust_pem(&self) -> &str {
        &self.trust_pem
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Issues a certificate (ECDSA P-256, for both server and client use) granting `role`.
    pub fn issue(&self, request: &MemberRequest) -> Result<Issued, TlsError> {
        let name = &request.name;
        let key = KeyPair::generate().map_err(|e| issue_error(name, e))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name.clone());
        dn.push(DnType::OrganizationalUnitName, request.role.as_str());
        params.distinguished_name = dn;
        let mut sans = vec![SanType::URI(
            request
                .role
                .uri()
                .try_into()
                .map_err(|e| issue_error(name, e))?,
        )];
        sans.extend(request.ips.iter().copied().map(SanType::IpAddress));
        for dns in &request.dns {
            sans.push(SanType::DnsName(
                dns.clone().try_into().map_err(|e| issue_error(name, e))?,
            ));
        }
        params.subject_alt_names = sans;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(MEMBER_DAYS);
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| issue_error(name, e))?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}
