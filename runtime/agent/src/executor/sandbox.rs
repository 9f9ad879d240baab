//! A task's sandbox: `work_dir/sandboxes/<task_id>/` with its `stdout` and `stderr` files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    pub dir: PathBuf,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Sandbox {
    pub fn path_for(work_dir: &Path, task_id: &str) -> Self {
        let dir = work_dir.join("sandboxes").join(task_id);
        Self {
            stdout: dir.join("stdout"),
            stderr: dir.join("stderr"),
            dir,
        }
    }

    /// Creates the directory and empty output files (existing ones are kept).
    pub fn create(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        for file in [&self.stdout, &self.stderr] {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)?;
        }
        Ok(())
    }
}

impl Sandbox {
    /// Makes the directory and output files the task user's, and the directory private to it:
    /// other tasks on the agent (other users) cannot read its output or files.
    pub fn give_to(&self, uid: u32, gid: u32) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let owner = (
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(gid)),
        );
        for path in [&self.dir, &self.stdout, &self.stderr] {
            nix::unistd::chown(path.as_path(), owner.0, owner.1).map_err(std::io::Error::from)?;
        }
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
    }
}

/// Gives everything under `dir` to the task's user (fetched files and what archives held).
pub fn give_tree_to(dir: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        // Symlinks are changed themselves, never what they point at.
        std::os::unix::fs::lchown(&path, Some(uid), Some(gid))?;
        if path.is_dir() && !path.is_symlink() {
            give_tree_to(&path, uid, gid)?;
        }
    }
    Ok(())
}

/// Removes sandboxes of tasks not in `keep` whose directory was last modified more than
/// `max_age` ago (Mesos keeps them a while too, `--gc_delay`, so users can read a dead task's
/// output). Returns how many were removed.
pub fn gc(work_dir: &Path, keep: &BTreeSet<String>, max_age: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(work_dir.join("sandboxes")) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if keep.contains(&name) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > max_age);
        if old && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Task ids become file and unit names, so only a safe alphabet is accepted.
pub fn valid_task_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marathon_task_ids_are_valid_and_paths_are_not() {
        assert!(valid_task_id(
            "group_app.0f5e1b2c-1d2e-11ef-9a3b-0242ac110002"
        ));
        assert!(!valid_task_id("../etc"));
        assert!(!valid_task_id("a/b"));
        assert!(!valid_task_id(""));
    }

    #[test]
    fn gc_removes_only_old_sandboxes_of_tasks_not_kept() {
        let dir = tempfile::tempdir().expect("tmp");
        for id in ["live.1", "dead.1"] {
            Sandbox::path_for(dir.path(), id).create().expect("create");
        }
        let keep: BTreeSet<String> = ["live.1".to_string()].into();
        // Nothing is old enough yet.
        assert_eq!(gc(dir.path(), &keep, Duration::from_secs(3600)), 0);
        assert_eq!(gc(dir.path(), &keep, Duration::ZERO), 1);
        assert!(Sandbox::path_for(dir.path(), "live.1").dir.is_dir());
        assert!(!Sandbox::path_for(dir.path(), "dead.1").dir.exists());
    }

    #[test]
    fn create_makes_dir_and_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let sb = Sandbox::path_for(dir.path(), "t1");
        sb.create().expect("create");
        assert!(sb.stdout.is_file() && sb.stderr.is_file());
    }
}
