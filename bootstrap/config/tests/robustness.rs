//! `strato validate` must never panic: every example and fixture, cut short at many points and
//! with each line removed in turn, still yields diagnostics (or a valid model), never a crash.
use std::path::{Path, PathBuf};

use strato_config::{check_str, dcos, FileState, Files, Source};

struct NoFiles;

impl Files for NoFiles {
    fn state(&self, _path: &Path) -> FileState {
        FileState::Missing
    }

    fn home(&self) -> Option<PathBuf> {
        None
    }
}

fn inputs() -> Vec<String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs = vec![
        repo.join("examples"),
        repo.join("tests/fixtures/cluster/valid"),
        repo.join("tests/fixtures/cluster/invalid"),
    ];
    let dcos = repo.join("tests/fixtures/dcos");
    dirs.extend(
        std::fs::read_dir(&dcos)
            .expect("dcos fixtures")
            .map(|e| e.expect("entry").path().join("genconf")),
    );
    let mut texts = Vec::new();
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).expect("fixture dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                texts.push(std::fs::read_to_string(&path).expect("read"));
            }
        }
    }
    assert!(texts.len() > 30, "found only {} inputs", texts.len());
    texts
}

fn variants(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(13).collect();
    out.extend(cuts.into_iter().map(|i| text[..i].to_string()));
    let lines: Vec<&str> = text.lines().collect();
    for skip in 0..lines.len() {
        let kept: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        out.push(kept.join("\n"));
    }
    out
}

#[test]
fn damaged_files_never_panic() {
    let source = Source {
        name: "cluster.yaml".into(),
        base: PathBuf::from("."),
    };
    let mut checked = 0;
    for text in inputs() {
        for variant in variants(&text) {
            let result = check_str(&variant, &source, &NoFiles);
            // Either a model came out, or at least one error says why not.
            assert!(
                result.cluster.is_some() || result.diagnostics.has_errors(),
                "{variant:?}"
            );
            let import = dcos::import(&variant, "config.yaml", Path::new("."), &NoFiles);
            assert!(
                import.cluster.is_some() || import.diagnostics.has_errors(),
                "{variant:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 500, "only {checked} variants");
}
