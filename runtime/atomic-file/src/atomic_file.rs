use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file being written; visible at its path only after [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    tmp: NamedTempFile,
    mode: Option<u32>,
}

impl AtomicFile {
    /// Start replacing `path` (its directory is created when missing). The replaced file's mode is
    /// kept; a new file is `0600`.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let dir = parent(path);
        fs::create_dir_all(dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(dir)?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            mode: None,
        })
    }

    /// Give the new file this mode whatever the replaced file had (ignored off Unix).
    pub fn mode(mut self, mode: u32) -> AtomicFile {
        self.mode = Some(mode);
        self
    }

    /// The temporary file, for callers that hand a `File` to a writer (tar, gzip).
    pub fn as_file_mut(&mut self) -> &mut fs::File {
        self.tmp.as_file_mut()
    }

    /// Make the written bytes durable and visible at the destination.
    pub fn commit(self) -> io::Result<()> {
        let mode = match self.mode {
            Some(mode) => Some(mode),
            None => existing_mode(&self.path),
        };
        if let Some(mode) = mode {
            set_mode(self.tmp.path(), mode)?;
        }
        self.tmp.as_file().sync_all()?;
        self.tmp.persist(&self.path).map_err(|e| e.error)?;
        sync_dir(parent(&self.path))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tmp.flush()
    }
}

/// Replace `path` with `bytes`, keeping the replaced file's mode (`0600` for a new file).
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Replace `path` with `bytes` and give it `mode`.
pub fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?.mode(mode);
    file.write_all(bytes)?;
    file.commit()
}

/// Replace `dest` with a copy of `source` and give it `mode`. Errors reading `source` come back
/// as they are; the caller knows which path is which.
pub fn copy(source: &Path, dest: &Path, mode: u32) -> io::Result<()> {
    let mut input = fs::File::open(source)?;
    let mut file = AtomicFile::create(dest)?.mode(mode);
    io::copy(&mut input, &mut file)?;
    file.commit()
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(unix)]
fn existing_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn existing_mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Windows cannot open a directory as a file; `MoveFileEx` (what `persist` uses) is durable
/// enough there.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
