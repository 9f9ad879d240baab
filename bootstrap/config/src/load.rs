//! Reading cluster.yaml: parse with positions, decode, run the semantic checks, and hand back either
//! the model or every problem found.
use std::path::{Path, PathBuf};

use crate::decode::{self, Decoder, Positions};
use crate::diagnostic::{Diagnostics, Sink};
use crate::validate::{self, Ctx};
use crate::{yaml, Cluster, Files, RealFiles};

/// Where a text came from: the name to print and the directory relative paths start from.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file as the user named it (printed in diagnostics).
    pub name: String,
    /// The directory relative paths in the file are resolved against.
    pub base: PathBuf,
}

impl Source {
    /// For a path as the user typed it: printed as typed, relative paths against its directory.
    pub fn for_path(path: &Path) -> Source {
        let base = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Source {
            name: path.display().to_string(),
            base,
        }
    }
}

/// The outcome of checking one file: all diagnostics, and the model when the file was a mapping
/// (best effort: fields that failed keep their defaults; trust it only without errors).
#[derive(Debug, Clone)]
pub struct Checked {
    pub cluster: Option<Cluster>,
    pub diagnostics: Diagnostics,
    /// Where each key's value is in the file.
    pub positions: Positions,
}

impl Checked {
    pub fn is_valid(&self) -> bool {
        self.cluster.is_some() && !self.diagnostics.has_errors()
    }
}

/// The file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file was read; these are its problems (display: one line each).
    #[error("{} is invalid ({} errors)", .0.0.first().map_or("the file", |d| d.file.as_str()), .0.error_count())]
    Invalid(Diagnostics),
}

/// Load a valid cluster.yaml, checking files it names on the real filesystem. Warnings are
/// dropped; use [`check_file`] to see them.
pub fn load(path: &Path) -> Result<Cluster, LoadError> {
    let checked = check_file(path, &RealFiles)?;
    match checked.cluster {
        Some(cluster) if !checked.diagnostics.has_errors() => Ok(cluster),
        _ => Err(LoadError::Invalid(checked.diagnostics)),
    }
}

/// Read and check a file; only an unreadable file is an `Err`.
pub fn check_file(path: &Path, files: &dyn Files) -> Result<Checked, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(check_str(&text, &Source::for_path(path), files))
}

/// Check YAML text: syntax, then shape (unknown/duplicate keys, types, nulls), then meaning. Every
/// problem is reported at once; a semantic problem is not repeated for a key whose value was
/// already reported as malformed.
pub fn check_str(text: &str, source: &Source, files: &dyn Files) -> Checked {
    let mut sink = Sink::new(&source.name);
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(e) => {
            sink.error(Some(e.mark), "", format!("invalid YAML: {}", e.message));
            return Checked {
                cluster: None,
                diagnostics: sink.finish(),
                positions: Positions::default(),
            };
        }
    };
    let mut decoder = Decoder::new(&mut sink);
    let cluster = decode::cluster(&mut decoder, &root);
    let positions = decoder.positions;
    if let Some(cluster) = &cluster {
        let mut semantic = Sink::new(&source.name);
        validate::run(
            cluster,
            &mut Ctx {
                sink: &mut semantic,
                positions: &positions,
                base: &source.base,
                files,
            },
        );
        let malformed: Vec<String> = sink.found.iter().map(|d| d.key.clone()).collect();
        let fresh = semantic
            .found
            .into_iter()
            .filter(|d| !malformed.iter().any(|k| covers(k, &d.key)));
        sink.found.extend(fresh);
    }
    Checked {
        cluster,
        diagnostics: sink.finish(),
        positions,
    }
}

