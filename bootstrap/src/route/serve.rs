//! `/serve/*`: the genconf tree and the runtime bundle as static files, for nodes to
//! download. `manifest.json` and `SHA256SUMS` in the tree carry every file's sha256, which
//! `install.sh` checks before installing anything.

use std::path::Path;

use tower_http::services::ServeDir;

/// Static files under `dir` (path traversal is refused by `ServeDir`).
pub fn tree(dir: &Path) -> ServeDir {
    ServeDir::new(dir)
}
