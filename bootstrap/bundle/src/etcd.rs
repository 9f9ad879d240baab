//! The etcd a bundle carries for clusters of 3 or more masters (`strato bundle --etcd PATH`):
//! which files go in (`bin/etcd`, and `bin/etcdctl` when given or found beside etcd), and its
//! version, asked from the binary (`etcd --version`) when it runs on this machine, otherwise
//! given by the operator. Why these versions: README.md, "Three masters".

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::BundleError;

/// Where etcd goes in the bundle (and, unpacked, on a master: `/opt/strato/bin/etcd`).
pub const ETCD_ENTRY: &str = "bin/etcd";
/// Where etcdctl goes, when the bundle carries it.
pub const ETCDCTL_ENTRY: &str = "bin/etcdctl";

/// The etcd files and version to pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdSource {
    pub etcd: PathBuf,
    pub etcdctl: Option<PathBuf>,
    pub version: String,
}

impl EtcdSource {
    /// Checks `etcd` (and `etcdctl`, else an `etcdctl` beside `etcd` when there is one) and
    /// finds the version: `etcd --version` when the binary runs here (it must then agree with
    /// `version` when that is given too), else `version`, which is then required.
    pub fn resolve(
        etcd: &Path,
        etcdctl: Option<&Path>,
        version: Option<&str>,
    ) -> Result<EtcdSource, BundleError> {
        let err = |path: &Path, reason: String| BundleError::Etcd {
            path: path.to_path_buf(),
            reason,
        };
        if !etcd.is_file() {
            return Err(err(etcd, "no such file".into()));
        }
        let etcdctl = match etcdctl {
            Some(p) if !p.is_file() => return Err(err(p, "no such file (--etcdctl)".into())),
            Some(p) => Some(p.to_path_buf()),
            None => Some(etcd.with_file_name("etcdctl")).filter(|p| p.is_file()),
        };
        let asked = version_of(etcd)?;
        let version =
            match (asked, version) {
                (Some(found), Some(given)) if found != given.trim() => {
                    return Err(err(
                        etcd,
                        format!("`etcd --version` says {found}, but --etcd-version says {given}"),
                    ))
                }
                (Some(found), _) => found,
                (None, Some(given)) => given.trim().to_string(),
                (None, None) => return Err(err(
                    etcd,
                    "does not run on this machine, so its version is unknown: pass --etcd-version \
                     VERSION (e.g. --etcd-version 3.5.17)"
                        .into(),
                )),
            };
        check_version(&version).map_err(|reason| err(etcd, reason))?;
        Ok(EtcdSource {
            etcd: etcd.to_path_buf(),
            etcdctl,
            version,
        })
    }
}

/// `etcd --version`'s version when the binary runs here; `None` when it cannot be started
/// (another architecture, a newer glibc, not executable).
pub fn version_of(etcd: &Path) -> Result<Option<String>, BundleError> {
    let out = match Command::new(etcd).arg("--version").output() {
        Ok(out) => out,
        Err(_) => return Ok(None),
    };
    if !out.status.success() {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    parse_version(&text)
        .map(Some)
        .ok_or_else(|| BundleError::Etcd {
            path: etcd.to_path_buf(),
            reason: format!(
                "`--version` printed no `etcd Version:` line; is it etcd? ({})",
                text.lines().next().unwrap_or("").trim()
            ),
        })
}

/// The version in `etcd --version` output (`etcd Version: 3.4.23`).
pub fn parse_version(output: &str) -> Option<String> {
    output
        .lines()
        .find_map(|l| l.trim().strip_prefix("etcd Version:"))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A version the masters can use: `3.MINOR.PATCH` with MINOR ≥ 4 (the v3 API the masters'
/// client speaks), and not 3.5.0–3.5.2 (README.md, "Three masters": a data-inconsistency bug).
pub fn check_version(version: &str) -> Result<(), String> {
    let core = version.split(['-', '+']).next().unwrap_or(version);
    let parts: Vec<u32> = core
        .split('.')
        .map(|p| p.parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("version {version:?} is not MAJOR.MINOR.PATCH"))?;
    let [major, minor, patch] = parts[..] else {
        return Err(format!("version {version:?} is not MAJOR.MINOR.PATCH"));
    };
    if major != 3 || minor < 4 {
        return Err(format!(
            "etcd {version} is not supported: use 3.4 or later 3.x"
        ));
    }
    if minor == 5 && patch <= 2 {
        return Err(format!(
            "etcd {version} has a known data-inconsistency bug (3.5.0–3.5.2): use 3.4.x or 3.5.3 and later"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_line_of_etcd_is_found() {
        let out = "etcd Version: 3.4.23\nGit SHA: Not provided (use ./build instead of go build)\n\
                   Go Version: go1.19.8\nGo OS/Arch: linux/amd64\n";
        assert_eq!(parse_version(out).as_deref(), Some("3.4.23"));
        assert_eq!(parse_version("etcdctl version: 3.4.23\n"), None);
    }

    #[test]
    fn versions_with_the_inconsistency_bug_and_old_ones_are_refused() {
        for ok in ["3.4.23", "3.5.3", "3.5.17", "3.6.0", "3.5.17-rc.0"] {
            assert_eq!(check_version(ok), Ok(()), "{ok}");
        }
        for bad in [
            "3.5.0", "3.5.1", "3.5.2", "3.3.27", "2.3.8", "4.0.0", "3.4", "x",
        ] {
            assert!(check_version(bad).is_err(), "{bad} accepted");
        }
        assert!(check_version("3.5.1")
            .expect_err("refused")
            .contains("data-inconsistency"));
    }
}
