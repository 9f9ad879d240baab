//! Mesos's files API over the task sandboxes (`/files/browse`, `/files/read`, `/files/download`):
//! the master proxies it to operators (`runtime/master/src/http/files.rs`). Paths are absolute
//! and confined to `<work_dir>/sandboxes`: `..`, paths elsewhere and symlinks leading out are
//! refused, checked on the resolved path and again on the file actually opened (a task may swap
//! a directory for a symlink between the two).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

/// The most one `/files/read` answers; a client reads on from the offset it reached.
pub const MAX_READ: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0} is outside the task sandboxes")]
    Outside(String),
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{0}: permission denied")]
    Denied(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl FilesError {
    fn io(path: &str, source: std::io::Error) -> Self {
        match source.kind() {
            std::io::ErrorKind::NotFound => FilesError::NotFound(path.to_string()),
            std::io::ErrorKind::PermissionDenied => FilesError::Denied(path.to_string()),
            _ => FilesError::Io {
                path: path.to_string(),
                source,
            },
        }
    }
}

/// One entry of `/files/browse`, in Mesos's shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileInfo {
    pub path: String,
    pub size: u64,
    /// `ls -l` style, `drwxr-xr-x`.
    pub mode: String,
    /// Seconds since the Unix epoch.
    pub mtime: f64,
    pub nlink: u64,
    pub uid: String,
    pub gid: String,
}

/// `/files/read`'s answer: `data` starts at `offset`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadAnswer {
    pub data: String,
    pub offset: u64,
}

/// The sandboxes directory of one agent, `<work_dir>/sandboxes`.
#[derive(Debug, Clone)]
pub struct Sandboxes {
    root: PathBuf,
}

impl Sandboxes {
    pub fn new(work_dir: &Path) -> Self {
        Self {
            root: work_dir.join("sandboxes"),
        }
    }

    /// The directory as configured (not resolved): what `/state` names.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The real path of `path`, if it lies in the sandboxes directory.
    fn resolve(&self, path: &str) -> Result<PathBuf, FilesError> {
        if path.is_empty() {
            return Err(FilesError::BadRequest(
                "the query parameter `path` is required".into(),
            ));
        }
        let asked = Path::new(path);
        if !asked.is_absolute() {
            return Err(FilesError::BadRequest(format!(
                "{path} is not an absolute path"
            )));
        }
        if asked.components().any(|c| c == Component::ParentDir) {
            return Err(FilesError::Outside(path.to_string()));
        }
        let root = self
            .root
            .canonicalize()
            .map_err(|_| FilesError::NotFound(path.to_string()))?;
        let real = match asked.canonicalize() {
            Ok(real) => real,
            // Say "outside" rather than "missing" for paths elsewhere: existence there is none
            // of the caller's business.
            Err(_) if !(asked.starts_with(&self.root) || asked.starts_with(&root)) => {
                return Err(FilesError::Outside(path.to_string()))
            }
            Err(e) => return Err(FilesError::io(path, e)),
        };
        if real.starts_with(&root) {
            Ok(real)
        } else {
            Err(FilesError::Outside(path.to_string()))
        }
    }

    /// Opens a resolved path and checks that what was opened is still inside.
    fn open(&self, path: &str, real: &Path) -> Result<File, FilesError> {
        let file = File::open(real).map_err(|e| FilesError::io(path, e))?;
        self.check_opened(path, &file)?;
        Ok(file)
    }

