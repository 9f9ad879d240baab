//! A bootstrap server on the bootstrap host: upload `strato-bootstrap`, the serve tree (with
//! the bundle) and the files cluster.yaml names over SSH, (re)start its systemd unit only when
//! something changed, and reach its API through an SSH local port forward. Everything is
//! compared by sha256 first, so a second run uploads nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use strato_api::Client;
use strato_engine::{ConnectSpec, SshConnector};
use strato_ssh::{ExecOptions, Session, UploadOptions};

use super::job::{bundle_path, render, rewrite_files, Bootstrapped, JobArgs, Loaded};
use crate::CliError;

const DATA_DIR: &str = "/var/lib/strato-bootstrap";
const BIN: &str = "/opt/strato-bootstrap/bin/strato-bootstrap";
const UNIT: &str = "/etc/systemd/system/strato-bootstrap.service";
const PORT: u16 = strato_render::BOOTSTRAP_HTTP_PORT;

fn other(e: impl std::fmt::Display) -> CliError {
    CliError::Other(anyhow!("bootstrap host: {e}"))
}

async fn sudo(s: &Session, command: &str) -> Result<String, CliError> {
    let out = s.exec(command, ExecOptions::sudo()).await.map_err(other)?;
    if !out.success() {
        return Err(other(format!(
            "`{command}` exited with status {}: {}",
            out.exit_status,
            out.stderr_text().trim()
        )));
    }
    Ok(out.stdout_text())
}

/// Upload `data` to `path` unless the file there has the same sha256. True when uploaded.
async fn put(s: &Session, data: &[u8], path: &str, mode: u32) -> Result<bool, CliError> {
    let want = strato_render::sha256_hex(data);
    let have = s
        .exec(
            &format!("sha256sum {path} 2>/dev/null"),
            ExecOptions::sudo(),
        )
        .await
        .map_err(other)?
        .stdout_text();
    if have.split_whitespace().next() == Some(want.as_str()) {
        return Ok(false);
    }
    let dir = Path::new(path)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    sudo(s, &format!("mkdir -p {dir}")).await?;
    let opts = UploadOptions {
        sudo: true,
        // The bundle is tens of MiB; the session's command timeout is for commands.
        timeout: Some(Duration::from_secs(600)),
        ..UploadOptions::default()
    };
    s.upload(data, path, mode, opts).await.map_err(other)?;
    Ok(true)
}

fn unit_text() -> String {
    format!(
        "[Unit]\nDescription=Strato bootstrap server\nAfter=network-online.target\n\n\
         [Service]\nExecStart={BIN} serve --data-dir {DATA_DIR} --listen 0.0.0.0:{PORT} --token-file {DATA_DIR}/token\n\
         Restart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n"
    )
}

/// The strato-bootstrap binary for the bootstrap host: `--bootstrap-bin`, else the one in the
/// runtime bundle (built for the nodes' glibc), else the one next to `strato`.
fn bootstrap_bin(loaded: &Loaded, args: &JobArgs) -> Result<Vec<u8>, CliError> {
    let read =
        |path: PathBuf| std::fs::read(&path).map_err(|source| CliError::Read { path, source });
    if let Some(p) = &args.bootstrap_bin {
        return read(p.clone());
    }
    if let Some(bundle) = bundle_path(loaded, args) {
        return strato_bundle::read_entry(&bundle, "bin/strato-bootstrap")
            .map_err(|e| CliError::Other(e.into()));
    }
    let exe = std::env::current_exe().map_err(|e| CliError::Other(e.into()))?;
    read(exe.with_file_name(format!("strato-bootstrap{}", std::env::consts::EXE_SUFFIX)))
}

