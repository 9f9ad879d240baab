//! Reading a bundle: [`verify`] checks the tarball against its `.sha256` (when present) and every
//! file against the manifest; [`unpack`] does the same while writing the files out, and only
//! renames a file into place once its checksum matched.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

use crate::error::BundleError;
use crate::manifest::{self, Manifest, MANIFEST_NAME};
use crate::pack::{checksum_path, hash_file};

/// Check a bundle without writing anything: the `.sha256` beside it (if there is one), the
/// manifest, and every file's size and sha256. Errors name the corrupted file.
pub fn verify(path: &Path) -> Result<Manifest, BundleError> {
    read_bundle(path, None)
}

/// Verify and extract the bundle's files into `dir` (created if missing), with their modes.
/// A file whose checksum fails is not left behind.
pub fn unpack(path: &Path, dir: &Path) -> Result<Manifest, BundleError> {
    std::fs::create_dir_all(dir).map_err(BundleError::write(dir))?;
    read_bundle(path, Some(dir))
}

/// Read the manifest only (no checksums): for listing what a bundle holds.
pub fn read_manifest(path: &Path) -> Result<Manifest, BundleError> {
    let file = File::open(path).map_err(BundleError::read(path))?;
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let mut entries = archive.entries().map_err(|e| not_a_bundle(path, e))?;
    first_manifest(path, &mut entries)
}

/// One file of the bundle (e.g. `bin/strato-bootstrap`, which deploy runs on the bootstrap
/// host), checked against its manifest entry. Does not check the other files.
pub fn read_entry(path: &Path, entry_path: &str) -> Result<Vec<u8>, BundleError> {
    check_sidecar(path)?;
    let file = File::open(path).map_err(BundleError::read(path))?;
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let mut entries = archive.entries().map_err(|e| not_a_bundle(path, e))?;
    let manifest = first_manifest(path, &mut entries)?;
    let missing = || BundleError::MissingFile {
        bundle: path.to_path_buf(),
        file: entry_path.to_string(),
    };
    let expected = manifest.file(entry_path).ok_or_else(missing)?;
    for entry in entries {
        let mut entry = entry.map_err(|e| not_a_bundle(path, e))?;
        if entry_name(path, &entry)? != entry_path {
            continue;
        }
        // The manifest's size is untrusted input: allocate by what the archive really holds and
        // read at most one byte past the expected size, so a lying manifest is a size error.
        let mut data = Vec::with_capacity(initial_capacity(expected.size, entry.size()));
        (&mut entry)
            .take(expected.size.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| not_a_bundle(path, e))?;
        let actual = data.len() as u64;
        if actual != expected.size {
            return Err(BundleError::FileSize {
                bundle: path.to_path_buf(),
                file: entry_path.to_string(),
                expected: expected.size,
                actual,
            });
        }
        let sha256 = hex::encode(Sha256::digest(&data));
        if sha256 != expected.sha256 {
            return Err(BundleError::FileChecksum {
                bundle: path.to_path_buf(),
                file: entry_path.to_string(),
                expected: expected.sha256.clone(),
                actual: sha256,
            });
        }
        return Ok(data);
    }
    Err(missing())
}