/// Whether a problem at `reported` already explains one at `key` (same key or a parent of it).
fn covers(reported: &str, key: &str) -> bool {
    key == reported
        || (key.starts_with(reported)
            && matches!(key.as_bytes().get(reported.len()), Some(b'.' | b'[')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::fake::FakeFiles;
    use crate::Mark;

    fn check(text: &str, files: &FakeFiles) -> Checked {
        check_str(
            text,
            &Source {
                name: "cluster.yaml".into(),
                base: "/c".into(),
            },
            files,
        )
    }

    fn lines(checked: &Checked) -> Vec<String> {
        checked
            .diagnostics
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const BASE: &str = "cluster_name: demo\nbootstrap: local\nmasters: [10.0.0.10]\n";

    #[test]
    fn check_str_accepts_a_minimal_file_with_defaults() {
        let checked = check(BASE, &FakeFiles::default());
        assert!(checked.is_valid(), "{:?}", lines(&checked));
        let cluster = checked.cluster.expect("model");
        assert_eq!(cluster.ssh.port, 22);
        assert_eq!(cluster.network.domain, "strato");
        assert_eq!(
            checked.positions.find("masters[0]"),
            Some(Mark {
                line: 3,
                column: 11
            })
        );
    }

    #[test]
    fn check_str_checks_key_files_and_their_permissions() {
        let text = format!("{BASE}ssh:\n  key_path: ~/.ssh/k\n");
        let private = FakeFiles::default().with_file("/home/op/.ssh/k", 0o600);
        assert!(check(&text, &private).is_valid());
        let open = FakeFiles::default().with_file("/home/op/.ssh/k", 0o644);
        let problems = lines(&check(&text, &open));
        #[cfg(unix)]
        assert_eq!(
            problems,
            ["cluster.yaml:5:13: ssh.key_path: SSH key `~/.ssh/k` is readable by group or others (mode 0644); run `chmod 600 ~/.ssh/k`"]
        );
        let _ = problems;
        let missing = lines(&check(&text, &FakeFiles::default()));
        assert_eq!(
            missing,
            ["cluster.yaml:5:13: ssh.key_path: SSH key `~/.ssh/k` does not exist"]
        );
    }

    #[test]
    fn check_str_resolves_relative_paths_against_the_file() {
        let text = format!("{BASE}network: {{ip_detect: ./ip-detect}}\n");
        let files = FakeFiles::default().with_file("/c/./ip-detect", 0o755);
        assert!(
            check(&text, &files).is_valid(),
            "{:?}",
            lines(&check(&text, &files))
        );
    }

    #[test]
    fn check_str_allows_a_single_master_to_be_an_agent_too() {
        let one = "cluster_name: a\nbootstrap: local\nmasters: [127.0.0.1]\nagents: [127.0.0.1]\n";
        assert!(check(one, &FakeFiles::default()).is_valid());
        let three = "cluster_name: a\nbootstrap: local\nmasters: [10.0.0.1, 10.0.0.2, 10.0.0.3]\nagents: [10.0.0.1]\n";
        assert_eq!(
            lines(&check(three, &FakeFiles::default())),
            ["cluster.yaml:4:10: agents[0]: `10.0.0.1` is already a master (masters[0]); a host has one role"]
        );
    }

    #[test]
    fn check_str_does_not_repeat_a_malformed_value_as_a_semantic_error() {
        let text = "cluster_name: 7\nbootstrap: local\nmasters: [10.0.0.10]\n";
        let problems = lines(&check(text, &FakeFiles::default()));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("cluster.yaml:1:15: cluster_name: expected a string"));
    }

    #[test]
    fn check_str_requires_a_way_to_log_in() {
        let text = format!("{BASE}ssh: {{use_agent: false}}\n");
        let problems = lines(&check(&text, &FakeFiles::default()));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("ssh.use_agent: no way to log in"),
            "{problems:?}"
        );
    }

    #[test]
    fn check_str_never_panics_on_odd_yaml() {
        let odd = [
            "",
            "~",
            "[]",
            "42",
            "- a\n- b",
            "{",
            "a: [",
            "? [a]\n: b",
            "&x a: *x",
            "a: *nope",
            "cluster_name: {a: 1}\nmasters: {x: y}\nssh: []\nhardware: 5\ncloud: 3",
            "masters:\n  - {address: [1]}\n  - {labels: 4}\n  - 7",
        ];
        for text in odd {
            let checked = check(text, &FakeFiles::default());
            assert!(checked.diagnostics.has_errors(), "{text:?} passed");
        }
    }
}
