//! cluster.yaml loader: any text must give a model or diagnostics, never a panic or a hang.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use strato_config::{check_str, FileState, Files, Source};

/// Every named file is missing: the loader must cope without touching the host.
struct NoFiles;

impl Files for NoFiles {
    fn state(&self, _path: &Path) -> FileState {
        FileState::Missing
    }
    fn home(&self) -> Option<PathBuf> {
        Some(PathBuf::from("/home/fuzz"))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Source {
        name: "cluster.yaml".into(),
        base: PathBuf::from("/nonexistent"),
    };
    let checked = check_str(text, &source, &NoFiles);
    // Rendering the diagnostics is what the CLI does next; it must not panic either.
    for diagnostic in checked.diagnostics.0.iter() {
        let _ = diagnostic.to_string();
    }
});
