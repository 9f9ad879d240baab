//! The Strato version a runtime binary belongs to.
//!
//! Nodes install each bundle side by side, `/opt/strato/versions/<V>/bin/strato-master`, next to
//! `/opt/strato/versions/<V>/VERSION` holding `<V>`; `/opt/strato/bin/*` reach them through the
//! `current` symlink. A bundle may be stamped with another version than the crates it was built
//! from (upgrade rehearsals), so the runtime reports that file, and the crate version only where
//! there is none (`strato up --local`, `cargo run`, tests).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The file, in the bundle directory (the parent of `bin/`), that names the bundle's version.
pub const VERSION_FILE: &str = "VERSION";

/// Longest version accepted from [`VERSION_FILE`].
const MAX_LEN: usize = 64;

/// The version of the Strato bundle this process runs from: [`VERSION_FILE`] beside the
/// executable's `bin/` directory (see [`version_beside`]), else this crate's version. Looked up
/// once per process.
pub fn runtime_version() -> String {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| version_beside(&exe))
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string())
        })
        .clone()
}

/// The version in `<exe's real path>/../../VERSION` (`/opt/strato/versions/1.2.3/bin/strato-master`
/// → `/opt/strato/versions/1.2.3/VERSION`), trimmed; `None` when the file is missing or does not
/// hold a plausible version (see [`is_plausible`]). Symlinks in `exe` are resolved first, so
/// `/opt/strato/bin/strato-master` finds the bundle `current` points at.
pub fn version_beside(exe: &Path) -> Option<String> {
    // A binary replaced while running reads as `… (deleted)` and no longer resolves: its directory
    // still tells the bundle.
    let exe: PathBuf = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
    let file = exe.parent()?.parent()?.join(VERSION_FILE);
    let mut text = String::new();
    // A few bytes more than a valid version: enough to reject a long one, never a whole big file.
    std::fs::File::open(file)
        .ok()?
        .take(MAX_LEN as u64 + 16)
        .read_to_string(&mut text)
        .ok()?;
    let version = text.trim();
    is_plausible(version).then(|| version.to_string())
}

/// Non-empty, at most 64 characters, only ASCII letters, digits, `.`, `+` and `-`.
fn is_plausible(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= MAX_LEN
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `<root>/versions/<dir>/bin/strato-master`, with `VERSION` holding `content` if given.
    fn bundle(root: &Path, dir: &str, content: Option<&[u8]>) -> PathBuf {
        let bin = root.join("versions").join(dir).join("bin");
        std::fs::create_dir_all(&bin).expect("bin dir");
        let exe = bin.join("strato-master");
        std::fs::write(&exe, b"").expect("exe");
        if let Some(content) = content {
            std::fs::write(root.join("versions").join(dir).join(VERSION_FILE), content)
                .expect("VERSION");
        }
        exe
    }

    #[test]
    fn reads_the_bundle_version_trimmed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let exe = bundle(root, "1.2.3", Some(b"1.2.3\n"));
        assert_eq!(version_beside(&exe).as_deref(), Some("1.2.3"));
        // The stamp wins over the directory name (a bundle stamped for an upgrade rehearsal).
        let exe = bundle(root, "rehearsal", Some(b"  2.0.0-rc.1+build.7 \r\n"));
        assert_eq!(version_beside(&exe).as_deref(), Some("2.0.0-rc.1+build.7"));
    }

    #[test]
    fn follows_the_current_symlink() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        bundle(root, "1.2.3", Some(b"1.2.3\n"));
        std::os::unix::fs::symlink("versions/1.2.3", root.join("current")).expect("current");
        std::fs::create_dir_all(root.join("bin")).expect("bin");
        let link = root.join("bin").join("strato-master");
        std::os::unix::fs::symlink("../current/bin/strato-master", &link).expect("bin link");
        assert_eq!(version_beside(&link).as_deref(), Some("1.2.3"));
    }

    #[test]
    fn missing_file_gives_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let exe = bundle(root, "1.2.3", None);
        assert_eq!(version_beside(&exe), None);
        // An executable with no grandparent directory, and one that does not exist.
        assert_eq!(version_beside(Path::new("strato-master")), None);
        assert_eq!(
            version_beside(&root.join("nowhere/bin/strato-master")),
            None
        );
    }

    #[test]
    fn garbage_gives_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let long = "1".repeat(MAX_LEN + 1);
        let cases: [&[u8]; 7] = [
            b"",
            b" \n",
            b"1.2.3 beta\n",
            b"1.2.3\n4.5.6\n",
            b"1.2.3/../x",
            b"\xff\xfe",
            long.as_bytes(),
        ];
        for (n, content) in cases.into_iter().enumerate() {
            let exe = bundle(root, &n.to_string(), Some(content));
            assert_eq!(version_beside(&exe), None, "VERSION = {content:?}");
        }
        let exact = "1".repeat(MAX_LEN);
        let exe = bundle(root, "exact", Some(exact.as_bytes()));
        assert_eq!(version_beside(&exe), Some(exact));
    }

    #[test]
    fn falls_back_to_the_crate_version() {
        // Test binaries run from target/, normally beside no VERSION file.
        let exe = std::env::current_exe().expect("current exe");
        let expected =
            version_beside(&exe).unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string());
        assert_eq!(runtime_version(), expected);
        assert_eq!(runtime_version(), runtime_version());
        assert!(is_plausible(&runtime_version()));
    }
}