    #[cfg(target_os = "linux")]
    fn check_opened(&self, path: &str, file: &File) -> Result<(), FilesError> {
        use std::os::fd::AsRawFd;
        let opened = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()));
        let root = self.root.canonicalize();
        match (opened, root) {
            (Ok(opened), Ok(root)) if opened.starts_with(&root) => Ok(()),
            // Without /proc the check made before opening stands.
            (Err(_), Ok(_)) => Ok(()),
            _ => Err(FilesError::Outside(path.to_string())),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn check_opened(&self, _path: &str, _file: &File) -> Result<(), FilesError> {
        Ok(())
    }

    /// A directory's entries (sorted by name), or a file's own entry.
    pub fn browse(&self, path: &str) -> Result<Vec<FileInfo>, FilesError> {
        let real = self.resolve(path)?;
        let dir = self.open(path, &real)?;
        let meta = dir.metadata().map_err(|e| FilesError::io(path, e))?;
        let shown = path.trim_end_matches('/');
        if !meta.is_dir() {
            return Ok(vec![file_info(shown.to_string(), &meta)]);
        }
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&real).map_err(|e| FilesError::io(path, e))? {
            let entry = entry.map_err(|e| FilesError::io(path, e))?;
            // The entry itself: a symlink is listed as one, never followed.
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().to_string();
            entries.push(file_info(format!("{shown}/{name}"), &meta));
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    /// Up to `length` (capped at [`MAX_READ`]) bytes from `offset`. No offset, or -1, answers
    /// the file's size with no data, as Mesos does: where a tail starts.
    pub fn read(
        &self,
        path: &str,
        offset: Option<i64>,
        length: Option<i64>,
    ) -> Result<ReadAnswer, FilesError> {
        let real = self.resolve(path)?;
        let mut file = self.open(path, &real)?;
        let meta = file.metadata().map_err(|e| FilesError::io(path, e))?;
        if meta.is_dir() {
            return Err(FilesError::BadRequest(format!(
                "{path} is a directory: browse it"
            )));
        }
        let size = meta.len();
        let offset = match offset {
            None | Some(-1) => {
                return Ok(ReadAnswer {
                    data: String::new(),
                    offset: size,
                })
            }
            Some(n) => u64::try_from(n).map_err(|_| {
                FilesError::BadRequest(format!("offset {n} is negative (only -1 is allowed)"))
            })?,
        };
        let length = match length {
            None | Some(-1) => MAX_READ,
            Some(n) => u64::try_from(n).map_err(|_| {
                FilesError::BadRequest(format!("length {n} is negative (only -1 is allowed)"))
            })?,
        }
        .min(MAX_READ);
        if offset >= size || length == 0 {
            return Ok(ReadAnswer {
                data: String::new(),
                offset,
            });
        }
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| FilesError::io(path, e))?;
        let mut bytes = Vec::new();
        file.take(length)
            .read_to_end(&mut bytes)
            .map_err(|e| FilesError::io(path, e))?;
        Ok(ReadAnswer {
            data: text_of(bytes),
            offset,
        })
    }

    /// The file to send whole, with its size and name.
    pub fn download(&self, path: &str) -> Result<(File, u64, String), FilesError> {
        let real = self.resolve(path)?;
        let file = self.open(path, &real)?;
        let meta = file.metadata().map_err(|e| FilesError::io(path, e))?;
        if meta.is_dir() {
            return Err(FilesError::BadRequest(format!(
                "{path} is a directory: only files can be downloaded"
            )));
        }
        let name = real
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        Ok((file, meta.len(), name))
    }
}

/// JSON carries text: a multi-byte character cut by the end of the read is left for the next
/// read (so `offset + data.len()` is where to go on), other invalid bytes are replaced.
fn text_of(mut bytes: Vec<u8>) -> String {
    if let Err(e) = std::str::from_utf8(&bytes) {
        if e.error_len().is_none() && e.valid_up_to() > 0 {
            bytes.truncate(e.valid_up_to());
        }
    }
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn file_info(path: String, meta: &std::fs::Metadata) -> FileInfo {
    use std::os::unix::fs::MetadataExt;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64());
    FileInfo {
        path,
        size: meta.len(),
        mode: mode_string(meta),
        mtime,
        nlink: meta.nlink(),
        uid: nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(meta.uid()))
            .ok()
            .flatten()
            .map_or_else(|| meta.uid().to_string(), |u| u.name),
        gid: nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(meta.gid()))
            .ok()
            .flatten()
            .map_or_else(|| meta.gid().to_string(), |g| g.name),
    }
}

