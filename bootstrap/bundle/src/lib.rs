//! The runtime bundle: one versioned, checksummed tarball of the node binaries
//! (`strato-master`, `strato-agent`, `strato-bootstrap`) with a `manifest.json` listing each
//! file's sha256, size and mode, the target triple and the oldest glibc the binaries run on.
//!
//! It owns the format ([`Manifest`]), writing it reproducibly ([`pack`]: sorted entries, fixed
//! times and owners, so the same binaries give the same bytes), checking it ([`verify`], which
//! names the corrupted file) and extracting it ([`unpack`], or one file with [`read_entry`]), where bundles live by default
//! ([`default_bundle_path`], [`find_default_bundle`]), building the binaries from a checkout
//! ([`build_node_binaries`], cargo-zigbuild against glibc [`DEFAULT_GLIBC`] by default) and
//! measuring a binary's minimum glibc ([`min_glibc_of`], from its ELF version needs), and
//! carrying etcd for clusters of 3 or more masters ([`EtcdSource`], [`PackInputs::with_etcd`]).
//! A bundle's version is the workspace's ([`VERSION`]) unless stamped with another
//! ([`PackInputs::with_version`], checked by [`check_version`]): nodes keep each version in its
//! own directory, so it must be a plain `MAJOR.MINOR.PATCH[-PRERELEASE]`.
//!
//! It does not upload or install anything: deploy serves the tarball and nodes unpack it.
//!
//! ```no_run
//! # fn demo() -> Result<(), strato_bundle::BundleError> {
//! use std::path::Path;
//! let inputs = strato_bundle::PackInputs::node_binaries(Path::new("target/release"))?;
//! let info = strato_bundle::pack(&inputs, &strato_bundle::default_bundle_dir())?;
//! let manifest = strato_bundle::verify(&info.path)?;
//! assert_eq!(manifest, info.manifest);
//! # Ok(()) }
//! ```

mod compile;
mod error;
mod etcd;
mod glibc;
mod location;
mod manifest;
mod pack;
mod read;

pub use compile::{build_node_binaries, BuildOptions, BuildProfile, GlibcTarget};
pub use error::BundleError;
pub use etcd::{
    check_version as check_etcd_version, parse_version as parse_etcd_version,
    version_of as etcd_version_of, EtcdSource, ETCDCTL_ENTRY, ETCD_ENTRY,
};
pub use glibc::{max_glibc_in_objdump, min_glibc_of, GlibcVersion, DEFAULT_GLIBC};
pub use location::{
    default_bundle_dir, default_bundle_path, default_target, find_default_bundle, source_checkout,
    BUNDLE_DIR_ENV,
};
pub use manifest::{
    check_version, file_name, EtcdInfo, FileEntry, Manifest, BUNDLE_NAME, FORMAT_VERSION,
    MANIFEST_NAME, MAX_VERSION_LEN,
};
pub use pack::{checksum_path, pack, BundleInfo, PackFile, PackInputs, BINARY_MODE, ENTRY_MTIME};
pub use read::{read_entry, read_manifest, unpack, verify};

/// The binaries every node bundle carries, each at `bin/<name>`.
pub const NODE_BINARIES: [&str; 3] = ["strato-master", "strato-agent", "strato-bootstrap"];

/// Strato's version: bundles are named and checked by it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
