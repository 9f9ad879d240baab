//! The `strato` CLI runs on old Linux distributions: built with cargo-zigbuild against glibc 2.17
//! (CentOS 7, the release workflow's target: .github/workflows/release.yml) and measured with
//! `objdump -T`, as tests/it/bundle.rs does for the node binaries at glibc 2.28.
use std::path::PathBuf;
use std::process::Command;

use strato_bundle::GlibcVersion;

use crate::common::repo_root;

/// The oldest glibc the released `strato` supports.
const CLI_GLIBC: GlibcVersion = GlibcVersion {
    major: 2,
    minor: 17,
};

/// `cargo-zigbuild` on PATH, else in the repository's .venv (tests/prereqs.sh installs it there,
/// with ziglang; bootstrap/bundle/src/compile.rs looks in the same places).
fn zigbuild_path() -> std::ffi::OsString {
    let venv = repo_root().join(".venv").join("bin");
    let mut dirs: Vec<PathBuf> = vec![venv];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).expect("PATH entries join")
}

#[test]
fn strato_cli_needs_at_most_glibc_2_17() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Its own target directory: the node binaries are built for the same triple at glibc 2.28,
    // and sharing one would rebuild the C dependencies each time the two alternate. Under
    // CARGO_TARGET_DIR when set (CI keeps that between runs: tests/run), so it is built once.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("glibc-2.17");
    let triple = format!("x86_64-unknown-linux-gnu.{CLI_GLIBC}");
    let status = Command::new(cargo)
        .args([
            "zigbuild",
            "-p",
            "strato",
            "--target",
            &triple,
            "--target-dir",
        ])
        .arg(&target_dir)
        .env("PATH", zigbuild_path())
        .current_dir(repo_root())
        .status()
        .expect("run cargo zigbuild (tests/prereqs.sh installs it in .venv)");
    assert!(status.success(), "cargo zigbuild --target {triple} failed");
    let binary = target_dir
        .join("x86_64-unknown-linux-gnu")
        .join("debug")
        .join("strato");
    let out = Command::new("objdump")
        .arg("-T")
        .arg(&binary)
        .output()
        .expect("objdump (binutils) is installed by tests/run");
    assert!(out.status.success(), "objdump -T {}", binary.display());
    let needed = strato_bundle::max_glibc_in_objdump(&String::from_utf8_lossy(&out.stdout))
        .expect("strato references GLIBC_ symbol versions");
    assert!(
        needed <= CLI_GLIBC,
        "strato needs glibc {needed}, newer than the supported {CLI_GLIBC}"
    );
}
