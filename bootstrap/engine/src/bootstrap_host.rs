//! Setting up the bootstrap server on a separate bootstrap host: upload `strato-bootstrap`, its
//! unit (`templates/systemd/strato-bootstrap.service.tera`), the serve tree and the files
//! cluster.yaml names, make sure an API token exists, then (re)start the unit and wait until it
//! listens. Every change goes through [`Host::apply`], so `--dry-run` lists these changes and
//! makes none. Files are compared by sha256 first: a second run uploads nothing and does not
//! restart a server that may be running a job.

use std::time::Duration;

use strato_host::{Change, ExecOptions, Host, HostError, PlannedChange, UploadOptions};

/// Where the server lives on its host.
pub const BOOTSTRAP_DATA_DIR: &str = "/var/lib/strato-bootstrap";
pub const BOOTSTRAP_BIN: &str = "/opt/strato-bootstrap/bin/strato-bootstrap";
pub const BOOTSTRAP_UNIT: &str = "/etc/systemd/system/strato-bootstrap.service";

/// One file to put on the bootstrap host.
pub struct BootstrapFile {
    pub path: String,
    pub data: Vec<u8>,
    pub mode: u32,
    /// A change to this file needs a server restart (the binary, the unit).
    pub restarts: bool,
    /// An installed copy stays even when it differs: a command that only reads (`strato
    /// status`) installs the server where there is none but never replaces, and so restarts, the
    /// one a running deploy uses (review M-4).
    pub keep_installed: bool,
}

impl std::fmt::Debug for BootstrapFile {
    // Keys are among these files: never print their bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapFile")
            .field("path", &self.path)
            .field("bytes", &self.data.len())
            .field("mode", &format_args!("{:04o}", self.mode))
            .finish()
    }
}

/// What set-up did.
pub struct BootstrapSetup {
    /// The API token; `None` only in a dry run on a host that has none yet.
    pub token: Option<String>,
    /// Files uploaded (or, in a dry run, that would be).
    pub changed_files: usize,
    /// Whether the server was (or would be) restarted.
    pub restarted: bool,
    /// The dry-run plan (empty when changes were applied).
    pub planned: Vec<PlannedChange>,
}

impl std::fmt::Debug for BootstrapSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapSetup")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("changed_files", &self.changed_files)
            .field("restarted", &self.restarted)
            .field("planned", &self.planned)
            .finish()
    }
}

/// Bring the bootstrap host to `files` and a running server listening on `port`.
pub async fn set_up_bootstrap_host(
    host: &Host,
    files: &[BootstrapFile],
    port: u16,
) -> Result<BootstrapSetup, HostError> {
    let mut changed_files = 0;
    let mut restart = false;
    for file in files {
        if upload_if_changed(host, file).await? {
            changed_files += 1;
            restart |= file.restarts;
        }
    }
    let token_path = format!("{BOOTSTRAP_DATA_DIR}/token");
    let existing = host
        .read(
            &format!("cat {token_path} 2>/dev/null || true"),
            ExecOptions::sudo(),
        )
        .await?
        .stdout_text()
        .trim()
        .to_string();
    let token = if existing.is_empty() {
        let token = uuid::Uuid::new_v4().simple().to_string();
        host.apply_ok(Change::exec_sudo(format!("mkdir -p {BOOTSTRAP_DATA_DIR}")))
            .await?;
        host.apply_ok(Change::upload_sudo(
            token.clone().into_bytes(),
            token_path,
            0o600,
        ))
        .await?;
        restart = true;
        // In a dry run the token was not written: no server will accept it.
        (!host.is_dry_run()).then_some(token)
    } else {
        Some(existing)
    };
    let action = if restart { "restart" } else { "start" };
    host.apply_ok(Change::exec_sudo(format!(
        "systemctl daemon-reload && systemctl enable strato-bootstrap >/dev/null 2>&1; systemctl {action} strato-bootstrap"
    )))
    .await?;
    if !host.is_dry_run() {
        wait_listening(host, port).await?;
    }
    Ok(BootstrapSetup {
        token,
        changed_files,
        restarted: restart,
        planned: host.planned(),
    })
}

/// Upload `file` unless the host has the same bytes there. True when it was (or would be)
/// uploaded.
async fn upload_if_changed(host: &Host, file: &BootstrapFile) -> Result<bool, HostError> {
    let want = strato_render::sha256_hex(&file.data);
    let have = host
        .read(
            &format!(
                "sha256sum {} 2>/dev/null",
                strato_text::shell_quote(&file.path)
            ),
            ExecOptions::sudo(),
        )
        .await?
        .stdout_text();
    let installed = have.split_whitespace().next();
    if installed == Some(want.as_str()) || (file.keep_installed && installed.is_some()) {
        return Ok(false);
    }
    if let Some(dir) = std::path::Path::new(&file.path).parent() {
        let dir = dir.display().to_string();
        host.apply_ok(Change::exec_sudo(format!(
            "mkdir -p {}",
            strato_text::shell_quote(&dir)
        )))
        .await?;
    }
    host.apply_ok(Change::Upload {
        data: file.data.clone(),
        path: file.path.clone(),
        mode: file.mode,
        opts: UploadOptions {
            sudo: true,
            // The bundle is tens of MiB; the session's command timeout is for commands.
            timeout: Some(Duration::from_secs(600)),
            ..UploadOptions::default()
        },
    })
    .await?;
    Ok(true)
}

