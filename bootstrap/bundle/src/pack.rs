//! Writing a bundle: `manifest.json` then the files in path order, each with fixed owner and
//! time, gzip'd with a zero header time. The same inputs give the same bytes, so the `.sha256`
//! beside the tarball identifies the content and a re-run changes nothing on the nodes.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

use crate::error::BundleError;
use crate::etcd::{EtcdSource, ETCDCTL_ENTRY, ETCD_ENTRY};
use crate::glibc;
use crate::manifest::{
    self, check_version, EtcdInfo, FileEntry, Manifest, BUNDLE_NAME, FORMAT_VERSION, MANIFEST_NAME,
};
use crate::{default_target, NODE_BINARIES, VERSION};

/// Every entry's modification time: fixed (2024-01-01T00:00:00Z) so the archive is reproducible.
pub const ENTRY_MTIME: u64 = 1_704_067_200;
/// Mode of the binaries in a bundle, whatever the source file had.
pub const BINARY_MODE: u32 = 0o755;

/// One file to put in the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFile {
    /// Path inside the bundle, e.g. `bin/strato-master`.
    pub path: String,
    /// Where to read it from.
    pub source: PathBuf,
    pub mode: u32,
}

/// What [`pack`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackInputs {
    pub version: String,
    pub target: String,
    pub files: Vec<PackFile>,
    /// etcd's version when `files` carry it (at [`ETCD_ENTRY`]); see [`PackInputs::with_etcd`].
    pub etcd_version: Option<String>,
}

impl PackInputs {
    /// The node binaries ([`NODE_BINARIES`]) from `bin_dir`, as `bin/<name>`, for this
    /// version and the default target. Names a missing binary.
    pub fn node_binaries(bin_dir: &Path) -> Result<PackInputs, BundleError> {
        let mut files = Vec::new();
        for name in NODE_BINARIES {
            let source = bin_dir.join(name);
            if !source.is_file() {
                return Err(BundleError::MissingBinary {
                    dir: bin_dir.to_path_buf(),
                    name: name.to_string(),
                    path: source,
                });
            }
            files.push(PackFile {
                path: format!("bin/{name}"),
                source,
                mode: BINARY_MODE,
            });
        }
        Ok(PackInputs {
            version: VERSION.to_string(),
            target: default_target(),
            files,
            etcd_version: None,
        })
    }

    /// These inputs stamped with another `version` (`strato bundle --version`), e.g. to rehearse
    /// an upgrade from one source tree. Refuses a version [`check_version`] refuses.
    pub fn with_version(mut self, version: &str) -> Result<PackInputs, BundleError> {
        check_version(version)?;
        self.version = version.to_string();
        Ok(self)
    }

    /// These inputs plus etcd (and etcdctl) at `bin/etcd` (`bin/etcdctl`), recorded in the
    /// manifest with its version and minimum glibc.
    pub fn with_etcd(mut self, etcd: &EtcdSource) -> PackInputs {
        self.files.push(PackFile {
            path: ETCD_ENTRY.to_string(),
            source: etcd.etcd.clone(),
            mode: BINARY_MODE,
        });
        if let Some(ctl) = &etcd.etcdctl {
            self.files.push(PackFile {
                path: ETCDCTL_ENTRY.to_string(),
                source: ctl.clone(),
                mode: BINARY_MODE,
            });
        }
        self.etcd_version = Some(etcd.version.clone());
        self
    }
}

/// etcd's files do not count towards the bundle's minimum glibc: only masters of a 3+ master
/// cluster run them, and preflight checks those against [`EtcdInfo::min_glibc`].
fn is_etcd_file(path: &str) -> bool {
    path == ETCD_ENTRY || path == ETCDCTL_ENTRY
}

/// A written bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleInfo {
    /// `<out>/strato-bundle-<version>-<target>.tar.gz`.
    pub path: PathBuf,
    /// The `sha256sum`-format file beside it (`<path>.sha256`).
    pub checksum_path: PathBuf,
    /// The tarball's sha256, lower-case hex.
    pub sha256: String,
    pub size: u64,
    pub manifest: Manifest,
}

