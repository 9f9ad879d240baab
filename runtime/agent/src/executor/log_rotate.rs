//! Size-based rotation of the tasks' `stdout` and `stderr`, so a chatty task cannot fill the
//! disk. Copy-and-truncate, as logrotate's `copytruncate`: every writer (systemd's
//! `StandardOutput=append:`, the process launcher, the Docker log pump) opened the file with
//! O_APPEND, so after the truncation it writes at the new end, and nothing needs reopening. What
//! a task writes between the copy and the truncation is lost (the same trade logrotate makes).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often the agent looks at the sandboxes' output files.
pub const EVERY: Duration = Duration::from_secs(10);

/// The files of each sandbox that are rotated.
const OUTPUTS: [&str; 2] = ["stdout", "stderr"];

/// `stdout` → `stdout.1`: the one rotated file kept.
pub fn rotated_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".1");
    file.with_file_name(name)
}

/// Rotates `file` when it holds more than `max_bytes`: copies it to `<file>.1` (replacing the
/// previous one) and truncates it. True when it rotated.
pub fn rotate_if_larger(file: &Path, max_bytes: u64) -> std::io::Result<bool> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    // The sandbox belongs to the task's user and the agent may run as root: no symlink is
    // followed (a task could point its `stdout` at any file), and the checks and the copy are
    // made on the one file descriptor, so a swap in between changes nothing.
    let no_follow = nix::fcntl::OFlag::O_NOFOLLOW.bits();
    let mut source = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(no_follow)
        .open(file)
    {
        Ok(source) => source,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        // ELOOP: a symlink, left alone.
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => return Ok(false),
        Err(e) => return Err(e),
    };
    let meta = source.metadata()?;
    if !meta.is_file() || meta.len() <= max_bytes {
        return Ok(false);
    }
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let partial = file.with_file_name(format!(".{name}.rotating"));
    // Copied under another name first, so `<file>.1` is always a whole copy.
    let _ = std::fs::remove_file(&partial);
    let mut copy = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(no_follow)
        .mode(0o600)
        .open(&partial)?;
    std::io::copy(&mut source, &mut copy)?;
    // The task's user keeps owning its output.
    let _ = std::os::unix::fs::fchown(&copy, Some(meta.uid()), Some(meta.gid()));
    drop(copy);
    std::fs::rename(&partial, rotated_path(file))?;
    source.set_len(0)?;
    Ok(true)
}

/// Rotates every sandbox's outputs larger than `max_bytes` (0: never); returns how many.
pub fn rotate_sandboxes(work_dir: &Path, max_bytes: u64) -> usize {
    if max_bytes == 0 {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir(work_dir.join("sandboxes")) else {
        return 0;
    };
    let mut rotated = 0;
    for entry in entries.flatten() {
        for output in OUTPUTS {
            let file = entry.path().join(output);
            match rotate_if_larger(&file, max_bytes) {
                Ok(true) => rotated += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(file = %file.display(), error = %e, "cannot rotate task output")
                }
            }
        }
    }
    rotated
}

/// Rotates the sandboxes' outputs every [`EVERY`] until `stop` changes.
pub async fn run(work_dir: PathBuf, max_bytes: u64, mut stop: tokio::sync::watch::Receiver<bool>) {
    if max_bytes == 0 {
        return;
    }
    let mut ticker = tokio::time::interval(EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        let dir = work_dir.clone();
        let rotated = tokio::task::spawn_blocking(move || rotate_sandboxes(&dir, max_bytes))
            .await
            .unwrap_or(0);
        if rotated > 0 {
            tracing::debug!(rotated, "rotated task output files");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_large_output_is_copied_aside_and_truncated_and_its_writer_goes_on() {
        let dir = tempfile::tempdir().expect("tmp");
        let sandbox = dir.path().join("sandboxes").join("web.1");
        std::fs::create_dir_all(&sandbox).expect("mkdir");
        let stdout = sandbox.join("stdout");
        // The task's writer, opened as the launchers open it.
        let mut writer = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stdout)
            .expect("open");
        writer.write_all(&[b'a'; 100]).expect("write");
        std::fs::write(sandbox.join("stderr"), b"small").expect("write");

        assert_eq!(rotate_sandboxes(dir.path(), 50), 1);
        assert_eq!(
            std::fs::read(sandbox.join("stdout.1")).expect("rotated"),
            [b'a'; 100]
        );
        assert_eq!(std::fs::metadata(&stdout).expect("stat").len(), 0);
        assert_eq!(
            std::fs::read(sandbox.join("stderr")).expect("stderr"),
            b"small"
        );
        assert!(!sandbox.join("stderr.1").exists());

        // The writer goes on at the start of the emptied file, not at its old offset.
        writer.write_all(b"after\n").expect("write");
        assert_eq!(std::fs::read(&stdout).expect("stdout"), b"after\n");

        // The next rotation replaces the older copy: one rotated file is kept.
        writer.write_all(&[b'b'; 60]).expect("write");
        assert_eq!(rotate_sandboxes(dir.path(), 50), 1);
        let rotated = std::fs::read(sandbox.join("stdout.1")).expect("rotated");
        assert!(rotated.starts_with(b"after\n") && rotated.len() == 66);
        assert!(!sandbox.join("stdout.2").exists());
        assert_eq!(
            std::fs::read_dir(&sandbox).expect("ls").count(),
            3,
            "stdout, stdout.1, stderr"
        );
    }

    #[test]
    fn small_missing_and_disabled_are_left_alone() {
        let dir = tempfile::tempdir().expect("tmp");
        assert!(!rotate_if_larger(&dir.path().join("none"), 1).expect("missing"));
        let file = dir.path().join("stdout");
        std::fs::write(&file, b"12345").expect("write");
        assert!(!rotate_if_larger(&file, 5).expect("at the limit"));
        std::fs::create_dir_all(dir.path().join("sandboxes/t")).expect("mkdir");
        std::fs::write(dir.path().join("sandboxes/t/stdout"), b"12345").expect("write");
        assert_eq!(rotate_sandboxes(dir.path(), 0), 0);
    }

    #[test]
    fn a_symlinked_output_is_not_followed() {
        let dir = tempfile::tempdir().expect("tmp");
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, [b'x'; 100]).expect("write");
        let link = dir.path().join("stdout");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(!rotate_if_larger(&link, 10).expect("rotate"));
        assert_eq!(std::fs::metadata(&target).expect("stat").len(), 100);
    }
}
