//! Renders `templates/` (tera) into the bootstrap serve tree: per-role install scripts, systemd units,
//! runtime configuration, the ip-detect script and a sha256 manifest. Same input, same bytes.
//!
//! The templates are embedded at build time (`engine`), so `strato genconf` works from any
//! directory. `render_tree` is pure (no I/O); `write_tree` puts a tree on disk atomically. This is
//! the only crate that uses tera. Also renders cloud-init user-data for cloud machines
//! (`render_cloud_init`).
//!
//! The tree, all paths relative to its root (the bootstrap server serves it as is):
//! `install.sh`, `upgrade.sh`, `uninstall.sh`, `ip-detect`, `config/{master,agent,public-agent}.toml`,
//! `config/hosts/<address>/agent.toml` (agents with labels), `systemd/strato-{master,agent}.service`,
//! `systemd/strato-etcd.service` (3 or more masters: they keep their state in etcd),
//! `bundle/<runtime bundle>` (when given), `SHA256SUMS`, `SHA256SUMS.sig` (once signed) and
//! `manifest.json`.

mod bootstrap_unit;
mod cloud_init;
mod cluster;
mod engine;
mod error;
mod input;
mod manifest;
mod signature;
mod tree;

pub use bootstrap_unit::{render_bootstrap_unit, BootstrapUnitInput};
pub use cloud_init::{render_cloud_init, CloudInitInput};
pub use cluster::{bootstrap_url, render_tree, BOOTSTRAP_HTTP_PORT};
pub use error::RenderError;
pub use input::{
    BundleRef, GatewayInput, IpDetect, LabelledAgent, RenderInput, RenderOptions, DNS_PORT,
    ETCD_CLIENT_PORT, ETCD_MIN_MASTERS, ETCD_PEER_PORT, MARATHON_PORT, MESOS_PORT,
};
pub use manifest::{sha256_hex, Manifest, ManifestEntry, MANIFEST_PATH, SHA256SUMS_PATH};
pub use signature::SIGNATURE_PATH;
pub use tree::{render_input, write_tree, RenderedFile, RenderedTree};

#[cfg(test)]
mod tests;
