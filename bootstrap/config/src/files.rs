//! [`Files`]: the one seam through which validation looks at the host's filesystem (SSH keys,
//! ip-detect scripts, bundles), so tests can use a fake and the rest of the crate stays pure.
use std::path::{Path, PathBuf};

/// What is at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    Missing,
    Directory,
    /// A file; `mode` holds the Unix permission bits (`None` where there are none, e.g. Windows).
    File {
        mode: Option<u32>,
    },
}

/// Read-only questions about the filesystem.
pub trait Files {
    fn state(&self, path: &Path) -> FileState;
    /// The user's home directory, for `~` in paths.
    fn home(&self) -> Option<PathBuf>;
}

/// The real filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFiles;

impl Files for RealFiles {
    fn state(&self, path: &Path) -> FileState {
        match std::fs::metadata(path) {
            Err(_) => FileState::Missing,
            Ok(meta) if meta.is_dir() => FileState::Directory,
            Ok(meta) => FileState::File {
                mode: mode_of(&meta),
            },
        }
    }

    fn home(&self) -> Option<PathBuf> {
        dirs::home_dir()
    }
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(meta.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_meta: &std::fs::Metadata) -> Option<u32> {
    None
}

/// Replace a leading `~` with `home` (when known); other paths are returned unchanged.
pub fn expand_home(path: &Path, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

/// Expand `~`, then make a relative path relative to `base` (the directory of cluster.yaml).
pub fn resolve(path: &Path, base: &Path, home: Option<&Path>) -> PathBuf {
    let expanded = expand_home(path, home);
    if expanded.is_absolute() || expanded.starts_with("~") {
        expanded
    } else {
        base.join(expanded)
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A filesystem described by a list of paths, for tests.
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Default)]
    pub struct FakeFiles {
        pub entries: BTreeMap<PathBuf, FileState>,
    }

    impl FakeFiles {
        pub fn with_file(mut self, path: &str, mode: u32) -> Self {
            self.entries
                .insert(path.into(), FileState::File { mode: Some(mode) });
            self
        }
    }

    impl Files for FakeFiles {
        fn state(&self, path: &Path) -> FileState {
            self.entries
                .get(path)
                .copied()
                .unwrap_or(FileState::Missing)
        }

        fn home(&self) -> Option<PathBuf> {
            Some("/home/op".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_expands_home_and_joins_relative_paths() {
        let home = Some(Path::new("/home/op"));
        assert_eq!(
            resolve(Path::new("~/.ssh/k"), Path::new("/c"), home),
            Path::new("/home/op/.ssh/k")
        );
        assert_eq!(
            resolve(Path::new("keys/k"), Path::new("/c"), home),
            Path::new("/c/keys/k")
        );
        assert_eq!(
            resolve(Path::new("/abs/k"), Path::new("/c"), home),
            Path::new("/abs/k")
        );
    }
}
