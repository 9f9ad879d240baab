//! `manifest.json`, the first entry of every bundle: what the bundle is (name, version, target,
//! minimum glibc) and, for each file, its sha256, size and mode. Nodes and `verify` trust the
//! files only as far as they match it.

use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

use crate::error::BundleError;
use crate::glibc::GlibcVersion;

/// The entry name of the manifest inside the tarball.
pub const MANIFEST_NAME: &str = "manifest.json";
/// The bundle format this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The product name recorded in every manifest and in the file name.
pub const BUNDLE_NAME: &str = "strato";

/// The longest bundle version [`check_version`] accepts.
pub const MAX_VERSION_LEN: usize = 64;

/// The bundle's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`] of the writer.
    pub format: u32,
    /// Always [`BUNDLE_NAME`].
    pub name: String,
    /// Strato's version: the workspace version that built the binaries, or the one
    /// `strato bundle --version` stamped ([`check_version`]). Nodes install the bundle under
    /// `/opt/strato/versions/<version>`.
    pub version: String,
    /// Rust target triple the binaries run on, e.g. `x86_64-unknown-linux-gnu`.
    pub target: String,
    /// The oldest glibc every Strato binary runs on (the highest [`FileEntry::min_glibc`] over
    /// the files other than etcd's, which only masters of a 3+ master cluster run: see
    /// [`EtcdInfo::min_glibc`]); `None` when no such file references glibc.
    pub min_glibc: Option<GlibcVersion>,
    /// The etcd the bundle carries (`bin/etcd`, maybe `bin/etcdctl`), for clusters of 3 or more
    /// masters; absent in a bundle without etcd (one master needs none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etcd: Option<EtcdInfo>,
    /// Sorted by path.
    pub files: Vec<FileEntry>,
}

/// What the bundle says about its etcd.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtcdInfo {
    /// `3.4.23`, from `etcd --version` or given to `strato bundle --etcd-version`.
    pub version: String,
    /// The oldest glibc etcd (and etcdctl) run on; `None` for static binaries.
    pub min_glibc: Option<GlibcVersion>,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative, `/`-separated, e.g. `bin/strato-master`.
    pub path: String,
    /// Lower-case hex.
    pub sha256: String,
    pub size: u64,
    /// Unix permission bits, e.g. `0o755` (serialised as the number 493).
    pub mode: u32,
    pub min_glibc: Option<GlibcVersion>,
}

impl Manifest {
    /// The entry for `path`.
    pub fn file(&self, path: &str) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The bundle file name for this manifest: `strato-bundle-<version>-<target>.tar.gz`.
    pub fn file_name(&self) -> String {
        file_name(&self.version, &self.target)
    }

