//! Packing, verifying and unpacking real files on disk: what a bundle user relies on.

use std::io::{Read, Write};
use std::path::Path;

use strato_bundle::{
    checksum_path, pack, unpack, verify, BundleError, PackInputs, BINARY_MODE, NODE_BINARIES,
};

/// A bin dir with three small fake binaries whose content names them.
fn fake_bins(dir: &Path) {
    for name in NODE_BINARIES {
        std::fs::write(dir.join(name), format!("#!/bin/sh\necho {name}-payload\n"))
            .expect("write fake binary");
    }
}

fn packed(out: &Path) -> strato_bundle::BundleInfo {
    let bins = out.join("bins");
    std::fs::create_dir_all(&bins).expect("mkdir");
    fake_bins(&bins);
    let inputs = PackInputs::node_binaries(&bins).expect("inputs");
    pack(&inputs, &out.join("bundle")).expect("pack")
}

#[test]
fn pack_verify_unpack_round_trip_keeps_content_and_modes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let info = packed(tmp.path());
    assert_eq!(
        info.path.file_name().and_then(|n| n.to_str()),
        Some(
            format!(
                "strato-bundle-{}-{}.tar.gz",
                strato_bundle::VERSION,
                strato_bundle::default_target()
            )
            .as_str()
        )
    );
    let sum = std::fs::read_to_string(&info.checksum_path).expect("sha256 file");
    assert_eq!(
        sum,
        format!(
            "{}  {}\n",
            info.sha256,
            info.path.file_name().expect("name").to_string_lossy()
        )
    );
    let paths: Vec<&str> = info
        .manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "bin/strato-agent",
            "bin/strato-bootstrap",
            "bin/strato-master"
        ]
    );
    // Shell scripts reference no glibc symbol.
    assert_eq!(info.manifest.min_glibc, None);

    assert_eq!(verify(&info.path).expect("verify"), info.manifest);
    assert_eq!(
        strato_bundle::read_entry(&info.path, "bin/strato-bootstrap").expect("one entry"),
        b"#!/bin/sh\necho strato-bootstrap-payload\n"
    );
    assert!(strato_bundle::read_entry(&info.path, "bin/nope").is_err());
    assert_eq!(
        strato_bundle::read_manifest(&info.path).expect("manifest"),
        info.manifest
    );
    let out = tmp.path().join("unpacked");
    assert_eq!(unpack(&info.path, &out).expect("unpack"), info.manifest);
    for name in NODE_BINARIES {
        let got = std::fs::read_to_string(out.join("bin").join(name)).expect("unpacked file");
        assert_eq!(got, format!("#!/bin/sh\necho {name}-payload\n"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join("bin").join(name))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, BINARY_MODE);
        }
    }
}

#[test]
fn packing_twice_gives_the_same_bytes() {
    let a = tempfile::tempdir().expect("tmp");
    let b = tempfile::tempdir().expect("tmp");
    let first = packed(a.path());
    // The inputs' own modes and times must not matter: make the second set differ.
    let bins = b.path().join("bins");
    std::fs::create_dir_all(&bins).expect("mkdir");
    fake_bins(&bins);
    #[cfg(unix)]
    for name in NODE_BINARIES {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bins.join(name), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
    }
    let inputs = PackInputs::node_binaries(&bins).expect("inputs");
    let second = pack(&inputs, &b.path().join("bundle")).expect("pack");
    assert_eq!(first.sha256, second.sha256);
    assert_eq!(
        std::fs::read(&first.path).expect("read"),
        std::fs::read(&second.path).expect("read")
    );
}

#[test]
fn missing_binary_is_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    fake_bins(tmp.path());
    std::fs::remove_file(tmp.path().join("strato-agent")).expect("rm");
    let err = PackInputs::node_binaries(tmp.path()).expect_err("agent missing");
    assert!(err.to_string().contains("no strato-agent binary"), "{err}");
}

