//! Rendering the serve tree in memory (`render_tree`, pure) and writing it out (`write_tree`).
use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use tera::Context;

use crate::engine::{engine, render};
use crate::error::RenderError;
use crate::input::{
    BundleRef, IpDetect, RenderInput, RenderOptions, DNS_PORT, ETCD_CLIENT_PORT, ETCD_PEER_PORT,
    MARATHON_PORT, MESOS_PORT,
};
use crate::manifest::{sha256sums, Manifest, ManifestEntry, MANIFEST_PATH, SHA256SUMS_PATH};

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub bytes: Vec<u8>,
    /// Unix permission bits: 0o755 for scripts, 0o644 otherwise.
    pub mode: u32,
}

/// The serve tree in memory: files by `/`-separated relative path (sorted), and the manifest
/// describing them (plus the bundle, which is copied rather than rendered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedTree {
    pub files: BTreeMap<String, RenderedFile>,
    pub manifest: Manifest,
    pub options: RenderOptions,
}

/// Values every template sees. Field order is irrelevant: Tera looks values up by name.
#[derive(Serialize)]
struct TemplateContext<'a> {
    cluster_name: &'a str,
    bootstrap_url: &'a str,
    bundle_path: String,
    /// The bundle's manifest version: install.sh's `/opt/strato/versions/<version>`.
    bundle_version: String,
    masters: &'a [String],
    master_endpoints: Vec<String>,
    resolvers: &'a [String],
    dns_domain: &'a str,
    mesos_port: u16,
    marathon_port: u16,
    dns_port: u16,
    public: bool,
    route_target: String,
    interface: &'a str,
    /// `[key, value]` pairs for agent.toml's `attributes`.
    attributes: Vec<(String, String)>,
    /// cluster.yaml's `hostname` of this agent (per-host agent.toml only).
    hostname: Option<String>,
    task_user: &'a str,
    agent_timeout_seconds: u64,
    allow_privileged_containers: bool,
    container_parameters: &'a [String],
    /// The masters run etcd (3 or more masters).
    etcd: bool,
    /// `<ip>=https://<ip>:2380,…` over the masters, for `--initial-cluster`.
    etcd_initial_cluster: String,
    /// `https://<ip>:2379` for each master, for master.toml's `etcd_endpoints`.
    etcd_endpoints: Vec<String>,
    etcd_client_port: u16,
    etcd_peer_port: u16,
    gateway: &'a crate::input::GatewayInput,
    container_engine: Option<&'a str>,
}

