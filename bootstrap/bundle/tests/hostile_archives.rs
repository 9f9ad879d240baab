//! Archives crafted to hurt the reader (fuzz/README.md: found with the `bundle_reader` target and
//! review finding L-5): each must give a `BundleError` naming the file, not an abort or a setuid
//! file on the node.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};
use strato_bundle::{read_entry, unpack, verify, BundleError};

const PAYLOAD: &[u8] = b"#!/bin/sh\nexit 0\n";

/// A gzipped tar whose manifest lists `bin/strato-master` with the given size and mode.
fn archive(dir: &Path, size: u64, mode: u32) -> PathBuf {
    let manifest = serde_json::json!({
        "format": 1, "name": "strato", "version": "0.1.0",
        "target": "x86_64-unknown-linux-gnu", "min_glibc": null,
        "files": [{
            "path": "bin/strato-master",
            "sha256": hex::encode(Sha256::digest(PAYLOAD)),
            "size": size, "mode": mode, "min_glibc": null,
        }],
    });
    let manifest = serde_json::to_vec(&manifest).expect("json");
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data, entry_mode) in [
        ("manifest.json", manifest.as_slice(), 0o644),
        ("bin/strato-master", PAYLOAD, 0o755),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(entry_mode);
        header.set_cksum();
        tar.append_data(&mut header, name, data).expect("append");
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&tar.into_inner().expect("tar")).expect("gzip");
    let path = dir.join("strato-bundle-0.1.0-x86_64-unknown-linux-gnu.tar.gz");
    std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
    path
}

#[test]
fn a_manifest_claiming_an_exabyte_file_is_a_size_error_not_an_abort() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bundle = archive(tmp.path(), 1_000_000_000_000_000_000, 0o755);
    for result in [
        read_entry(&bundle, "bin/strato-master").map(|_| ()),
        verify(&bundle).map(|_| ()),
    ] {
        match result {
            Err(BundleError::FileSize {
                file,
                expected,
                actual,
                ..
            }) => {
                assert_eq!(file, "bin/strato-master");
                assert_eq!(expected, 1_000_000_000_000_000_000);
                assert_eq!(actual, PAYLOAD.len() as u64);
            }
            other => panic!("expected a size error, got {other:?}"),
        }
    }
}

#[test]
fn a_setuid_mode_in_the_manifest_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bundle = archive(tmp.path(), PAYLOAD.len() as u64, 0o4755);
    let out = tmp.path().join("out");
    let err = unpack(&bundle, &out).expect_err("setuid refused");
    assert!(
        err.to_string().contains("bin/strato-master") && err.to_string().contains("setuid"),
        "{err}"
    );
    assert!(!out.join("bin/strato-master").exists());
}

#[test]
fn the_same_archive_with_honest_values_unpacks() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bundle = archive(tmp.path(), PAYLOAD.len() as u64, 0o755);
    assert_eq!(
        read_entry(&bundle, "bin/strato-master").expect("read"),
        PAYLOAD
    );
    unpack(&bundle, &tmp.path().join("out")).expect("unpack");
}
