//! Where bundles live by default, so `strato bundle && strato deploy` needs no path: in a
//! source checkout `<workspace>/target/strato-bundle/` (next to the build it came from, cleaned
//! with it), elsewhere the user's cache dir (`~/.cache/strato/bundles` on Linux).

use std::path::{Path, PathBuf};

use crate::error::BundleError;
use crate::manifest::file_name;
use crate::VERSION;

/// Overrides the default bundle directory (tests, CI caches).
pub const BUNDLE_DIR_ENV: &str = "STRATO_BUNDLE_DIR";

/// The Rust target triple of node binaries built on this machine's architecture: nodes are
/// always Linux with glibc, whatever OS the installer runs on.
pub fn default_target() -> String {
    format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
}

/// The Strato workspace this process runs from, if any: the nearest ancestor of the current
/// directory, then of the executable (`<ws>/target/debug/strato`), that holds the workspace
/// `Cargo.toml` and this crate.
pub fn source_checkout() -> Option<PathBuf> {
    let from_cwd = std::env::current_dir().ok();
    let from_exe = std::env::current_exe().ok();
    [from_cwd, from_exe]
        .into_iter()
        .flatten()
        .find_map(|start| {
            start
                .ancestors()
                .find(|d| is_workspace(d))
                .map(Path::to_path_buf)
        })
}

fn is_workspace(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file() && dir.join("bootstrap/bundle/Cargo.toml").is_file()
}

/// The directory bundles are written to and looked up in: `$STRATO_BUNDLE_DIR`, else
/// `<workspace>/target/strato-bundle` in a source checkout, else `<cache dir>/strato/bundles`
/// (`.strato-bundles` in the current directory when the OS has no cache dir).
pub fn default_bundle_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(BUNDLE_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(ws) = source_checkout() {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| ws.join("target"));
        return target.join("strato-bundle");
    }
    dirs::cache_dir()
        .map(|c| c.join("strato").join("bundles"))
        .unwrap_or_else(|| PathBuf::from(".strato-bundles"))
}

/// The default bundle for this version and the default target.
pub fn default_bundle_path() -> PathBuf {
    default_bundle_dir().join(file_name(VERSION, &default_target()))
}

/// [`default_bundle_path`] when it exists; otherwise an error that says to run `strato bundle`.
pub fn find_default_bundle() -> Result<PathBuf, BundleError> {
    let path = default_bundle_path();
    if path.is_file() {
        Ok(path)
    } else {
        Err(BundleError::NotFound { path })
    }
}