/// Renders the serve tree for `input` (see `render_tree` for a `Cluster`). Pure: touches no
/// files, same input → same bytes.
pub fn render_input(
    input: &RenderInput,
    options: &RenderOptions,
) -> Result<RenderedTree, RenderError> {
    let mut input = input.clone();
    if options.bootstrap_url.is_some() {
        input.bootstrap_url.clone_from(&options.bootstrap_url);
    }
    input.check()?;
    let etcd = input.uses_etcd();
    if let Some(bundle) = options.bundle.as_ref().filter(|b| etcd && b.etcd.is_none()) {
        return Err(RenderError::EtcdMissing {
            masters: input.masters.len(),
            bundle: bundle.file_name.clone(),
        });
    }
    let bundle_version = match &options.bundle {
        None => String::new(),
        Some(bundle) => bundle_version(bundle)?,
    };
    let tera = engine()?;

    let first_master = &input.masters[0];
    // `ip route get` needs an address; a master given by name falls back to a public one.
    let route_target = if first_master.parse::<std::net::Ipv4Addr>().is_ok() {
        first_master.clone()
    } else {
        "8.8.8.8".to_owned()
    };
    let interface = match &input.ip_detect {
        IpDetect::Interface(name) => name.as_str(),
        _ => "",
    };
    let mut ctx = TemplateContext {
        cluster_name: &input.cluster_name,
        bootstrap_url: input.bootstrap_url.as_deref().unwrap_or(""),
        bundle_path: options
            .bundle
            .as_ref()
            .map(|b| b.tree_path())
            .unwrap_or_default(),
        bundle_version,
        masters: &input.masters,
        master_endpoints: input
            .masters
            .iter()
            .map(|m| format!("{m}:{MESOS_PORT}"))
            .collect(),
        resolvers: &input.resolvers,
        dns_domain: &input.dns_domain,
        mesos_port: MESOS_PORT,
        marathon_port: MARATHON_PORT,
        dns_port: DNS_PORT,
        public: false,
        route_target,
        interface,
        attributes: Vec::new(),
        hostname: None,
        task_user: &input.task_user,
        agent_timeout_seconds: input.agent_timeout_seconds,
        allow_privileged_containers: input.allow_privileged_containers,
        container_parameters: &input.container_parameters,
        etcd,
        etcd_initial_cluster: input
            .masters
            .iter()
            .map(|m| format!("{m}=https://{m}:{ETCD_PEER_PORT}"))
            .collect::<Vec<_>>()
            .join(","),
        etcd_endpoints: input
            .masters
            .iter()
            .map(|m| format!("https://{m}:{ETCD_CLIENT_PORT}"))
            .collect(),
        etcd_client_port: ETCD_CLIENT_PORT,
        etcd_peer_port: ETCD_PEER_PORT,
        gateway: &input.gateway,
        container_engine: input.container_engine.as_deref(),
    };
    let context = |ctx: &TemplateContext| {
        Context::from_serialize(ctx).expect("the template context is a plain struct")
    };

    let mut files = BTreeMap::new();
    let mut add = |path: &str, text: String, mode: u32| {
        files.insert(
            path.to_owned(),
            RenderedFile {
                bytes: text.into_bytes(),
                mode,
            },
        );
    };
    let c = context(&ctx);
    add(
        "install.sh",
        render(&tera, "scripts/install.sh.tera", &c)?,
        0o755,
    );
    add(
        "upgrade.sh",
        render(&tera, "scripts/upgrade.sh.tera", &c)?,
        0o755,
    );
    add(
        "uninstall.sh",
        render(&tera, "scripts/uninstall.sh.tera", &c)?,
        0o755,
    );
    let ip_detect = match &input.ip_detect {
        IpDetect::Route => render(&tera, "scripts/ip-detect-route.sh.tera", &c)?,
        IpDetect::Interface(_) => render(&tera, "scripts/ip-detect-interface.sh.tera", &c)?,
        IpDetect::Script { path, content } => content
            .clone()
            .ok_or_else(|| RenderError::IpDetectScriptMissing { path: path.clone() })?,
    };
    add("ip-detect", ip_detect, 0o755);
    add(
        "systemd/strato-master.service",
        render(&tera, "systemd/strato-master.service.tera", &c)?,
        0o644,
    );
    if etcd {
        add(
            "systemd/strato-etcd.service",
            render(&tera, "systemd/strato-etcd.service.tera", &c)?,
            0o644,
        );
    }
    add(
        "systemd/strato-agent.service",
        render(&tera, "systemd/strato-agent.service.tera", &c)?,
        0o644,
    );
    add(
        "config/master.toml",
        render(&tera, "config/master.toml.tera", &c)?,
        0o644,
    );
    add(
        "config/agent.toml",
        render(&tera, "config/agent.toml.tera", &c)?,
        0o644,
    );
    ctx.public = true;
    add(
        "config/public-agent.toml",
        render(&tera, "config/agent.toml.tera", &context(&ctx))?,
        0o644,
    );
    for agent in &input.labelled_agents {
        ctx.public = agent.public;
        ctx.attributes.clone_from(&agent.labels);
        ctx.hostname.clone_from(&agent.hostname);
        let text = render(&tera, "config/agent.toml.tera", &context(&ctx))?;
        add(
            &format!("config/hosts/{}/agent.toml", agent.address),
            text,
            0o644,
        );
    }

    let mut entries: Vec<ManifestEntry> = files
        .iter()
        .map(|(path, f)| ManifestEntry::of(path, &f.bytes))
        .collect();
    if let Some(bundle) = &options.bundle {
        entries.push(ManifestEntry {
            path: bundle.tree_path(),
            sha256: bundle.sha256.clone(),
            size: bundle.size,
        });
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let sums = sha256sums(&entries);
    entries.push(ManifestEntry::of(SHA256SUMS_PATH, sums.as_bytes()));
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    files.insert(
        SHA256SUMS_PATH.to_owned(),
        RenderedFile {
            bytes: sums.into_bytes(),
            mode: 0o644,
        },
    );
    let manifest = Manifest {
        cluster_name: input.cluster_name.clone(),
        etcd: options
            .bundle
            .as_ref()
            .filter(|_| etcd)
            .and_then(|b| b.etcd.clone()),
        files: entries,
    };
    files.insert(
        MANIFEST_PATH.to_owned(),
        RenderedFile {
            bytes: manifest.to_json().into_bytes(),
            mode: 0o644,
        },
    );
    Ok(RenderedTree {
        files,
        manifest,
        options: options.clone(),
    })
}

/// The version install.sh installs the bundle as: its manifest's, refused when unknown (a file
/// that is not a strato bundle) or unfit for a directory name, rather than guessed.
fn bundle_version(bundle: &BundleRef) -> Result<String, RenderError> {
    let err = |problem: String| RenderError::BundleVersion {
        bundle: bundle.file_name.clone(),
        problem,
    };
    let version = bundle
        .version
        .as_ref()
        .ok_or_else(|| err("has no version (it is not a strato bundle)".into()))?;
    strato_bundle::check_version(version).map_err(|e| err(format!("has an {e}")))?;
    Ok(version.clone())
}

/// Writes `tree` under `dir` (created if missing). Each file is written to a temporary name and
/// renamed, `manifest.json` last, so a reader that sees the new manifest sees complete files.
/// Files a previous manifest listed that this tree no longer has are removed; nothing else is.
pub fn write_tree(tree: &RenderedTree, dir: &Path) -> Result<(), RenderError> {
    let stale = previous_manifest(dir);
    if let Some(bundle) = &tree.options.bundle {
        if let Some(source) = &bundle.source {
            let dest = dir.join(bundle.tree_path());
            if !same_file_hash(&dest, &bundle.sha256) {
                copy_atomic(source, &dest)?;
            }
        }
    }
    let (manifest, others): (Vec<_>, Vec<_>) = tree
        .files
        .iter()
        .partition(|(path, _)| path.as_str() == MANIFEST_PATH);
    for (path, file) in others.into_iter().chain(manifest) {
        write_atomic(&dir.join(path), &file.bytes, file.mode)?;
    }
    if let Some(old) = stale {
        for entry in old.files {
            if tree.manifest.get(&entry.path).is_none() && !entry.path.contains("..") {
                let _ = std::fs::remove_file(dir.join(&entry.path));
            }
        }
    }
    Ok(())
}

fn previous_manifest(dir: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(dir.join(MANIFEST_PATH)).ok()?;
    serde_json::from_str(&text).ok()
}

fn same_file_hash(path: &Path, sha256: &str) -> bool {
    crate::input::BundleRef::from_file(path).is_ok_and(|b| b.sha256 == sha256)
}

/// Every file of the serve tree is replaced atomically (`strato_atomic_file`), with its mode.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), RenderError> {
    strato_atomic_file::write_with_mode(path, bytes, mode).map_err(|source| RenderError::Write {
        path: path.to_owned(),
        source,
    })
}

fn copy_atomic(source: &Path, dest: &Path) -> Result<(), RenderError> {
    if let Err(e) = std::fs::metadata(source) {
        return Err(RenderError::Read {
            path: source.to_owned(),
            source: e,
        });
    }
    strato_atomic_file::copy(source, dest, 0o644).map_err(|e| RenderError::Write {
        path: dest.to_owned(),
        source: e,
    })
}
