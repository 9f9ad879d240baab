//! Log set-up: logs go to stderr and never mix with a command's output on stdout, and the full
//! debug log of every run is appended to a file (as k0sctl does), so a failed deploy can be read
//! after the scrollback is gone. Colour only on a terminal and without `NO_COLOR`.
use std::fs::{File, OpenOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// What the file log records: everything of Strato's at debug, chatty transport crates at info.
const FILE_FILTER: &str =
    "debug,h2=info,hyper=info,hyper_util=info,reqwest=info,rustls=info,russh=info,tower=info";

/// A log file past this size is moved to `<name>.1` before a run appends to it.
const ROTATE_AT: u64 = 10 * 1024 * 1024;

/// The stderr verbosity.
#[derive(Debug, Clone, Copy)]
pub struct Verbosity {
    pub verbose: u8,
    pub quiet: bool,
}

/// `~/.cache/strato/strato.log` (the platform's cache dir), if there is a home.
pub fn default_log_file() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("strato").join("strato.log"))
}

/// Whether to colour output on a stream: only on a terminal, and never with `NO_COLOR` set
/// (to anything non-empty, see no-color.org).
pub fn colour(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Install the global subscriber; `RUST_LOG` wins over `-v`/`-q` for stderr. Returns the log
/// file in use, if one could be opened (a read-only home only loses the file, not the run).
pub fn init(verbosity: Verbosity, log_file: Option<&Path>) -> Option<PathBuf> {
    let default = match (verbosity.quiet, verbosity.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour(std::io::stderr().is_terminal()))
        .with_filter(filter);
    let opened = log_file.and_then(|path| match open(path) {
        Ok(file) => Some((path.to_path_buf(), file)),
        Err(err) => {
            if !verbosity.quiet {
                eprintln!(
                    "warning: cannot write the log file {}: {err}",
                    path.display()
                );
            }
            None
        }
    });
    let (path, file_layer) = match opened {
        Some((path, file)) => (
            Some(path),
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(Mutex::new(file))
                    .with_ansi(false)
                    .with_filter(EnvFilter::new(FILE_FILTER)),
            ),
        ),
        None => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init();
    if path.is_some() {
        let args: Vec<String> = std::env::args().collect();
        tracing::info!(version = crate::cli::VERSION, "run: {}", args.join(" "));
    }
    path
}

/// Open `path` for appending: private (0600, in a 0700 directory when this creates it), since
/// a debug log names hosts, users and paths.
fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > ROTATE_AT) {
        let mut old = path.as_os_str().to_owned();
        old.push(".1");
        std::fs::rename(path, old)?;
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_file_is_private_and_appended_to() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("strato.log");
        std::io::Write::write_all(&mut open(&path).expect("open"), b"one\n").expect("write");
        std::io::Write::write_all(&mut open(&path).expect("open"), b"two\n").expect("write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "one\ntwo\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