fn read_bundle(path: &Path, out: Option<&Path>) -> Result<Manifest, BundleError> {
    check_sidecar(path)?;
    let file = File::open(path).map_err(BundleError::read(path))?;
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let mut entries = archive.entries().map_err(|e| not_a_bundle(path, e))?;
    let manifest = first_manifest(path, &mut entries)?;
    let mut seen = BTreeSet::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| not_a_bundle(path, e))?;
        let name = entry_name(path, &entry)?;
        manifest::check_entry_path(path, &name)?;
        let Some(expected) = manifest.file(&name) else {
            return Err(BundleError::UnlistedFile {
                bundle: path.to_path_buf(),
                file: name,
            });
        };
        if !seen.insert(name.clone()) {
            return Err(BundleError::BadEntryPath {
                bundle: path.to_path_buf(),
                entry: name,
                reason: "appears twice in the archive",
            });
        }
        let dest = out.map(|dir| dir.join(&name));
        // Extracted files appear only once verified: written through `strato_atomic_file`,
        // committed after the checksum matches, dropped (temporary file removed) otherwise.
        let mut staged = match &dest {
            Some(dest) => Some(
                strato_atomic_file::AtomicFile::create(dest)
                    .map_err(BundleError::write(dest))?
                    .mode(expected.mode),
            ),
            None => None,
        };
        let mut sink: Box<dyn Write + '_> = match staged.as_mut() {
            Some(file) => Box::new(file),
            None => Box::new(std::io::sink()),
        };
        let (sha256, size) =
            copy_hashing(&mut entry, &mut sink).map_err(|e| not_a_bundle(path, e))?;
        drop(sink);
        let mismatch = if size != expected.size {
            Some(BundleError::FileSize {
                bundle: path.to_path_buf(),
                file: name.clone(),
                expected: expected.size,
                actual: size,
            })
        } else if sha256 != expected.sha256 {
            Some(BundleError::FileChecksum {
                bundle: path.to_path_buf(),
                file: name.clone(),
                expected: expected.sha256.clone(),
                actual: sha256,
            })
        } else {
            None
        };
        if let Some(err) = mismatch {
            return Err(err);
        }
        if let (Some(file), Some(dest)) = (staged, &dest) {
            file.commit().map_err(BundleError::write(dest))?;
        }
    }
    if let Some(missing) = manifest.files.iter().find(|f| !seen.contains(&f.path)) {
        return Err(BundleError::MissingFile {
            bundle: path.to_path_buf(),
            file: missing.path.clone(),
        });
    }
    Ok(manifest)
}

/// When `<bundle>.sha256` exists, the tarball must hash to what it says.
fn check_sidecar(path: &Path) -> Result<(), BundleError> {
    let sidecar = checksum_path(path);
    let text = match std::fs::read_to_string(&sidecar) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(BundleError::read(&sidecar)(e)),
    };
    let expected = text
        .split_whitespace()
        .next()
        .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| BundleError::BadChecksumFile {
            checksum_file: sidecar.clone(),
        })?
        .to_ascii_lowercase();
    let (actual, _) = hash_file(path)?;
    if actual != expected {
        return Err(BundleError::ArchiveChecksum {
            bundle: path.to_path_buf(),
            checksum_file: sidecar,
            expected,
            actual,
        });
    }
    Ok(())
}

fn first_manifest<R: Read>(
    path: &Path,
    entries: &mut tar::Entries<'_, R>,
) -> Result<Manifest, BundleError> {
    let mut first = match entries.next() {
        Some(entry) => entry.map_err(|e| not_a_bundle(path, e))?,
        None => {
            return Err(BundleError::NotABundle {
                bundle: path.to_path_buf(),
                reason: "the archive is empty".into(),
            })
        }
    };
    let name = entry_name(path, &first)?;
    if name != MANIFEST_NAME {
        return Err(BundleError::NotABundle {
            bundle: path.to_path_buf(),
            reason: format!("the first entry is {name:?}, not {MANIFEST_NAME}"),
        });
    }
    let mut bytes = Vec::new();
    first
        .read_to_end(&mut bytes)
        .map_err(|e| not_a_bundle(path, e))?;
    Manifest::from_json(path, &bytes)
}

fn entry_name<R: Read>(path: &Path, entry: &tar::Entry<'_, R>) -> Result<String, BundleError> {
    if entry.header().entry_type() != tar::EntryType::Regular {
        return Err(BundleError::NotABundle {
            bundle: path.to_path_buf(),
            reason: "the archive holds something other than regular files".into(),
        });
    }
    let raw = entry.path_bytes();
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

fn copy_hashing(from: &mut impl Read, to: &mut dyn Write) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
        size += n as u64;
    }
    to.flush()?;
    Ok((hex::encode(hasher.finalize()), size))
}

/// A buffer size for one entry: the smaller of the manifest's and the tar header's claims, capped,
/// so neither can make the reader reserve more memory than the file could fill.
fn initial_capacity(manifest_size: u64, header_size: u64) -> usize {
    const CAP: u64 = 64 << 20;
    usize::try_from(manifest_size.min(header_size).min(CAP)).unwrap_or(0)
}

fn not_a_bundle(path: &Path, e: std::io::Error) -> BundleError {
    BundleError::NotABundle {
        bundle: path.to_path_buf(),
        reason: format!("cannot read the archive: {e}"),
    }
}
