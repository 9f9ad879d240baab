//! What loading, issuing and serving with certificates can fail with. Paths are named; key
//! material never is.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {what}")]
    Pem { path: PathBuf, what: String },
    #[error("{path}: the certificate or key is not usable: {message}")]
    Config { path: PathBuf, message: String },
    #[error("cannot issue a certificate for {name}: {message}")]
    Issue { name: String, message: String },
}
