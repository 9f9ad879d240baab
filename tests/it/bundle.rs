//! `strato bundle`: packing prebuilt binaries from the command line, and the real node
//! binaries' minimum glibc (built with cargo-zigbuild, measured with `objdump -T`).

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use strato_bundle::{GlibcVersion, DEFAULT_GLIBC, NODE_BINARIES};

use crate::common::{repo_root, strato};

fn fake_bin_dir(dir: &Path) {
    for name in NODE_BINARIES {
        std::fs::write(dir.join(name), format!("#!/bin/sh\necho {name}\n")).expect("write");
    }
}

#[test]
fn bundle_from_a_bin_dir_writes_a_verifiable_versioned_tarball() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bins = tmp.path().join("bins");
    std::fs::create_dir(&bins).expect("mkdir");
    fake_bin_dir(&bins);
    let out = tmp.path().join("out");
    let expected = out.join(strato_bundle::file_name(
        strato_bundle::VERSION,
        &strato_bundle::default_target(),
    ));
    strato()
        .arg("bundle")
        .arg("--bin-dir")
        .arg(&bins)
        .arg("--out-dir")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "wrote {}",
            expected.display()
        )))
        .stdout(predicate::str::contains("bin/strato-master"));
    let manifest = strato_bundle::verify(&expected).expect("the written bundle verifies");
    assert_eq!(manifest.version, strato_bundle::VERSION);
    let files: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        files,
        [
            "bin/strato-agent",
            "bin/strato-bootstrap",
            "bin/strato-master"
        ]
    );
    assert!(strato_bundle::checksum_path(&expected).is_file());
}

#[test]
fn bundle_writes_to_the_default_place_deploy_looks_in() {
    let tmp = tempfile::tempdir().expect("tmp");
    fake_bin_dir(tmp.path());
    let default_dir = tmp.path().join("default");
    strato()
        .arg("bundle")
        .arg("--bin-dir")
        .arg(tmp.path())
        .env(strato_bundle::BUNDLE_DIR_ENV, &default_dir)
        .assert()
        .success();
    // Where `find_default_bundle` (deploy's fallback) looks under the same environment.
    let found = default_dir.join(strato_bundle::file_name(
        strato_bundle::VERSION,
        &strato_bundle::default_target(),
    ));
    strato_bundle::verify(&found).expect("the bundle is at the default path and verifies");
}

