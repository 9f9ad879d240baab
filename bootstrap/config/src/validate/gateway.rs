//! The gateway: its ports differ, and the operator's certificate files exist (the key private).
//! With no users listed, `strato deploy` makes an `admin` with a generated password
//! (`installer/src/pki.rs`).
use std::path::Path;

use super::Ctx;
use crate::files::{resolve, FileState};
use crate::Cluster;

pub(super) fn check(cluster: &Cluster, ctx: &mut Ctx) {
    let gateway = &cluster.gateway;
    if gateway.http_port != 0 && gateway.http_port == gateway.https_port {
        ctx.error("gateway.http_port", "must differ from gateway.https_port");
    }
    if let Some(path) = &gateway.tls_cert {
        file(ctx, "gateway.tls_cert", path, false);
    }
    if let Some(path) = &gateway.tls_key {
        file(ctx, "gateway.tls_key", path, true);
    }
}

fn file(ctx: &mut Ctx, key: &str, path: &Path, private: bool) {
    let home = ctx.files.home();
    let full = resolve(path, ctx.base, home.as_deref());
    let shown = path.display();
    match ctx.files.state(&full) {
        FileState::Missing => ctx.error(key, format!("`{shown}` does not exist")),
        FileState::Directory => ctx.error(key, format!("`{shown}` is a directory, not a file")),
        FileState::File { mode: Some(mode) } if private && mode & 0o077 != 0 => ctx.error(
            key,
            format!("`{shown}` is readable by group or others (mode {mode:04o}); run `chmod 600 {shown}`"),
        ),
        FileState::File { .. } => {}
    }
}