/// `strato bundle --version`: another version in the manifest and the file name, the same
/// binaries; a version that could not be a directory name on a node is refused before writing.
#[test]
fn a_bundle_stamped_with_another_version_carries_it_in_its_manifest_and_name() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bins = tmp.path().join("bins");
    std::fs::create_dir_all(&bins).expect("mkdir");
    fake_bins(&bins);
    let inputs = PackInputs::node_binaries(&bins)
        .expect("inputs")
        .with_version("0.9.0-rc.1")
        .expect("a valid version");
    let info = pack(&inputs, &tmp.path().join("bundle")).expect("pack");
    assert_eq!(
        info.path.file_name().and_then(|n| n.to_str()),
        Some(strato_bundle::file_name("0.9.0-rc.1", &strato_bundle::default_target()).as_str())
    );
    assert_eq!(verify(&info.path).expect("verifies").version, "0.9.0-rc.1");

    let err = PackInputs::node_binaries(&bins)
        .expect("inputs")
        .with_version("../0.9.0")
        .expect_err("not a version");
    assert!(matches!(err, BundleError::BadVersion(_)), "{err}");
    let mut inputs = PackInputs::node_binaries(&bins).expect("inputs");
    inputs.version = "0.9".into();
    let out = tmp.path().join("refused");
    let err = pack(&inputs, &out).expect_err("pack checks the version too");
    assert!(err.to_string().contains("MAJOR.MINOR.PATCH"), "{err}");
    assert!(!out.exists(), "nothing written");
}

/// Flip one byte of `needle` inside the uncompressed tar and re-compress.
fn corrupt_inside(bundle: &Path, needle: &[u8]) {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(bundle).expect("open"))
        .read_to_end(&mut tar)
        .expect("gunzip");
    let at = tar
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle in the archive");
    tar[at] ^= 0x20;
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(bundle).expect("create"),
        flate2::Compression::default(),
    );
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("finish");
}

#[test]
fn a_corrupted_file_is_reported_by_name() {
    let tmp = tempfile::tempdir().expect("tmp");
    let info = packed(tmp.path());
    corrupt_inside(&info.path, b"strato-agent-payload");

    // With the .sha256 beside it, the archive checksum catches it first.
    let err = verify(&info.path).expect_err("corrupted");
    assert!(matches!(err, BundleError::ArchiveChecksum { .. }), "{err}");
    assert!(err.to_string().contains(".sha256 says"), "{err}");

    // Without it (a bundle copied alone), the manifest names the file.
    std::fs::remove_file(checksum_path(&info.path)).expect("rm sha256");
    let err = verify(&info.path).expect_err("corrupted");
    match &err {
        BundleError::FileChecksum { file, expected, .. } => {
            assert_eq!(file, "bin/strato-agent");
            assert_eq!(
                Some(expected),
                info.manifest.file("bin/strato-agent").map(|f| &f.sha256)
            );
        }
        other => panic!("expected a file checksum error, got {other}"),
    }
    assert!(
        err.to_string().contains("bin/strato-agent is corrupted"),
        "{err}"
    );

    // Unpack refuses too and leaves no corrupted binary behind.
    let out = tmp.path().join("unpacked");
    unpack(&info.path, &out).expect_err("corrupted");
    assert!(!out.join("bin/strato-agent").exists());
    assert!(!out.join("bin/strato-agent.part").exists());
}

#[test]
fn a_file_that_is_not_a_bundle_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("x.tar.gz");
    std::fs::write(&path, b"not gzip").expect("write");
    let err = verify(&path).expect_err("not a bundle");
    assert!(err.to_string().contains("not a strato bundle"), "{err}");
}

#[test]
fn the_default_bundle_lives_under_the_checkouts_target_dir() {
    // These tests run inside the source checkout, so that is where bundles go by default.
    if std::env::var_os(strato_bundle::BUNDLE_DIR_ENV).is_some() {
        return; // an explicit override wins; covered by the CLI test
    }
    let ws = strato_bundle::source_checkout().expect("tests run in the checkout");
    assert!(ws.join("bootstrap/bundle/Cargo.toml").is_file());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| ws.join("target"));
    assert_eq!(
        strato_bundle::default_bundle_path(),
        target.join("strato-bundle").join(strato_bundle::file_name(
            strato_bundle::VERSION,
            &strato_bundle::default_target()
        ))
    );
}