/// Set up and reach the server on `addr`.
pub async fn prepare(
    loaded: &Loaded,
    args: &JobArgs,
    addr: &str,
    need_bundle: bool,
) -> Result<Bootstrapped, CliError> {
    let c = &loaded.cluster;
    let has_key = c.ssh.key_path.is_some()
        || c.masters
            .iter()
            .chain(&c.agents)
            .chain(&c.public_agents)
            .all(|h| h.key_path.is_some());
    if !has_key {
        return Err(CliError::Usage(format!(
            "bootstrap host {addr} logs in to the nodes itself and has no ssh-agent: set ssh.key_path"
        )));
    }
    let state = loaded.base.join(".strato");
    let connector = SshConnector::new(state.join("known_hosts.json"));
    let spec = ConnectSpec {
        ssh: loaded.cluster.ssh.for_host(&strato_config::Host::new(addr)),
        base_dir: loaded.base.clone(),
        deadline: Instant::now() + Duration::from_secs(loaded.cluster.ssh.job_timeout_seconds),
    };
    let session = connector
        .session(&spec)
        .await
        .map_err(|e| CliError::Other(anyhow!(strato_engine::chain(&e))))?;

    let bin = bootstrap_bin(loaded, args)?;
    let mut restart = put(&session, &bin, BIN, 0o755).await?;
    restart |= put(&session, unit_text().as_bytes(), UNIT, 0o644).await?;

    let tree = render(loaded, args, args.bootstrap_url.clone(), need_bundle)?;
    for (path, file) in &tree.files {
        put(
            &session,
            &file.bytes,
            &format!("{DATA_DIR}/serve/{path}"),
            file.mode,
        )
        .await?;
    }
    if let Some(bundle) = &tree.options.bundle {
        if let Some(src) = &bundle.source {
            let data = std::fs::read(src).map_err(|source| CliError::Read {
                path: src.clone(),
                source,
            })?;
            put(
                &session,
                &data,
                &format!("{DATA_DIR}/serve/{}", bundle.tree_path()),
                0o644,
            )
            .await?;
        }
    }
    // Keys and scripts cluster.yaml names go beside the server, readable by root only.
    let mut uploads = Vec::new();
    let text = rewrite_files(&loaded.cluster, &loaded.base, |p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let remote = format!("{DATA_DIR}/files/{}-{name}", uploads.len());
        uploads.push((p.to_path_buf(), remote.clone()));
        Ok(PathBuf::from(remote))
    })?;
    for (local, remote) in &uploads {
        let data = std::fs::read(local).map_err(|source| CliError::Read {
            path: local.clone(),
            source,
        })?;
        put(&session, &data, remote, 0o600).await?;
    }
    let token = match sudo(
        &session,
        &format!("cat {DATA_DIR}/token 2>/dev/null || true"),
    )
    .await?
    .trim()
    {
        "" => {
            let t = uuid::Uuid::new_v4().simple().to_string();
            put(&session, t.as_bytes(), &format!("{DATA_DIR}/token"), 0o600).await?;
            restart = true;
            t
        }
        t => t.to_string(),
    };
    let action = if restart { "restart" } else { "start" };
    sudo(&session, &format!("systemctl daemon-reload && systemctl enable strato-bootstrap >/dev/null 2>&1; systemctl {action} strato-bootstrap")).await?;
    // Until the server listens, every tunnelled health probe fails inside the SSH layer, which
    // warns about each one; wait on the host first (20 s at most; hosts without `ss` skip this
    // and rely on the health poll below).
    sudo(
        &session,
        &format!(
            "i=0; while command -v ss >/dev/null && ! ss -ltn 'sport = :{PORT}' | grep -q ':{PORT}' \
             && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.2; done; true"
        ),
    )
    .await?;

    let forward = session
        .forward_local("127.0.0.1", PORT)
        .await
        .map_err(other)?;
    let client = Client::new(format!("http://{}", forward.local_addr()), token)
        .map_err(|e| CliError::Other(e.into()))?;
    let until = Instant::now() + Duration::from_secs(30);
    while !client.health().await.unwrap_or(false) {
        if Instant::now() >= until {
            return Err(other(format!("strato-bootstrap on {addr} did not answer within 30s (journalctl -u strato-bootstrap)")));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(Bootstrapped::new(
        client,
        text,
        Box::new((session, forward)),
    ))
}