    /// Parse and sanity-check the manifest read from `bundle`.
    pub(crate) fn from_json(bundle: &Path, bytes: &[u8]) -> Result<Manifest, BundleError> {
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|source| BundleError::BadManifest {
                bundle: bundle.to_path_buf(),
                source,
            })?;
        if manifest.format != FORMAT_VERSION {
            return Err(BundleError::NotABundle {
                bundle: bundle.to_path_buf(),
                reason: format!(
                    "manifest format {} (this strato reads format {FORMAT_VERSION})",
                    manifest.format
                ),
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        for f in &manifest.files {
            check_entry_path(bundle, &f.path)?;
            if !seen.insert(f.path.as_str()) {
                return Err(BundleError::BadEntryPath {
                    bundle: bundle.to_path_buf(),
                    entry: f.path.clone(),
                    reason: "listed twice in manifest.json",
                });
            }
            // Nodes unpack as root: a setuid, setgid or sticky bit from a bundle would survive
            // into /opt/strato. `strato bundle` never writes one.
            if f.mode & !0o777 != 0 {
                return Err(BundleError::BadEntryPath {
                    bundle: bundle.to_path_buf(),
                    entry: f.path.clone(),
                    reason: "has a mode with bits beyond rwx (setuid, setgid or sticky)",
                });
            }
        }
        Ok(manifest)
    }
}

/// Checks a bundle version: `MAJOR.MINOR.PATCH` (digits each), optionally followed by
/// `-PRERELEASE` of dot-separated, non-empty identifiers of ASCII letters, digits and hyphens
/// (`0.2.0`, `0.2.0-rc.1`); numbers without leading zeros, so every accepted version is also a
/// semantic version (upgrades compare them); at most [`MAX_VERSION_LEN`] characters, which the
/// runtime reads back from `VERSION` (`runtime/types/src/version.rs`). It names the bundle file
/// and, on nodes, a directory, so nothing else (no `/`, no spaces, no `+build`) is accepted.
pub fn check_version(version: &str) -> Result<(), BundleError> {
    let number = |n: &str| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n == "0" || !n.starts_with('0'))
    };
    let identifier = |id: &str| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && (number(id) || !id.bytes().all(|b| b.is_ascii_digit()))
    };
    let (core, pre) = match version.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (version, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let valid = version.len() <= MAX_VERSION_LEN
        && numbers.len() == 3
        && numbers.iter().all(|n| number(n))
        && pre.is_none_or(|pre| pre.split('.').all(identifier));
    if valid {
        Ok(())
    } else {
        Err(BundleError::BadVersion(version.to_string()))
    }
}

/// `strato-bundle-<version>-<target>.tar.gz`.
pub fn file_name(version: &str, target: &str) -> String {
    format!("{BUNDLE_NAME}-bundle-{version}-{target}.tar.gz")
}

/// Entry paths are relative, plain components only, so unpacking cannot write outside its
/// directory.
pub(crate) fn check_entry_path(bundle: &Path, entry: &str) -> Result<(), BundleError> {
    let bad = |reason| BundleError::BadEntryPath {
        bundle: bundle.to_path_buf(),
        entry: entry.to_string(),
        reason,
    };
    if entry.is_empty() || entry.contains('\\') {
        return Err(bad("must be a non-empty /-separated path"));
    }
    if entry == MANIFEST_NAME {
        return Err(bad("reserved for the manifest"));
    }
    for c in Path::new(entry).components() {
        if !matches!(c, Component::Normal(_)) {
            return Err(bad("must be relative without . or .."));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_paths_cannot_escape_the_unpack_directory() {
        let b = Path::new("b.tar.gz");
        assert!(check_entry_path(b, "bin/strato-master").is_ok());
        for bad in [
            "/etc/passwd",
            "../x",
            "bin/../../x",
            "",
            "manifest.json",
            "a\\b",
        ] {
            assert!(check_entry_path(b, bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn versions_are_major_minor_patch_with_an_optional_prerelease() {
        for good in [
            "0.1.0",
            "1.22.333",
            "0.2.0-rc.1",
            "0.2.0-rc-1",
            "1.0.0-alpha.beta.7",
            "1.0.0-0.3.7",
            "1.0.0-x-y-z.--",
            &format!("1.2.3-{}", "a".repeat(58)),
        ] {
            assert!(check_version(good).is_ok(), "{good:?} refused");
        }
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "v1.2.3",
            "1.2.x",
            "1..3",
            "1.2.3-",
            "1.2.3-rc..1",
            "1.2.3-rc/1",
            "1.2.3+build",
            "1.2.3 ",
            "../1.2.3",
            "1.2.3-rc 1",
            "01.2.3",
            "1.02.3",
            "1.2.3-rc.01",
            &format!("1.2.3-{}", "a".repeat(59)),
        ] {
            let err = check_version(bad).expect_err(bad);
            assert!(err.to_string().contains("MAJOR.MINOR.PATCH"), "{err}");
        }
    }

    #[test]
    fn file_name_carries_version_and_target() {
        assert_eq!(
            file_name("0.1.0", "x86_64-unknown-linux-gnu"),
            "strato-bundle-0.1.0-x86_64-unknown-linux-gnu.tar.gz"
        );
    }
}
