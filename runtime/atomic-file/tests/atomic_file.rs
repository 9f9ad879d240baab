use std::io::Write;

use strato_atomic_file::{copy, write, write_with_mode, AtomicFile};

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("test io")
        .map(|e| {
            e.expect("test io")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn replaces_the_content_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().expect("test io");
    let path = dir.path().join("state.json");
    write(&path, b"one").expect("test io");
    write(&path, b"two").expect("test io");
    assert_eq!(std::fs::read(&path).expect("test io"), b"two");
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn creates_missing_directories() {
    let dir = tempfile::tempdir().expect("test io");
    let path = dir.path().join("a/b/c.json");
    write(&path, b"x").expect("test io");
    assert_eq!(std::fs::read(&path).expect("test io"), b"x");
}

#[test]
fn an_uncommitted_file_changes_nothing() {
    let dir = tempfile::tempdir().expect("test io");
    let path = dir.path().join("journal.json");
    write(&path, b"old").expect("test io");
    let mut file = AtomicFile::create(&path).expect("test io");
    file.write_all(b"half").expect("test io");
    drop(file);
    assert_eq!(std::fs::read(&path).expect("test io"), b"old");
    assert!(leftovers(dir.path()).is_empty());
}

#[cfg(unix)]
mod modes {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path)
            .expect("test io")
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn a_new_file_is_private() {
        let dir = tempfile::tempdir().expect("test io");
        let path = dir.path().join("pins.json");
        write(&path, b"{}").expect("test io");
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn the_replaced_files_mode_is_kept() {
        let dir = tempfile::tempdir().expect("test io");
        let path = dir.path().join("cluster.yaml");
        std::fs::write(&path, "a: 1\n").expect("test io");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("test io");
        write(&path, b"a: 2\n").expect("test io");
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn an_explicit_mode_wins() {
        let dir = tempfile::tempdir().expect("test io");
        let path = dir.path().join("install.sh");
        write_with_mode(&path, b"#!/bin/sh\n", 0o755).expect("test io");
        assert_eq!(mode(&path), 0o755);
        let copied = dir.path().join("copy.sh");
        copy(&path, &copied, 0o644).expect("test io");
        assert_eq!(mode(&copied), 0o644);
        assert_eq!(std::fs::read(&copied).expect("test io"), b"#!/bin/sh\n");
    }
}
