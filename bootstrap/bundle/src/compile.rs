//! Building the node binaries from a source checkout with cargo. By default with cargo-zigbuild
//! against an old glibc ([`DEFAULT_GLIBC`](crate::DEFAULT_GLIBC)), so the binaries start on
//! every supported distribution; `GlibcTarget::Native` uses plain `cargo build` (binaries then
//! need the build machine's glibc symbol versions, 2.34 on Debian 12).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::BundleError;
use crate::glibc::GlibcVersion;
use crate::{default_target, NODE_BINARIES};

/// Cargo profile to build with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildProfile {
    /// Fast to build, large binaries: tests and iterating on a cluster.
    Dev,
    /// What operators install: optimised, several times smaller.
    Release,
}

impl BuildProfile {
    fn cargo_name(self) -> &'static str {
        match self {
            BuildProfile::Dev => "dev",
            BuildProfile::Release => "release",
        }
    }

    /// The directory under the target dir that cargo writes this profile to.
    fn dir_name(self) -> &'static str {
        match self {
            BuildProfile::Dev => "debug",
            BuildProfile::Release => "release",
        }
    }
}

/// Which glibc to link against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlibcTarget {
    /// The build machine's (plain `cargo build`).
    Native,
    /// This version's symbols at most (`cargo zigbuild --target <triple>.<version>`).
    AtMost(GlibcVersion),
}

/// How to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// The workspace root (see [`source_checkout`](crate::source_checkout)).
    pub workspace: PathBuf,
    pub profile: BuildProfile,
    pub glibc: GlibcTarget,
}

/// Build [`NODE_BINARIES`] and return the directory that holds them. Cargo's output goes to
/// this process's stderr so the operator sees progress.
pub fn build_node_binaries(opts: &BuildOptions) -> Result<PathBuf, BundleError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|d| {
            if d.is_absolute() {
                d
            } else {
                opts.workspace.join(d)
            }
        })
        .unwrap_or_else(|| opts.workspace.join("target"));
    let bin_dir = match opts.glibc {
        GlibcTarget::Native => {
            cmd.arg("build");
            target_dir.join(opts.profile.dir_name())
        }
        GlibcTarget::AtMost(version) => {
            let venv_bin = find_zigbuild(&opts.workspace)?;
            if let Some(dir) = venv_bin {
                cmd.env("PATH", prepend_path(&dir));
            }
            let triple = default_target();
            cmd.arg("zigbuild")
                .arg("--target")
                .arg(format!("{triple}.{version}"));
            target_dir.join(&triple).join(opts.profile.dir_name())
        }
    };
    for bin in NODE_BINARIES {
        cmd.arg("-p").arg(bin);
    }
    cmd.arg("--profile")
        .arg(opts.profile.cargo_name())
        .current_dir(&opts.workspace);
    let shown = format!("{cmd:?}");
    tracing::info!("building node binaries: {shown}");
    let status = cmd.status().map_err(|e| BundleError::CommandFailed {
        command: shown.clone(),
        status: e.to_string(),
    })?;
    if !status.success() {
        return Err(BundleError::CommandFailed {
            command: shown,
            status: status.to_string(),
        });
    }
    Ok(bin_dir)
}

/// `cargo-zigbuild` on `PATH` (→ `None`) or in the workspace's `.venv` (→ its bin directory,
/// where tests/prereqs.sh installs it with `ziglang` from PyPI).
fn find_zigbuild(workspace: &Path) -> Result<Option<PathBuf>, BundleError> {
    let exe = format!("cargo-zigbuild{}", std::env::consts::EXE_SUFFIX);
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(&exe).is_file()))
        .unwrap_or(false);
    if on_path {
        return Ok(None);
    }
    for sub in ["bin", "Scripts"] {
        let dir = workspace.join(".venv").join(sub);
        if dir.join(&exe).is_file() {
            return Ok(Some(dir));
        }
    }
    Err(BundleError::ToolMissing {
        tool: "cargo-zigbuild".into(),
        hint: "install it with `python3 -m pip install ziglang cargo-zigbuild` (tests/prereqs.sh puts both in .venv), \
               or pass --glibc native to link against this machine's glibc"
            .into(),
    })
}

fn prepend_path(dir: &Path) -> OsString {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(old) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&old));
    }
    std::env::join_paths(paths).unwrap_or_else(|_| dir.as_os_str().to_owned())
}
