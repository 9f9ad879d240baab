//! What a master's gateway needs besides its certificate, written through `Host::apply` at
//! install (all 0600 but the operator's certificate): the cluster's token secret, the accounts
//! (cluster.yaml's `gateway.users` and `service_accounts`, or the generated `admin` when no user
//! is listed: `installer/src/pki.rs`), and the operator's own certificate and key if named.
//! `templates/config/master.toml.tera` points at these paths.

use std::path::{Path, PathBuf};

use serde_json::json;
use strato_api::Role;
use strato_config::files::resolve;
use strato_config::Gateway;
use strato_host::Change;
use strato_tls::ClusterCa;

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phases::member_cert::TLS_DIR;

/// Where a master keeps the accounts file.
pub const ACCOUNTS_PATH: &str = "/opt/strato/etc/gateway-accounts.json";

/// The uploads, and a fingerprint of them for the deployed marker (a changed password or account
/// reinstalls the masters); nothing for other roles.
pub fn gateway_changes(
    ctx: &JobCtx,
    ca: &ClusterCa,
    host: &HostCtx,
) -> Result<(Vec<Change>, String), PhaseError> {
    if host.role != Role::Master {
        return Ok((Vec::new(), String::new()));
    }
    let (files, digest) = gateway_files(ca.dir(), &ctx.cluster.gateway, ctx.base_dir())
        .map_err(|e| PhaseError::failed(host.name(), e))?;
    let changes = files
        .into_iter()
        .map(|(path, data, mode)| Change::upload_sudo(data, path, mode))
        .collect();
    Ok((changes, digest))
}

/// One file for a master: path, bytes, mode.
pub type GatewayFile = (String, Vec<u8>, u32);

/// A master's gateway files as (path, bytes, mode), and their fingerprint, from the PKI
/// directory `pki` (token secret, generated admin hash) and cluster.yaml's `gateway`.
pub fn gateway_files(
    pki: &Path,
    gateway: &Gateway,
    base: &Path,
) -> Result<(Vec<GatewayFile>, String), String> {
    let read = |path: PathBuf| {
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let secret = read(pki.join(strato_tls::GATEWAY_TOKEN_SECRET))?;
    let users = if gateway.users.is_empty() {
        // Made with the CA by `strato` (installer/src/pki.rs); without it nobody logs in by
        // password, and the gateway still serves tokens `strato` signs itself.
        match std::fs::read(pki.join(strato_tls::GATEWAY_ADMIN_HASH)) {
            Ok(hash) => vec![json!({
                "name": "admin",
                "password_hash": String::from_utf8_lossy(&hash).trim(),
            })],
            Err(_) => Vec::new(),
        }
    } else {
        gateway
            .users
            .iter()
            .map(|u| json!({"name": u.name, "password_hash": u.password_hash}))
            .collect()
    };
    let accounts = json!({
        "users": users,
        "service_accounts": gateway
            .service_accounts
            .iter()
            .map(|a| json!({"name": a.name, "public_key": a.public_key}))
            .collect::<Vec<_>>(),
    });
    let accounts = serde_json::to_vec_pretty(&accounts).unwrap_or_default();
    let mut fingerprint = [secret.as_slice(), accounts.as_slice()].concat();
    let mut files = vec![
        (
            format!("{TLS_DIR}/{}", strato_tls::GATEWAY_TOKEN_SECRET),
            secret,
            0o600,
        ),
        (ACCOUNTS_PATH.to_string(), accounts, 0o600),
    ];
    if let (Some(cert), Some(key)) = (&gateway.tls_cert, &gateway.tls_key) {
        let home = strato_config::files::Files::home(&strato_config::RealFiles);
        let cert = read(resolve(cert, base, home.as_deref()))?;
        let key = read(resolve(key, base, home.as_deref()))?;
        fingerprint.extend_from_slice(&cert);
        fingerprint.extend_from_slice(&key);
        files.push((format!("{TLS_DIR}/gateway.crt"), cert, 0o644));
        files.push((format!("{TLS_DIR}/gateway.key"), key, 0o600));
    }
    let digest = strato_render::sha256_hex(&fingerprint)[..16].to_string();
    Ok((files, digest))
}
