//! A bootstrap server on a separate bootstrap host: the files it needs (`strato-bootstrap`, its
//! unit, the serve tree with the bundle, the keys and scripts cluster.yaml names) are set up by
//! `strato_engine::set_up_bootstrap_host` through `Host::apply`, so `--dry-run` lists them and
//! changes nothing; then its API is reached through an SSH local port forward.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use strato_api::Client;
use strato_engine::{
    set_up_bootstrap_host, BootstrapFile, ConnectSpec, SshConnector, BOOTSTRAP_BIN,
    BOOTSTRAP_DATA_DIR, BOOTSTRAP_UNIT,
};
use strato_host::{Host, SshTransport};

use super::job::{bundle_path, render, rewrite_files, Bootstrapped, JobArgs, Loaded};
use crate::CliError;

const PORT: u16 = strato_render::BOOTSTRAP_HTTP_PORT;

fn other(e: impl std::fmt::Display) -> CliError {
    CliError::Other(anyhow!("bootstrap host: {e}"))
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

/// Where the server listens: the bootstrap host's own address when cluster.yaml gives it as an
/// IP (the nodes and the CLI's SSH tunnel both reach it there), else every address, since a
/// name may resolve to several.
fn listen_address(addr: &str) -> std::net::SocketAddr {
    let ip = addr
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    std::net::SocketAddr::new(ip, PORT)
}

/// Where the CLI's tunnel connects on the bootstrap host: the address the server listens on.
fn tunnel_target(addr: &str) -> String {
    match listen_address(addr).ip() {
        ip if ip.is_unspecified() => "127.0.0.1".into(),
        ip => ip.to_string(),
    }
}

/// Every file the bootstrap host needs, with where it goes; also cluster.yaml as the server
/// must read it (paths rewritten to the uploaded copies).
/// What a command has the bootstrap server serve to the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// The serve tree with the runtime bundle (deploy).
    TreeWithBundle,
    /// The serve tree (preflight, postflight, uninstall).
    Tree,
    /// What it serves already: a command that only reads (`strato status`) must not rewrite
    /// the tree a running deploy's nodes are fetching from (review M-4).
    Unchanged,
}

