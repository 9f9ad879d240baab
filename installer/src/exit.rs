//! The exit-code table, documented in the README and at the end of `strato --help`
//! (`cli::EXIT_CODES`). One enum, so every path agrees.
use std::process::ExitCode;

/// Exit codes `strato` returns.
///
/// | code | meaning |
/// |---|---|
/// | 0 | success |
/// | 1 | the operation failed, or the input is invalid (`validate`) |
/// | 2 | usage error (bad flags, a missing file, no `--yes` where a confirmation is needed; clap uses 2 too) |
/// | 3 | preflight failed on at least one host |
/// | 4 | partial failure: some hosts done, re-run to resume |
/// | 5 | busy: another job runs on the bootstrap server; nothing was changed |
/// | 130 | interrupted (Ctrl-C) |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    Usage = 2,
    PreflightFailed = 3,
    Partial = 4,
    Busy = 5,
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}
