//! `RenderError`: what can go wrong turning a cluster description into the serve tree.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template failed to render; a bug in `templates/` or a missing context value.
    #[error("cannot render template {template}")]
    Template {
        template: String,
        #[source]
        source: tera::Error,
    },
    /// A value would not be safe to place in a script or config file.
    #[error("{key}: {message}")]
    InvalidValue { key: &'static str, message: String },
    /// 3 or more masters keep their state in etcd, but the runtime bundle carries none.
    #[error(
        "{masters} masters keep their state in etcd, but the runtime bundle {bundle} carries no etcd \
         (or is not a strato bundle): rebuild it with `strato bundle --etcd PATH` \
         (e.g. --etcd /usr/bin/etcd from Debian's etcd-server; README.md, \"Three masters\")"
    )]
    EtcdMissing { masters: usize, bundle: String },
    /// The runtime bundle has no version (it is not a strato bundle), or one that cannot name a
    /// directory on the nodes (`/opt/strato/versions/<version>`).
    #[error(
        "the runtime bundle {bundle} {problem}: nodes install each version in its own directory; \
         make the bundle with `strato bundle` (README.md, \"Runtime bundle\")"
    )]
    BundleVersion { bundle: String, problem: String },
    /// `network.ip_detect` names a script, but its content was not supplied.
    #[error("network.ip_detect: the script {path} was not read")]
    IpDetectScriptMissing { path: String },
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
    /// The serve-tree signing key could not be loaded, made or used.
    #[error("cannot sign the serve tree with the key in {dir}: {message}")]
    Sign { dir: PathBuf, message: String },
}