/// Until the server listens, every tunnelled health probe fails inside the SSH layer, which
/// warns about each one: wait on the host first (20 s at most; hosts without `ss` skip this and
/// rely on the caller's health poll).
async fn wait_listening(host: &Host, port: u16) -> Result<(), HostError> {
    host.read(
        &format!(
            "i=0; while command -v ss >/dev/null && ! ss -ltn 'sport = :{port}' | grep -q ':{port}' \
             && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.2; done; true"
        ),
        ExecOptions::default(),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use strato_host::{FakeCall, FakeReply, FakeTransport};

    use super::*;

    fn uploads(fake: &FakeTransport) -> Vec<String> {
        fake.calls()
            .into_iter()
            .filter_map(|c| match c {
                FakeCall::Upload { path, .. } => Some(path),
                _ => None,
            })
            .collect()
    }

    fn files() -> Vec<BootstrapFile> {
        vec![
            BootstrapFile {
                path: BOOTSTRAP_BIN.into(),
                data: b"binary".to_vec(),
                mode: 0o755,
                restarts: true,
                keep_installed: false,
            },
            BootstrapFile {
                path: format!("{BOOTSTRAP_DATA_DIR}/files/0-id_ed25519"),
                data: b"PRIVATE KEY".to_vec(),
                mode: 0o600,
                restarts: false,
                keep_installed: false,
            },
        ]
    }

    #[tokio::test]
    async fn a_dry_run_lists_every_change_and_makes_none() {
        let fake = FakeTransport::new("10.0.0.5");
        fake.default_reply(FakeReply::ok(""));
        let host = Host::new("10.0.0.5", Arc::new(fake.clone())).with_dry_run(true);
        let setup = set_up_bootstrap_host(&host, &files(), 8090)
            .await
            .expect("planned");
        assert_eq!(setup.token, None);
        assert_eq!(setup.changed_files, 2);
        let plan: Vec<String> = setup
            .planned
            .iter()
            .map(|p| p.description.clone())
            .collect();
        assert!(plan
            .iter()
            .any(|l| l.starts_with(&format!("would upload: {BOOTSTRAP_BIN} (6 bytes"))));
        assert!(plan
            .iter()
            .any(|l| l.contains("/token (32 bytes, mode 0600)")));
        assert!(plan
            .iter()
            .any(|l| l.contains("systemctl restart strato-bootstrap")));
        assert!(uploads(&fake).is_empty(), "nothing uploaded");
        assert!(
            fake.commands()
                .iter()
                .all(|c| c.starts_with("sha256sum") || c.starts_with("cat ")),
            "only reads ran: {:?}",
            fake.commands()
        );
        assert!(!format!("{setup:?}").contains("PRIVATE KEY"));
    }

    #[tokio::test]
    async fn an_unchanged_host_gets_no_upload_and_no_restart() {
        let fake = FakeTransport::new("10.0.0.5");
        fake.default_reply(FakeReply::ok(""));
        for f in files() {
            fake.on_prefix(
                &format!("sha256sum {}", f.path),
                FakeReply::ok(format!(
                    "{}  {}\n",
                    strato_render::sha256_hex(&f.data),
                    f.path
                )),
            );
        }
        fake.on_prefix(
            &format!("cat {BOOTSTRAP_DATA_DIR}/token"),
            FakeReply::ok("abc123\n"),
        );
        let host = Host::new("10.0.0.5", Arc::new(fake.clone()));
        let setup = set_up_bootstrap_host(&host, &files(), 8090)
            .await
            .expect("set up");
        assert_eq!(setup.token.as_deref(), Some("abc123"));
        assert_eq!(setup.changed_files, 0);
        assert!(!setup.restarted);
        assert!(uploads(&fake).is_empty());
        assert!(fake
            .commands()
            .iter()
            .any(|c| c.contains("systemctl start strato-bootstrap")));
    }

    #[tokio::test]
    async fn a_read_only_setup_keeps_an_installed_server_and_installs_a_missing_one() {
        let keep = |mut files: Vec<BootstrapFile>| {
            for f in &mut files {
                f.keep_installed = true;
            }
            files
        };
        // Installed, but other bytes (a deploy installed the bundle's binary): kept, no restart.
        let fake = FakeTransport::new("10.0.0.5");
        fake.default_reply(FakeReply::ok(""));
        for f in files() {
            fake.on_prefix(
                &format!("sha256sum {}", f.path),
                FakeReply::ok(format!("{}  {}\n", "0".repeat(64), f.path)),
            );
        }
        fake.on_prefix(
            &format!("cat {BOOTSTRAP_DATA_DIR}/token"),
            FakeReply::ok("abc123\n"),
        );
        let host = Host::new("10.0.0.5", Arc::new(fake.clone()));
        let setup = set_up_bootstrap_host(&host, &keep(files()), 8090)
            .await
            .expect("set up");
        assert_eq!(setup.changed_files, 0);
        assert!(!setup.restarted);
        assert!(uploads(&fake).is_empty(), "{:?}", uploads(&fake));

        // Nothing installed yet: everything is uploaded and the server started.
        let fake = FakeTransport::new("10.0.0.5");
        fake.default_reply(FakeReply::ok(""));
        let host = Host::new("10.0.0.5", Arc::new(fake.clone()));
        let setup = set_up_bootstrap_host(&host, &keep(files()), 8090)
            .await
            .expect("set up");
        assert_eq!(setup.changed_files, 2);
        assert_eq!(uploads(&fake).len(), 3, "two files and the token");
        assert!(setup.restarted);
    }
}
