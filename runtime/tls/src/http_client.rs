//! Every HTTP client in Strato is built here: plain ones, and members' mutual-TLS ones.
//!
//! reqwest 0.13 takes its TLS crypto from the process-wide rustls provider and panics when there
//! is none (its aws-lc-rs default is off: `Cargo.toml` builds reqwest with `rustls-no-provider`).
//! Strato uses ring, the provider russh already brings, so the first command does not also
//! compile aws-lc. Whoever builds a client through this crate gets ring installed first.

use std::sync::{Arc, Once};

use crate::error::TlsError;
use crate::files::MemberTls;
use crate::role::MemberRole;
use crate::verify::RoleServerVerifier;

/// Installs ring as the process's rustls provider unless one is installed already (a cloud SDK
/// in `strato-cloud` may have put aws-lc-rs there first; either is fine).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // `Err` means another provider won the race; that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A reqwest client builder whose TLS is ready to use.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}

/// A reqwest client with default settings.
pub fn client() -> reqwest::Client {
    client_builder()
        .build()
        .unwrap_or_else(|err| panic!("the default HTTP client cannot be built: {err}"))
}

/// The rustls client side of a member: presents this member's certificate and accepts only
/// servers whose certificate chains to the cluster CA, names the address dialled and grants one
/// of `server_roles`.
fn member_client_config(
    tls: &MemberTls,
    server_roles: &[MemberRole],
) -> Result<rustls::ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = RoleServerVerifier::new(
        Arc::clone(&tls.roots),
        Arc::clone(&provider),
        server_roles.to_vec(),
    )
    .map_err(|message| TlsError::Config {
        path: "<cluster CA>".into(),
        message,
    })?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config {
            path: "<tls>".into(),
            message: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(tls.chain.clone(), tls.key.clone_key())
        .map_err(|e| TlsError::Config {
            path: "<member certificate>".into(),
            message: e.to_string(),
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A client for a member (see [`member_client_config`] for whom it trusts).
pub fn member_client_builder(
    tls: &MemberTls,
    server_roles: &[MemberRole],
) -> Result<reqwest::ClientBuilder, TlsError> {
    Ok(client_builder().tls_backend_preconfigured(member_client_config(tls, server_roles)?))
}

/// The blocking flavour of [`member_client_builder`]: an operator's scripts and the tests.
#[cfg(feature = "blocking")]
pub fn blocking_member_client_builder(
    tls: &MemberTls,
    server_roles: &[MemberRole],
) -> Result<reqwest::blocking::ClientBuilder, TlsError> {
    Ok(blocking_client_builder()
        .tls_backend_preconfigured(member_client_config(tls, server_roles)?))
}

/// The blocking flavour, for tests and benches that drive a cluster from plain threads.
#[cfg(feature = "blocking")]
pub fn blocking_client_builder() -> reqwest::blocking::ClientBuilder {
    install_crypto_provider();
    reqwest::blocking::Client::builder()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_builds_without_any_other_set_up() {
        // reqwest would panic here ("No rustls crypto provider is configured") without ring.
        let _client = super::client();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
