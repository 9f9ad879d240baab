//! The one error type of this crate. Every variant names the bundle or file it is about, so a
//! corrupted download says which binary is wrong rather than "checksum mismatch".

use std::path::PathBuf;

/// What can go wrong building, packing, checking or unpacking a bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `pack` was asked for a binary that is not in the directory.
    #[error("{dir} has no {name} binary (expected {path})")]
    MissingBinary {
        dir: PathBuf,
        name: String,
        path: PathBuf,
    },

    /// A path inside the bundle that is absolute, climbs out with `..`, or repeats.
    #[error("{bundle}: invalid entry path {entry:?}: {reason}")]
    BadEntryPath {
        bundle: PathBuf,
        entry: String,
        reason: &'static str,
    },

    /// The archive is not a gzip'd tar or its first entry is not `manifest.json`.
    #[error("{bundle}: not a strato bundle: {reason}")]
    NotABundle { bundle: PathBuf, reason: String },

    /// `manifest.json` does not parse.
    #[error("{bundle}: manifest.json is invalid")]
    BadManifest {
        bundle: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// The tarball does not match the `.sha256` file beside it.
    #[error("{bundle}: archive checksum mismatch: {checksum_file} says {expected}, the archive hashes to {actual}")]
    ArchiveChecksum {
        bundle: PathBuf,
        checksum_file: PathBuf,
        expected: String,
        actual: String,
    },

    /// The `.sha256` file beside the tarball is not `<64 hex>  <name>`.
    #[error("{checksum_file}: expected `<sha256>  <file name>`")]
    BadChecksumFile { checksum_file: PathBuf },

    /// A file's content does not match its manifest entry.
    #[error("{bundle}: {file} is corrupted: manifest sha256 {expected}, content sha256 {actual}")]
    FileChecksum {
        bundle: PathBuf,
        file: String,
        expected: String,
        actual: String,
    },

    /// A file's length does not match its manifest entry.
    #[error(
        "{bundle}: {file} is corrupted: manifest size {expected} bytes, content {actual} bytes"
    )]
    FileSize {
        bundle: PathBuf,
        file: String,
        expected: u64,
        actual: u64,
    },

    /// The manifest lists a file the archive lacks.
    #[error("{bundle}: {file} is listed in manifest.json but missing from the archive")]
    MissingFile { bundle: PathBuf, file: String },

    /// The archive holds a file the manifest does not list.
    #[error("{bundle}: {file} is in the archive but not listed in manifest.json")]
    UnlistedFile { bundle: PathBuf, file: String },

    /// No bundle at the default place.
    #[error("no runtime bundle at {path}: run `strato bundle` first, or name one in cluster.yaml (runtime.bundle)")]
    NotFound { path: PathBuf },

    /// A tool the build needs is not installed.
    #[error("{tool} not found: {hint}")]
    ToolMissing { tool: String, hint: String },

    /// A build or inspection command failed.
    #[error("`{command}` failed with {status}")]
    CommandFailed { command: String, status: String },

    /// A file that starts like ELF but whose headers or version sections do not parse.
    #[error("{path}: not a valid ELF binary: {reason}")]
    BadElf { path: PathBuf, reason: String },

    /// The etcd binary's version could not be found out, or is refused.
    #[error("etcd {path}: {reason}")]
    Etcd { path: PathBuf, reason: String },

    /// A bundle version that is not `MAJOR.MINOR.PATCH[-PRERELEASE]` ([`crate::check_version`]).
    #[error(
        "invalid version {0:?}: expected MAJOR.MINOR.PATCH with an optional -PRERELEASE of \
         letters, digits, dots and hyphens, at most 64 characters, e.g. 0.2.0 or 0.2.0-rc.1"
    )]
    BadVersion(String),

    /// A glibc version that is not `MAJOR.MINOR`.
    #[error("invalid glibc version {0:?}: expected MAJOR.MINOR, e.g. 2.28")]
    BadGlibcVersion(String),
}

impl BundleError {
    pub(crate) fn read(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BundleError {
        let path = path.into();
        move |source| BundleError::Read { path, source }
    }

    pub(crate) fn write(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BundleError {
        let path = path.into();
        move |source| BundleError::Write { path, source }
    }
}