fn bootstrap_files(
    loaded: &Loaded,
    args: &JobArgs,
    addr: &str,
    serve: Serve,
) -> Result<(Vec<BootstrapFile>, String), CliError> {
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|source| CliError::Read {
            path: path.clone(),
            source,
        })
    };
    let unit = strato_render::render_bootstrap_unit(&strato_render::BootstrapUnitInput {
        cluster_name: loaded.cluster.cluster_name.clone(),
        bin: BOOTSTRAP_BIN.into(),
        data_dir: BOOTSTRAP_DATA_DIR.into(),
        listen: listen_address(addr).to_string(),
        serve_url: args
            .bootstrap_url
            .clone()
            .or_else(|| strato_render::bootstrap_url(&loaded.cluster))
            .unwrap_or_else(|| format!("https://{}", listen_address(addr))),
    })
    .map_err(|e| CliError::Other(e.into()))?;
    // A read-only command installs the server where there is none, but never replaces (and so
    // restarts) the one a running deploy uses, whose binary may be the bundle's (review M-4).
    let keep_installed = serve == Serve::Unchanged;
    let mut files = vec![
        BootstrapFile {
            path: BOOTSTRAP_BIN.into(),
            data: bootstrap_bin(loaded, args)?,
            mode: 0o755,
            restarts: true,
            keep_installed,
        },
        BootstrapFile {
            path: BOOTSTRAP_UNIT.into(),
            data: unit.into_bytes(),
            mode: 0o644,
            restarts: true,
            keep_installed,
        },
    ];
    if serve != Serve::Unchanged {
        let need_bundle = serve == Serve::TreeWithBundle;
        let tree = render(loaded, args, args.bootstrap_url.clone(), need_bundle)?;
        for (path, file) in &tree.files {
            files.push(BootstrapFile {
                path: format!("{BOOTSTRAP_DATA_DIR}/serve/{path}"),
                data: file.bytes.clone(),
                mode: file.mode,
                restarts: false,
                keep_installed: false,
            });
        }
        if let Some(bundle) = &tree.options.bundle {
            if let Some(src) = &bundle.source {
                files.push(BootstrapFile {
                    path: format!("{BOOTSTRAP_DATA_DIR}/serve/{}", bundle.tree_path()),
                    data: read(src)?,
                    mode: 0o644,
                    restarts: false,
                    keep_installed: false,
                });
            }
        }
    }
    // The cluster CA: the server issues node certificates from it (installer/src/pki.rs says
    // why it may live there), and its own HTTPS certificate at start, so a new CA restarts it.
    let ca = crate::pki::ensure(&loaded.base, &loaded.cluster.cluster_name)?;
    // Its public signing key goes beside it, never the private one: nodes check the tree with it.
    for (name, mode, restarts) in [
        (strato_tls::CA_CERT, 0o644, true),
        (strato_tls::CA_KEY, 0o600, true),
        (strato_tls::TRUST_BUNDLE, 0o644, true),
        (strato_tls::SIGNING_PUB, 0o644, false),
        // The gateway's: masters get the token secret and the admin password's hash.
        (strato_tls::GATEWAY_TOKEN_SECRET, 0o600, false),
        (strato_tls::GATEWAY_ADMIN_HASH, 0o600, false),
    ] {
        files.push(BootstrapFile {
            path: format!("{BOOTSTRAP_DATA_DIR}/pki/{name}"),
            data: read(&ca.dir().join(name))?,
            mode,
            restarts,
            keep_installed: keep_installed && restarts,
        });
    }
    // The etcd CA: the server issues masters' etcd certificates from it.
    let etcd_dir = ca.dir().join(strato_tls::ETCD_CA_DIR);
    for (name, mode) in [(strato_tls::CA_CERT, 0o644), (strato_tls::CA_KEY, 0o600)] {
        files.push(BootstrapFile {
            path: format!(
                "{BOOTSTRAP_DATA_DIR}/pki/{}/{name}",
                strato_tls::ETCD_CA_DIR
            ),
            data: read(&etcd_dir.join(name))?,
            mode,
            restarts: false,
            keep_installed: false,
        });
    }
    // Keys and scripts cluster.yaml names go beside the server, readable by root only, for as
    // long as a job runs (`Bootstrapped::forget_secrets` removes them after).
    let mut uploads = Vec::new();
    let text = rewrite_files(&loaded.cluster, &loaded.base, |p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let remote = format!("{BOOTSTRAP_DATA_DIR}/files/{}-{name}", uploads.len());
        uploads.push((p.to_path_buf(), remote.clone()));
        Ok(PathBuf::from(remote))
    })?;
    // A command that only reads submits no job, so it needs none of them.
    for (local, remote) in uploads.into_iter().filter(|_| serve != Serve::Unchanged) {
        files.push(BootstrapFile {
            path: remote,
            data: plain_key_or_file(&local)?,
            mode: 0o600,
            restarts: false,
            keep_installed: false,
        });
    }
    Ok((files, text))
}

/// A file cluster.yaml names, as the bootstrap host gets it: an encrypted SSH key decrypted here
/// (its passphrase from `STRATO_SSH_PASSPHRASE` or the terminal), since the server there has
/// nobody to ask; it stays root-only (0600) and is removed when the job ends. Anything else as is.
fn plain_key_or_file(path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(bytes);
    };
    match strato_ssh::decrypted_key(path, text, &strato_ssh::Passphrase::FromEnv) {
        Ok(Some(plain)) => Ok(plain.as_bytes().to_vec()),
        Ok(None) => Ok(bytes),
        Err(error) => Err(CliError::Other(error.into())),
    }
}

