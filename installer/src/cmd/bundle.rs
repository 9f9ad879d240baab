//! `strato bundle`: build the node binaries (or take prebuilt ones) and pack them into the
//! versioned, checksummed runtime bundle at the default place `deploy` looks in; with `--etcd`,
//! the etcd that masters of a 3+ master cluster run travels in it too. `--version` stamps it with
//! another version than this source tree's, to rehearse an upgrade (`upgrade.sh` on the nodes).
use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, ValueEnum};
use strato_bundle::{
    BuildOptions, BuildProfile, EtcdSource, GlibcTarget, GlibcVersion, PackInputs,
};

use crate::{CliError, Exit};

/// clap's own `-V/--version` is off here: `--version VERSION` is the bundle's version.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct BundleArgs {
    /// Take prebuilt strato-master, strato-agent and strato-bootstrap from DIR instead of
    /// building them (needed outside a source checkout).
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
    /// Directory to write the bundle and its .sha256 to; default: target/strato-bundle in a
    /// source checkout, else the user's cache dir (env STRATO_BUNDLE_DIR overrides both).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Cargo profile for the build. Release is what nodes should run; dev builds in a fraction
    /// of the time and is what the tests use.
    #[arg(long, value_enum, default_value_t = Profile::Release)]
    pub profile: Profile,
    /// Oldest glibc the binaries must run on (MAJOR.MINOR, built with cargo-zigbuild), or
    /// `native` for a plain cargo build against this machine's glibc.
    #[arg(long, default_value_t = strato_bundle::DEFAULT_GLIBC.to_string(), value_name = "VERSION|native")]
    pub glibc: String,
    /// The etcd binary masters of a 3, 5, 7 or 9 master cluster run (e.g. /usr/bin/etcd from
    /// Debian's etcd-server, or a static upstream release for EL8 nodes); bundled as bin/etcd.
    #[arg(long, value_name = "PATH")]
    pub etcd: Option<PathBuf>,
    /// etcdctl to bundle beside etcd; default: an etcdctl next to the --etcd binary, if any.
    #[arg(long, value_name = "PATH", requires = "etcd")]
    pub etcdctl: Option<PathBuf>,
    /// etcd's version, needed when the --etcd binary cannot run on this machine (otherwise
    /// `etcd --version` says it, and must agree).
    #[arg(long, value_name = "VERSION", requires = "etcd")]
    pub etcd_version: Option<String>,
    /// Stamp the bundle with this version (MAJOR.MINOR.PATCH[-PRERELEASE]) instead of this
    /// source tree's, in its manifest and file name: nodes install each version side by side
    /// (/opt/strato/versions/VERSION), so an upgrade and a rollback can be rehearsed from one
    /// checkout.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    Dev,
    Release,
}

pub fn run(args: BundleArgs) -> Result<Exit, CliError> {
    let glibc = parse_glibc(&args.glibc)?;
    if let Some(version) = &args.version {
        strato_bundle::check_version(version)
            .map_err(|e| CliError::Usage(format!("--version: {e}")))?;
    }
    // Checked before a build that may take minutes.
    let etcd = args
        .etcd
        .as_deref()
        .map(|etcd| {
            EtcdSource::resolve(etcd, args.etcdctl.as_deref(), args.etcd_version.as_deref())
        })
        .transpose()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let bin_dir = match &args.bin_dir {
        Some(dir) => dir.clone(),
        None => {
            let workspace = strato_bundle::source_checkout().ok_or_else(|| {
                CliError::Usage(
                    "not in a Strato source checkout: pass --bin-dir DIR with prebuilt \
                     strato-master, strato-agent and strato-bootstrap"
                        .into(),
                )
            })?;
            let profile = match args.profile {
                Profile::Dev => BuildProfile::Dev,
                Profile::Release => BuildProfile::Release,
            };
            eprintln!("building node binaries in {}", workspace.display());
            strato_bundle::build_node_binaries(&BuildOptions {
                workspace,
                profile,
                glibc,
            })
            .map_err(|e| CliError::Other(e.into()))?
        }
    };
    let mut inputs = PackInputs::node_binaries(&bin_dir).map_err(|e| CliError::Other(e.into()))?;
    if let Some(version) = &args.version {
        inputs = inputs
            .with_version(version)
            .map_err(|e| CliError::Usage(format!("--version: {e}")))?;
    }
    if let Some(etcd) = &etcd {
        inputs = inputs.with_etcd(etcd);
    }
    let out = args
        .out_dir
        .unwrap_or_else(strato_bundle::default_bundle_dir);
    let info = strato_bundle::pack(&inputs, &out).map_err(|e| CliError::Other(e.into()))?;

    let min_glibc = info
        .manifest
        .min_glibc
        .map_or_else(|| "unknown".to_string(), |v| v.to_string());
    if let (GlibcTarget::AtMost(want), Some(got)) = (glibc, info.manifest.min_glibc) {
        if got > want && args.bin_dir.is_none() {
            return Err(CliError::Other(anyhow!(
                "the built binaries need glibc {got}, newer than the requested {want}"
            )));
        }
    }
    println!("wrote {}", info.path.display());
    println!(
        "  version {}, target {}, min glibc {min_glibc}, {:.1} MiB, sha256 {}",
        info.manifest.version,
        info.manifest.target,
        info.size as f64 / (1024.0 * 1024.0),
        info.sha256
    );
    match &info.manifest.etcd {
        Some(etcd) => println!(
            "  etcd {} (min glibc {}): for clusters of 3 or more masters",
            etcd.version,
            etcd.min_glibc
                .map_or_else(|| "none, static".to_string(), |v| v.to_string())
        ),
        None => println!(
            "  no etcd: fine for one master; 3 or more masters need `strato bundle --etcd PATH`"
        ),
    }
    for f in &info.manifest.files {
        println!("  {} ({} bytes)", f.path, f.size);
    }
    Ok(Exit::Success)
}

fn parse_glibc(text: &str) -> Result<GlibcTarget, CliError> {
    if text == "native" {
        return Ok(GlibcTarget::Native);
    }
    text.parse::<GlibcVersion>()
        .map(GlibcTarget::AtMost)
        .map_err(|e| CliError::Usage(format!("--glibc: {e}")))
}
