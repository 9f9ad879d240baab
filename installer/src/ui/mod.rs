//! What the operator sees while a job runs and when it ends: live per-host progress
//! (`progress`) and the summary table, dry-run plan and preflight tables (`summary`, pure text,
//! snapshot-tested), and the confirmation destructive commands ask for (`confirm`).

pub mod confirm;
pub mod passphrase;
pub mod progress;
pub mod summary;

use std::sync::atomic::{AtomicBool, Ordering};

/// `-q`: set once by `main` before any command runs, read by the progress display.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Hide live progress (`-q`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}
