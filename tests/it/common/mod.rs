//! Shared test helpers: paths to fixtures and the workspace's binaries.
#![allow(dead_code)]

#[cfg(target_os = "linux")]
pub mod browser;
#[cfg(target_os = "linux")]
pub mod cluster;
#[cfg(target_os = "linux")]
pub mod ha;
#[cfg(target_os = "linux")]
pub mod nodes;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `tests/fixtures/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The profile directory this test binary was built into (`target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/it-<hash> → target/debug
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// Path to a binary of this workspace, building the workspace's binaries once if needed: this
/// package cannot depend on binaries directly, and `cargo test -p strato-tests` would not build them.
pub fn bin_path(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        // tests/run builds the binaries once before the run; nextest starts one process per
        // test, and a cargo call in each would contend for the build lock.
        if std::env::var_os("STRATO_TEST_BINS_BUILT").is_some() {
            return;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--bins", "--workspace"])
            .current_dir(repo_root())
            .status()
            .expect("run cargo build for the workspace binaries");
        assert!(status.success(), "building the workspace binaries failed");
    });
    let path = profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A `strato` command built from this workspace.
/// Makes the container tests' image `image` unless the engine has it (`tests/container-image.sh`).
pub fn container_image(image: &str) {
    let made = std::process::Command::new("sh")
        .arg(repo_root().join("tests/container-image.sh"))
        .arg(image)
        .output()
        .expect("sh");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
}

pub fn strato() -> assert_cmd::Command {
    assert_cmd::Command::new(bin_path("strato"))
}
