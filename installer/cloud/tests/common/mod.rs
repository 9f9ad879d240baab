//! Shared helpers for strato-cloud's tests: a cluster.yaml in a temp dir, and moto on loopback.
#![allow(dead_code)]

pub mod fake_arm;
pub mod fake_gce;
pub mod moto;

use std::path::{Path, PathBuf};

/// A real ed25519 public key (clouds check the format; the private half was thrown away).
pub const TEST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILXaEChZVdWAN8J+DzVopoy/FRjGxV7ZPHyY+OcwPLE8 strato-test";

/// Write `id_test.pub` and `cluster.yaml` (with `cloud_section` under `cloud:`) into `dir`.
pub fn cluster_yaml(dir: &Path, cloud_section: &str) -> PathBuf {
    std::fs::write(dir.join("id_test.pub"), format!("{TEST_KEY}\n")).expect("write key");
    let text = format!(
        "# Demo cluster, written by hand. This comment must survive `strato cloud create`.\n\
         cluster_name: demo\n\
         bootstrap: local   # replaced by the cloud's bootstrap machine\n\
         ssh:\n  user: ops  # cloud-init creates this user\n\
         hardware: minimal\n\
         # the masters\n\
         masters:\n  # filled in by strato cloud create\n  - 192.0.2.1\n  - 192.0.2.2\n  - 192.0.2.3\n\
         agents: []  # none yet\n\
         cloud:\n{cloud_section}"
    );
    let path = dir.join("cluster.yaml");
    std::fs::write(&path, text).expect("write cluster.yaml");
    path
}