/// Set up and reach the server on `addr`. `None` in a dry run on a host whose server is not
/// installed yet: the plan for the bootstrap host is printed, and the nodes cannot be planned
/// without a server.
pub async fn prepare(
    loaded: &Loaded,
    args: &JobArgs,
    addr: &str,
    serve: Serve,
) -> Result<Option<Bootstrapped>, CliError> {
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
    let (files, text) = bootstrap_files(loaded, args, addr, serve)?;
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
    let host =
        Host::new(addr, Arc::new(SshTransport::new(session.clone()))).with_dry_run(args.dry_run);
    let mut link = None;
    // A command that submits a job first reaches the server as it is (installing it only where
    // there is none) and stops while another job runs: that job's nodes fetch from the serve
    // tree this command would rewrite, from the server this command might restart (review M-4).
    if serve != Serve::Unchanged && !args.dry_run {
        // The server's own files (those whose change restarts it), as a read-only command
        // installs them: only where there are none.
        let server_only: Vec<BootstrapFile> = files
            .iter()
            .filter(|f| f.restarts)
            .map(|f| BootstrapFile {
                path: f.path.clone(),
                data: f.data.clone(),
                mode: f.mode,
                restarts: true,
                keep_installed: true,
            })
            .collect();
        let setup = set_up_bootstrap_host(&host, &server_only, PORT)
            .await
            .map_err(other)?;
        if let Some(token) = setup.token {
            let (client, forward) = reach(loaded, &session, addr, token).await?;
            refuse_while_a_job_runs(&client).await?;
            link = Some((client, forward));
        }
    }
    let setup = set_up_bootstrap_host(&host, &files, PORT)
        .await
        .map_err(other)?;
    if args.dry_run {
        eprintln!("==> bootstrap host {addr}:");
        for change in &setup.planned {
            eprintln!("    {}", change.description);
        }
        if setup.planned.is_empty() {
            eprintln!("    nothing to change");
        }
    }
    let Some(token) = setup.token else {
        eprintln!(
            "==> dry run: the bootstrap server on {addr} is not installed yet, so the nodes are not planned; \
             run without --dry-run to install it"
        );
        return Ok(None);
    };
    if args.dry_run {
        // A dry run's job still reaches the nodes to plan: the keys it names are job inputs (as
        // for any job, removed when it ends, `Bootstrapped::forget_secrets`), not a change to
        // what the bootstrap host serves, which stays as it is.
        let real = Host::new(addr, Arc::new(SshTransport::new(session.clone())));
        let secrets = format!("{BOOTSTRAP_DATA_DIR}/files/");
        for file in files.iter().filter(|f| f.path.starts_with(&secrets)) {
            real.apply_ok(strato_host::Change::exec_sudo(format!(
                "mkdir -p {BOOTSTRAP_DATA_DIR}/files && chmod 0700 {BOOTSTRAP_DATA_DIR}/files"
            )))
            .await
            .map_err(other)?;
            real.apply_ok(strato_host::Change::upload_sudo(
                file.data.clone(),
                file.path.clone(),
                file.mode,
            ))
            .await
            .map_err(other)?;
        }
    }
    let (client, forward) = match link {
        // The same server and token (the token is made once); it may have restarted meanwhile.
        Some((client, forward)) => {
            wait_healthy(&client, addr).await?;
            (client, forward)
        }
        None => reach(loaded, &session, addr, token).await?,
    };
    Ok(Some(
        Bootstrapped::new(client, text, Box::new((session, forward)))
            .with_secrets(host, format!("{BOOTSTRAP_DATA_DIR}/files")),
    ))
}

/// The server's API through an SSH port forward, once it answers.
async fn reach(
    loaded: &Loaded,
    session: &strato_ssh::Session,
    addr: &str,
    token: String,
) -> Result<(Client, strato_ssh::LocalForward), CliError> {
    let forward = session
        .forward_local(&tunnel_target(addr), PORT)
        .await
        .map_err(other)?;
    let operator = crate::pki::operator_tls(&loaded.base)?;
    let client = Client::with_tls(
        format!("https://{}", forward.local_addr()),
        token,
        &operator,
    )
    .map_err(|e| CliError::Other(e.into()))?;
    wait_healthy(&client, addr).await?;
    Ok((client, forward))
}

async fn wait_healthy(client: &Client, addr: &str) -> Result<(), CliError> {
    let until = Instant::now() + Duration::from_secs(30);
    while !client.health().await.unwrap_or(false) {
        if Instant::now() >= until {
            return Err(other(format!("strato-bootstrap on {addr} did not answer within 30s (journalctl -u strato-bootstrap)")));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(())
}

/// One job that changes nodes at a time: a job still running (submitted by another CLI, or by
/// one that crashed and left it to the server) refuses this command, naming it.
async fn refuse_while_a_job_runs(client: &Client) -> Result<(), CliError> {
    let jobs = client.jobs().await.map_err(|e| CliError::Other(e.into()))?;
    match jobs.into_iter().find(|j| !j.state.is_finished()) {
        Some(job) => Err(CliError::Busy {
            job: job.id.to_string(),
            kind: job.kind.to_string(),
        }),
        None => Ok(()),
    }
}
