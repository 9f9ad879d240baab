//! The runtime bundle reader (what `strato deploy`/`upgrade` and nodes run on a downloaded
//! tarball): any archive gives a manifest or a `BundleError`, never a panic or a huge allocation.
//! The input is the tar stream; the harness gzips it, so mutations reach the tar headers and the
//! manifest instead of dying in the gzip checksum.
#![no_main]

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(data).expect("gzip in memory");
    let bytes = gz.finish().expect("gzip in memory");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir
        .path()
        .join("strato-bundle-0.0.0-x86_64-unknown-linux-gnu.tar.gz");
    std::fs::write(&path, bytes).expect("write the input");
    let _ = strato_bundle::read_manifest(&path);
    let _ = strato_bundle::verify(&path);
    let _ = strato_bundle::read_entry(&path, "bin/strato-master");
    let _ = strato_bundle::unpack(&path, &dir.path().join("out"));
});