#[test]
fn bundle_names_the_missing_binary() {
    let tmp = tempfile::tempdir().expect("tmp");
    fake_bin_dir(tmp.path());
    std::fs::remove_file(tmp.path().join("strato-bootstrap")).expect("rm");
    strato()
        .arg("bundle")
        .arg("--bin-dir")
        .arg(tmp.path())
        .arg("--out-dir")
        .arg(tmp.path().join("out"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("no strato-bootstrap binary"));
}

#[test]
fn bundle_rejects_a_malformed_glibc_version() {
    strato()
        .args(["bundle", "--glibc", "two", "--bin-dir", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid glibc version \"two\""));
}

/// `--etcd` with Debian's etcd-server binary: bundled with etcdctl found beside it, its version
/// asked from the binary, its glibc recorded apart from Strato's own minimum.
#[cfg(target_os = "linux")]
#[test]
fn bundle_with_etcd_carries_it_and_says_its_version_and_glibc() {
    let tmp = tempfile::tempdir().expect("tmp");
    fake_bin_dir(tmp.path());
    let out = tmp.path().join("out");
    strato()
        .arg("bundle")
        .arg("--bin-dir")
        .arg(tmp.path())
        .args(["--etcd", "/usr/bin/etcd", "--out-dir"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "etcd 3.4.23 (min glibc 2.34): for clusters of 3 or more masters",
        ))
        .stdout(predicate::str::contains("bin/etcdctl"));
    let bundle = out.join(strato_bundle::file_name(
        strato_bundle::VERSION,
        &strato_bundle::default_target(),
    ));
    let manifest = strato_bundle::verify(&bundle).expect("verifies");
    let etcd = manifest.etcd.expect("etcd recorded");
    assert_eq!(etcd.version, "3.4.23");
    assert_eq!(etcd.min_glibc, Some("2.34".parse().expect("valid")));
    assert_eq!(
        manifest.min_glibc, None,
        "the fake Strato binaries are scripts"
    );
}

#[test]
fn bundle_with_an_etcd_that_cannot_run_here_needs_its_version() {
    let tmp = tempfile::tempdir().expect("tmp");
    fake_bin_dir(tmp.path());
    let etcd = tmp.path().join("etcd-static");
    std::fs::write(&etcd, b"\x7fELF a static etcd for another machine").expect("write");
    strato()
        .arg("bundle")
        .arg("--bin-dir")
        .arg(tmp.path())
        .arg("--etcd")
        .arg(&etcd)
        .arg("--out-dir")
        .arg(tmp.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--etcd-version"));
    strato()
        .arg("bundle")
        .arg("--bin-dir")
        .arg(tmp.path())
        .arg("--etcd")
        .arg(&etcd)
        .args(["--etcd-version", "3.5.17", "--out-dir"])
        .arg(tmp.path().join("out"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "etcd 3.5.17 (min glibc none, static)",
        ));
}

#[cfg(target_os = "linux")]
/// The dev-profile bundle of the real node binaries, built once per test process with the
/// default glibc target (cargo-zigbuild), carrying Debian's etcd (tests/prereqs.sh installs
/// etcd-server) so 3-master clusters deploy. End-to-end deploy tests install this bundle.
pub fn dev_bundle() -> PathBuf {
    static BUNDLE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUNDLE
        .get_or_init(|| {
            let out = repo_root().join("target").join("strato-bundle-test");
            strato()
                .args([
                    "bundle",
                    "--profile",
                    "dev",
                    "--etcd",
                    "/usr/bin/etcd",
                    "--out-dir",
                ])
                .arg(&out)
                .timeout(std::time::Duration::from_secs(1500))
                .assert()
                .success();
            out.join(strato_bundle::file_name(
                strato_bundle::VERSION,
                &strato_bundle::default_target(),
            ))
        })
        .clone()
}

#[cfg(target_os = "linux")]
#[test]
fn real_node_binaries_run_on_the_documented_minimum_glibc() {
    let bundle = dev_bundle();
    let manifest = strato_bundle::verify(&bundle).expect("the real bundle verifies");
    let tmp = tempfile::tempdir().expect("tmp");
    strato_bundle::unpack(&bundle, tmp.path()).expect("unpack");

    // Measure each binary again, independently of what the manifest says.
    let mut measured: Vec<GlibcVersion> = Vec::new();
    for name in NODE_BINARIES {
        let path = tmp.path().join("bin").join(name);
        let out = std::process::Command::new("objdump")
            .arg("-T")
            .arg(&path)
            .output()
            .expect("objdump (binutils) is installed by tests/run");
        assert!(out.status.success(), "objdump -T {}", path.display());
        let v = strato_bundle::max_glibc_in_objdump(&String::from_utf8_lossy(&out.stdout))
            .unwrap_or_else(|| panic!("{name} references no GLIBC_ symbol version"));
        assert!(
            v <= DEFAULT_GLIBC,
            "{name} needs glibc {v}, newer than the documented minimum {DEFAULT_GLIBC}"
        );
        let entry = manifest
            .file(&format!("bin/{name}"))
            .expect("listed in the manifest");
        assert_eq!(
            entry.min_glibc,
            Some(v),
            "{name}: manifest disagrees with objdump"
        );
        measured.push(v);
    }
    assert_eq!(manifest.min_glibc, measured.into_iter().max());

    // The README states the same minimum.
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let section = readme
        .split("## Runtime bundle")
        .nth(1)
        .expect("README has a \"Runtime bundle\" section");
    assert!(
        section.contains(&format!("glibc {DEFAULT_GLIBC}")),
        "README's Runtime bundle section must state the minimum glibc {DEFAULT_GLIBC}"
    );
}