/// Debian's etcd-server binary (tests/prereqs.sh installs it): its version comes from
/// `etcd --version`, etcdctl is found beside it, and the manifest records glibc 2.34 for etcd
/// without raising the bundle's own minimum.
#[cfg(target_os = "linux")]
#[test]
fn a_bundle_with_debian_etcd_records_its_version_and_glibc() {
    let etcd = Path::new("/usr/bin/etcd");
    assert!(
        etcd.is_file() && Path::new("/usr/bin/etcdctl").is_file(),
        "tests/prereqs.sh installs etcd-server and etcd-client"
    );
    let source = strato_bundle::EtcdSource::resolve(etcd, None, None).expect("etcd resolves");
    assert_eq!(source.version, "3.4.23");
    assert_eq!(
        source.etcdctl.as_deref(),
        Some(Path::new("/usr/bin/etcdctl"))
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let bins = tmp.path().join("bins");
    std::fs::create_dir_all(&bins).expect("mkdir");
    fake_bins(&bins);
    let inputs = PackInputs::node_binaries(&bins)
        .expect("inputs")
        .with_etcd(&source);
    let info = pack(&inputs, &tmp.path().join("bundle")).expect("pack");
    let etcd_info = info.manifest.etcd.clone().expect("the manifest names etcd");
    assert_eq!(etcd_info.version, "3.4.23");
    assert_eq!(etcd_info.min_glibc, Some("2.34".parse().expect("valid")));
    // The fake Strato binaries are scripts: etcd's glibc is not the bundle's.
    assert_eq!(info.manifest.min_glibc, None);
    let manifest = verify(&info.path).expect("verify");
    assert!(manifest.file("bin/etcd").is_some() && manifest.file("bin/etcdctl").is_some());
    assert_eq!(manifest, info.manifest);
}

/// An etcd that cannot run here (a static build for another machine): the version must be
/// given, and a version with the 3.5.0–3.5.2 inconsistency bug is refused.
#[test]
fn a_static_etcd_that_cannot_run_here_needs_its_version_given() {
    let tmp = tempfile::tempdir().expect("tmp");
    let etcd = tmp.path().join("etcd");
    // Not executable here, and no ELF version needs: like a static binary.
    std::fs::write(&etcd, b"\x7fELF not really").expect("write");
    let err = strato_bundle::EtcdSource::resolve(&etcd, None, None).expect_err("no version");
    assert!(err.to_string().contains("--etcd-version"), "{err}");
    let err = strato_bundle::EtcdSource::resolve(&etcd, None, Some("3.5.1")).expect_err("bug");
    assert!(err.to_string().contains("3.5.0–3.5.2"), "{err}");
    let source =
        strato_bundle::EtcdSource::resolve(&etcd, None, Some("3.5.17")).expect("given version");
    assert_eq!(
        (source.version.as_str(), source.etcdctl.clone()),
        ("3.5.17", None)
    );

    let bins = tmp.path().join("bins");
    std::fs::create_dir_all(&bins).expect("mkdir");
    fake_bins(&bins);
    let info = pack(
        &PackInputs::node_binaries(&bins)
            .expect("inputs")
            .with_etcd(&source),
        &tmp.path().join("bundle"),
    )
    .expect("pack");
    let etcd_info = info.manifest.etcd.expect("etcd recorded");
    assert_eq!(
        (etcd_info.version.as_str(), etcd_info.min_glibc),
        ("3.5.17", None)
    );
    let err = strato_bundle::EtcdSource::resolve(&tmp.path().join("nope"), None, Some("3.5.17"))
        .expect_err("missing");
    assert!(err.to_string().contains("no such file"), "{err}");
}

#[test]
fn a_bundle_without_etcd_says_so_in_its_manifest() {
    let tmp = tempfile::tempdir().expect("tmp");
    let info = packed(tmp.path());
    assert_eq!(info.manifest.etcd, None);
    // Written as before etcd existed: no `etcd` key at all.
    let json = serde_json::to_string(&info.manifest).expect("json");
    assert!(!json.contains("etcd"), "{json}");
}