/// The `.sha256` file that belongs to a bundle path.
pub fn checksum_path(bundle: &Path) -> PathBuf {
    let mut name = bundle.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// Pack `inputs` into `out_dir` (created if missing). The tarball and its `.sha256` are written
/// to temporary names and renamed, so a reader never sees half a bundle.
pub fn pack(inputs: &PackInputs, out_dir: &Path) -> Result<BundleInfo, BundleError> {
    // The version names the file here and a directory on every node.
    check_version(&inputs.version)?;
    let mut files = inputs.files.clone();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut entries = Vec::with_capacity(files.len());
    for f in &files {
        manifest::check_entry_path(out_dir, &f.path)?;
        if entries.iter().any(|e: &FileEntry| e.path == f.path) {
            return Err(BundleError::BadEntryPath {
                bundle: out_dir.to_path_buf(),
                entry: f.path.clone(),
                reason: "given twice",
            });
        }
        let (sha256, size) = hash_file(&f.source)?;
        entries.push(FileEntry {
            path: f.path.clone(),
            sha256,
            size,
            mode: f.mode,
            min_glibc: glibc::min_glibc_of(&f.source)?,
        });
    }
    let etcd = match &inputs.etcd_version {
        None => None,
        Some(_) if !entries.iter().any(|e| e.path == ETCD_ENTRY) => {
            return Err(BundleError::MissingFile {
                bundle: out_dir.to_path_buf(),
                file: ETCD_ENTRY.to_string(),
            })
        }
        Some(version) => Some(EtcdInfo {
            version: version.clone(),
            min_glibc: entries
                .iter()
                .filter(|e| is_etcd_file(&e.path))
                .filter_map(|e| e.min_glibc)
                .max(),
        }),
    };
    let manifest = Manifest {
        format: FORMAT_VERSION,
        name: BUNDLE_NAME.to_string(),
        version: inputs.version.clone(),
        target: inputs.target.clone(),
        min_glibc: entries
            .iter()
            .filter(|e| !is_etcd_file(&e.path))
            .filter_map(|e| e.min_glibc)
            .max(),
        etcd,
        files: entries,
    };

    std::fs::create_dir_all(out_dir).map_err(BundleError::write(out_dir))?;
    let path = out_dir.join(manifest.file_name());
    // Both files are replaced atomically (`strato_atomic_file`): a reader sees the old bundle or
    // the new one, and two concurrent packs into one directory never share a temporary file.
    let mut archive = strato_atomic_file::AtomicFile::create(&path)
        .map_err(BundleError::write(&path))?
        .mode(0o644);
    let (sha256, size) = write_archive(archive.as_file_mut(), &path, &manifest, &files)?;
    archive.commit().map_err(BundleError::write(&path))?;

    let checksum_path = checksum_path(&path);
    let line = format!("{sha256}  {}\n", manifest.file_name());
    strato_atomic_file::write_with_mode(&checksum_path, line.as_bytes(), 0o644)
        .map_err(BundleError::write(&checksum_path))?;
    Ok(BundleInfo {
        path,
        checksum_path,
        sha256,
        size,
        manifest,
    })
}

/// Writes the archive into `file` (`path` names it in errors); returns its sha256 and length.
fn write_archive(
    file: &mut File,
    path: &Path,
    manifest: &Manifest,
    files: &[PackFile],
) -> Result<(String, u64), BundleError> {
    let werr = BundleError::write;
    let hashing = HashingWriter {
        inner: BufWriter::new(file),
        hasher: Sha256::new(),
        size: 0,
    };
    // Header time 0 and no file name in the gzip header: only the content decides the bytes.
    let gz = GzBuilder::new()
        .mtime(0)
        .write(hashing, Compression::default());
    let mut tar = tar::Builder::new(gz);
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| BundleError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    append(&mut tar, MANIFEST_NAME, 0o644, json.len() as u64, &json[..]).map_err(werr(path))?;
    for (f, entry) in files.iter().zip(&manifest.files) {
        let source = File::open(&f.source).map_err(BundleError::read(&f.source))?;
        // Exactly the bytes that were hashed: a file that grew since is cut, one that shrank
        // fails here instead of producing a bundle that fails verification later.
        append(
            &mut tar,
            &f.path,
            f.mode,
            entry.size,
            source.take(entry.size),
        )
        .map_err(werr(path))?;
    }
    let gz = tar.into_inner().map_err(werr(path))?;
    let mut hashing = gz.finish().map_err(werr(path))?;
    hashing.inner.flush().map_err(werr(path))?;
    Ok((hex::encode(hashing.hasher.finalize()), hashing.size))
}

/// Hashes what goes through it, so the archive is not read back to compute its checksum.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    mode: u32,
    size: u64,
    data: impl Read,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_path(path)?;
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(ENTRY_MTIME);
    header.set_uid(0);
    header.set_gid(0);
    header.set_cksum();
    tar.append(&header, data)
}

/// sha256 (hex) and length of a file, streamed.
pub(crate) fn hash_file(path: &Path) -> Result<(String, u64), BundleError> {
    let mut file = File::open(path).map_err(BundleError::read(path))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher).map_err(BundleError::read(path))?;
    Ok((hex::encode(hasher.finalize()), size))
}
