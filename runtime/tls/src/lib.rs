//! Every HTTP client in Strato is built here.
//!
//! reqwest 0.13 takes its TLS crypto from the process-wide rustls provider and panics when there
//! is none (its aws-lc-rs default is off: `Cargo.toml` builds reqwest with `rustls-no-provider`).
//! Strato uses ring, the provider russh already brings, so the first command does not also
//! compile aws-lc. Whoever builds a client through this crate gets ring installed first.

use std::sync::Once;

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
