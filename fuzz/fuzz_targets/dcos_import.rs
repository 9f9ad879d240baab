//! `strato config import-dcos`: any DC/OS genconf/config.yaml text gives verdicts, never a panic.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use strato_config::{dcos, FileState, Files};

struct NoFiles;

impl Files for NoFiles {
    fn state(&self, _path: &Path) -> FileState {
        FileState::Missing
    }
    fn home(&self) -> Option<PathBuf> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let imported = dcos::import(
        text,
        "genconf/config.yaml",
        Path::new("/nonexistent"),
        &NoFiles,
    );
    if let Some(cluster) = imported.cluster.as_ref() {
        let _ = dcos::render(cluster, "genconf/config.yaml");
    }
});
