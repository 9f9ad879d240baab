//! File transfer over exec channels (no SFTP subsystem needed, so it works through sudo):
//! upload streams the bytes to `cat` into a temporary file beside the target, checks the size,
//! sets the mode, then `mv`s it over the target, so readers never see a half-written file.

use std::time::{Duration, Instant};

use crate::error::SshError;
use crate::exec::ExecOptions;
use crate::session::Session;
use strato_text::shell_quote;

/// How to upload one file.
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadOptions {
    /// Write as root (through `sudo -n` for a non-root login).
    pub sudo: bool,
    /// The job deadline.
    pub deadline: Option<Instant>,
    /// Limit for the whole transfer; `None` uses the session's command timeout (raise it for
    /// large files on slow links).
    pub timeout: Option<Duration>,
}

/// Refuse paths a shell script cannot carry safely, and relative paths (whose meaning depends
/// on the login directory).
pub fn check_remote_path(path: &str) -> Result<(), SshError> {
    let invalid = |reason| {
        Err(SshError::InvalidPath {
            path: path.to_string(),
            reason,
        })
    };
    if !path.starts_with('/') {
        return invalid("must be absolute");
    }
    if path.ends_with('/') {
        return invalid("must name a file, not a directory");
    }
    if path.contains(['\0', '\n', '\r']) {
        return invalid("contains a NUL or newline");
    }
    Ok(())
}

/// The remote shell script for an atomic upload of `len` bytes to `path` with `mode`.
/// The temporary file lives in the same directory so the final `mv` is a rename.
pub fn upload_script(path: &str, len: usize, mode: u32, nonce: &str) -> String {
    let target = shell_quote(path);
    let tmp = shell_quote(&format!("{path}.strato-tmp-{nonce}"));
    format!(
        "set -e; tmp={tmp}; trap 'rm -f \"$tmp\"' EXIT; umask 077; \
         cat > \"$tmp\"; n=$(wc -c < \"$tmp\"); \
         if [ \"$n\" -ne {len} ]; then echo \"short write: $n of {len} bytes\" >&2; exit 1; fi; \
         chmod {mode:o} \"$tmp\"; mv -f \"$tmp\" {target}"
    )
}

impl Session {
    /// Write `data` to the absolute `path` with permission bits `mode` (e.g. `0o755`),
    /// atomically: the old file stays in place until the new one is complete. The parent
    /// directory must exist.
    pub async fn upload(
        &self,
        data: &[u8],
        path: &str,
        mode: u32,
        opts: UploadOptions,
    ) -> Result<(), SshError> {
        check_remote_path(path)?;
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let script = upload_script(path, data.len(), mode & 0o7777, &nonce);
        let out = self
            .exec(
                &format!("sh -c {}", shell_quote(&script)),
                ExecOptions {
                    stdin: Some(data.to_vec()),
                    sudo: opts.sudo,
                    deadline: opts.deadline,
                    timeout: opts.timeout,
                    ..ExecOptions::default()
                },
            )
            .await?;
        if !out.success() {
            return Err(SshError::Upload {
                host: self.host(),
                path: path.to_string(),
                exit_status: out.exit_status,
                stderr: out.stderr_text().trim().to_string(),
            });
        }
        Ok(())
    }

    /// Read the whole file at the absolute `path`.
    pub async fn download(&self, path: &str, opts: UploadOptions) -> Result<Vec<u8>, SshError> {
        check_remote_path(path)?;
        let out = self
            .exec(
                &format!("cat -- {}", shell_quote(path)),
                ExecOptions {
                    sudo: opts.sudo,
                    deadline: opts.deadline,
                    timeout: opts.timeout,
                    ..ExecOptions::default()
                },
            )
            .await?;
        if !out.success() {
            return Err(SshError::Download {
                host: self.host(),
                path: path.to_string(),
                exit_status: out.exit_status,
                stderr: out.stderr_text().trim().to_string(),
            });
        }
        Ok(out.stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_odd_paths_are_refused() {
        assert!(check_remote_path("/opt/strato/bin/x").is_ok());
        assert!(check_remote_path("opt/x").is_err());
        assert!(check_remote_path("/opt/").is_err());
        assert!(check_remote_path("/opt/a\nb").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn script_writes_atomically_with_mode_in_a_real_shell() {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("it's a file");
        let path = path.to_str().expect("utf-8 path");
        let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let script = upload_script(path, data.len(), 0o750, "n1");
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&data)
            .expect("write");
        assert!(child.wait().expect("wait").success());
        assert_eq!(std::fs::read(path).expect("read"), data);
        let mode = std::fs::metadata(path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o7777, 0o750);
        let leftovers = std::fs::read_dir(dir.path()).expect("ls").count();
        assert_eq!(leftovers, 1, "temporary file left behind");
    }

    #[cfg(unix)]
    #[test]
    fn script_refuses_a_short_write_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"old").expect("seed");
        let path = path.to_str().expect("utf-8 path");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(upload_script(path, 10, 0o644, "n2"))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("sh");
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("short write: 0 of 10 bytes"));
        assert_eq!(std::fs::read(path).expect("read"), b"old");
    }
}
