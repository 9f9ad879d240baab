//! The cluster's PKI on the operator's machine, `<dir of cluster.yaml>/.strato/pki`: the
//! cluster CA (made on first use) and an operator certificate for talking to the masters'
//! APIs (`curl --cacert ca.crt --cert operator.crt --key operator.key https://<master>:8080/`).
//! Node certificates are issued by the bootstrap server at install time
//! (`bootstrap/engine/src/phases/member_cert.rs`), which is why a remote bootstrap host
//! receives the CA: it already holds the SSH key that is root on every node.

use std::path::{Path, PathBuf};

use strato_tls::{ClusterCa, MemberRequest, MemberRole};

use crate::CliError;

/// The operator certificate's file name in the PKI directory.
pub const OPERATOR_CERT: &str = "operator.crt";
/// The operator key's file name in the PKI directory (0600).
pub const OPERATOR_KEY: &str = "operator.key";

/// `<base>/.strato/pki`.
pub fn pki_dir(base: &Path) -> PathBuf {
    base.join(".strato").join("pki")
}

pub(crate) fn pki_error(e: strato_tls::TlsError) -> CliError {
    CliError::Other(anyhow::anyhow!("cluster CA: {e}"))
}

/// Loads or makes the CA under `<base>/.strato/pki`, and the operator certificate beside it when
/// there is none yet. The etcd CA (`pki/etcd`, masters' etcd certificates only) is made too.
pub fn ensure(base: &Path, cluster_name: &str) -> Result<ClusterCa, CliError> {
    let dir = pki_dir(base);
    let ca = ClusterCa::load_or_create(&dir, cluster_name).map_err(pki_error)?;
    ClusterCa::load_or_create(
        &dir.join(strato_tls::ETCD_CA_DIR),
        &format!("{cluster_name} etcd"),
    )
    .map_err(pki_error)?;
    let cert = dir.join(OPERATOR_CERT);
    let key = dir.join(OPERATOR_KEY);
    if !cert.exists() || !key.exists() {
        let issued = ca
            .issue(&MemberRequest {
                role: MemberRole::Operator,
                name: format!("operator of {cluster_name}"),
                ips: Vec::new(),
                dns: Vec::new(),
            })
            .map_err(pki_error)?;
        // The key first: a certificate without its key would stop the next run from issuing.
        write(&key, issued.key_pem.as_bytes(), 0o600)?;
        write(&cert, issued.cert_pem.as_bytes(), 0o644)?;
    }
    ensure_gateway_secrets(&dir)?;
    // PKI directories made before CA rotation existed have no trust bundle yet.
    if !dir.join(strato_tls::TRUST_BUNDLE).exists() {
        strato_tls::rotation::write_trust_bundle(&dir).map_err(pki_error)?;
        return ClusterCa::load(&dir).map_err(pki_error);
    }
    Ok(ca)
}

/// The gateway's token secret, and the `admin` password used when cluster.yaml lists no gateway
/// users (as openshift-install's kubeadmin password: generated once, kept 0600 for the operator).
fn ensure_gateway_secrets(dir: &Path) -> Result<(), CliError> {
    strato_tls::ensure_token_secret(dir).map_err(pki_error)?;
    if !dir.join(strato_tls::GATEWAY_ADMIN_HASH).exists() {
        let password = strato_tls::random_password(20).map_err(pki_error)?;
        let hash = strato_gateway::hash_password(&password)
            .map_err(|e| CliError::Other(anyhow::anyhow!("hashing the admin password: {e}")))?;
        strato_tls::write_admin_password(dir, &password, &hash).map_err(pki_error)?;
    }
    Ok(())
}

/// A new operator certificate from the CA that issues now (after a CA switch).
pub fn reissue_operator(base: &Path, cluster_name: &str) -> Result<(), CliError> {
    let dir = pki_dir(base);
    for name in [OPERATOR_CERT, OPERATOR_KEY] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    ensure(base, cluster_name).map(drop)
}

/// The operator's identity (after [`ensure`]), shown to the bootstrap server and the masters.
pub fn operator_tls(base: &Path) -> Result<strato_tls::MemberTls, CliError> {
    let dir = pki_dir(base);
    strato_tls::MemberTls::load(&strato_tls::TlsFiles {
        ca: dir.join(strato_tls::TRUST_BUNDLE),
        cert: dir.join(OPERATOR_CERT),
        key: dir.join(OPERATOR_KEY),
    })
    .map_err(pki_error)
}

fn write(path: &Path, data: &[u8], mode: u32) -> Result<(), CliError> {
    strato_atomic_file::write_with_mode(path, data, mode).map_err(|source| CliError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_and_an_operator_certificate_are_made_once() {
        let dir = tempfile::tempdir().expect("tmp");
        ensure(dir.path(), "c1").expect("first");
        let pki = pki_dir(dir.path());
        let first = std::fs::read(pki.join(OPERATOR_CERT)).expect("cert");
        ensure(dir.path(), "c1").expect("second");
        assert_eq!(std::fs::read(pki.join(OPERATOR_CERT)).expect("cert"), first);
        let tls = strato_tls::MemberTls::load(&strato_tls::TlsFiles {
            ca: pki.join(strato_tls::CA_CERT),
            cert: pki.join(OPERATOR_CERT),
            key: pki.join(OPERATOR_KEY),
        })
        .expect("the operator files load as a member identity");
        assert_eq!(tls.roles(), [MemberRole::Operator]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(pki.join(OPERATOR_KEY))
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