/// `ls -l`'s mode column.
fn mode_string(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::PermissionsExt;
    let kind = meta.file_type();
    let first = if kind.is_dir() {
        'd'
    } else if kind.is_symlink() {
        'l'
    } else {
        '-'
    };
    let mode = meta.permissions().mode();
    let mut text = String::with_capacity(10);
    text.push(first);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 0o7;
        text.push(if bits & 4 != 0 { 'r' } else { '-' });
        text.push(if bits & 2 != 0 { 'w' } else { '-' });
        text.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        _tmp: tempfile::TempDir,
        sandboxes: Sandboxes,
        task: PathBuf,
        outside: PathBuf,
    }

    /// A work dir with one task sandbox (`stdout` "hello\nworld\n", a `logs/` dir) and a secret
    /// file outside it.
    fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().expect("tmp");
        let work = tmp.path().join("work");
        let task = work.join("sandboxes").join("web.1");
        std::fs::create_dir_all(task.join("logs")).expect("mkdir");
        std::fs::write(task.join("stdout"), "hello\nworld\n").expect("write");
        std::fs::write(task.join("logs").join("app.log"), "x").expect("write");
        let outside = tmp.path().join("secret");
        std::fs::write(&outside, "do not read").expect("write");
        Fixture {
            sandboxes: Sandboxes::new(&work),
            task,
            outside,
            _tmp: tmp,
        }
    }

    fn s(path: &Path) -> String {
        path.display().to_string()
    }

    #[test]
    fn browse_lists_a_sandbox_in_mesos_shape() {
        let f = fixture();
        let entries = f.sandboxes.browse(&s(&f.task)).expect("browse");
        let names: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        let task = s(&f.task);
        assert_eq!(names, [format!("{task}/logs"), format!("{task}/stdout")]);
        assert!(entries[0].mode.starts_with('d'), "{:?}", entries[0]);
        assert_eq!(entries[1].size, 12);
        assert!(entries[1].mode.starts_with("-rw"), "{:?}", entries[1]);
        assert!(entries[1].mtime > 1.0e9);
        let json = serde_json::to_value(&entries[1]).expect("json");
        for key in ["path", "size", "mode", "mtime", "nlink", "uid", "gid"] {
            assert!(json.get(key).is_some(), "{key} missing in {json}");
        }
    }

    #[test]
    fn read_answers_a_range_and_the_size_for_offset_minus_one() {
        let f = fixture();
        let stdout = s(&f.task.join("stdout"));
        let r = f.sandboxes.read(&stdout, Some(6), Some(3)).expect("read");
        assert_eq!(
            r,
            ReadAnswer {
                data: "wor".into(),
                offset: 6
            }
        );
        let r = f.sandboxes.read(&stdout, Some(6), None).expect("read");
        assert_eq!(r.data, "world\n");
        for offset in [None, Some(-1)] {
            let r = f.sandboxes.read(&stdout, offset, None).expect("read");
            assert_eq!(
                r,
                ReadAnswer {
                    data: String::new(),
                    offset: 12
                }
            );
        }
        let r = f.sandboxes.read(&stdout, Some(100), Some(5)).expect("read");
        assert_eq!(
            r,
            ReadAnswer {
                data: String::new(),
                offset: 100
            }
        );
        assert!(matches!(
            f.sandboxes.read(&stdout, Some(-5), None),
            Err(FilesError::BadRequest(_))
        ));
    }

    #[test]
    fn reads_are_capped() {
        let f = fixture();
        let big = f.task.join("big");
        std::fs::write(&big, vec![b'a'; (MAX_READ + 10) as usize]).expect("write");
        let r = f
            .sandboxes
            .read(&s(&big), Some(0), Some(i64::MAX))
            .expect("read");
        assert_eq!(r.data.len() as u64, MAX_READ);
    }

    #[test]
    fn a_character_cut_by_the_length_is_left_for_the_next_read() {
        let f = fixture();
        let file = f.task.join("utf8");
        std::fs::write(&file, "aé").expect("write");
        let r = f.sandboxes.read(&s(&file), Some(0), Some(2)).expect("read");
        assert_eq!(r.data, "a");
        let r = f.sandboxes.read(&s(&file), Some(1), Some(2)).expect("read");
        assert_eq!(r.data, "é");
    }

    #[test]
    fn paths_leaving_the_sandboxes_are_refused() {
        let f = fixture();
        let escape = format!("{}/../../../secret", s(&f.task));
        let link = f.task.join("link");
        std::os::unix::fs::symlink(&f.outside, &link).expect("symlink");
        let dir_link = f.task.join("up");
        std::os::unix::fs::symlink(f.outside.parent().expect("parent"), &dir_link)
            .expect("symlink");
        for path in [
            escape,
            s(&f.outside),
            "/etc/passwd".to_string(),
            s(&link),
            format!("{}/secret", s(&dir_link)),
            "/nonexistent/elsewhere".to_string(),
        ] {
            assert!(
                matches!(
                    f.sandboxes.read(&path, Some(0), None),
                    Err(FilesError::Outside(_))
                ),
                "{path} was not refused"
            );
            assert!(
                matches!(f.sandboxes.browse(&path), Err(FilesError::Outside(_))),
                "{path} was not refused"
            );
            assert!(
                matches!(f.sandboxes.download(&path), Err(FilesError::Outside(_))),
                "{path} was not refused"
            );
        }
        assert!(matches!(
            f.sandboxes.read("stdout", Some(0), None),
            Err(FilesError::BadRequest(_))
        ));
    }

    #[test]
    fn a_symlink_inside_the_sandbox_is_followed() {
        let f = fixture();
        let link = f.task.join("out");
        std::os::unix::fs::symlink(f.task.join("stdout"), &link).expect("symlink");
        let r = f.sandboxes.read(&s(&link), Some(0), None).expect("read");
        assert_eq!(r.data, "hello\nworld\n");
    }

    #[test]
    fn a_missing_file_is_not_found_and_a_directory_is_not_read() {
        let f = fixture();
        let missing = s(&f.task.join("nope"));
        assert!(matches!(
            f.sandboxes.read(&missing, Some(0), None),
            Err(FilesError::NotFound(_))
        ));
        assert!(matches!(
            f.sandboxes.read(&s(&f.task), Some(0), None),
            Err(FilesError::BadRequest(_))
        ));
        assert!(matches!(
            f.sandboxes.download(&s(&f.task)),
            Err(FilesError::BadRequest(_))
        ));
    }

    #[test]
    fn download_opens_the_file() {
        let f = fixture();
        let (mut file, size, name) = f
            .sandboxes
            .download(&s(&f.task.join("stdout")))
            .expect("download");
        let mut text = String::new();
        file.read_to_string(&mut text).expect("read");
        assert_eq!(
            (text.as_str(), size, name.as_str()),
            ("hello\nworld\n", 12, "stdout")
        );
    }
}
