//! The JSON Schema agrees with the validator: every example and valid fixture passes both, every
//! broken fixture fails the validator, and docs/cluster.schema.json is current.
use std::path::{Path, PathBuf};

use strato_config::{check_str, schema, FileState, Files, Source};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no yaml files in {}", dir.display());
    files
}

/// Every file the examples name exists with owner-only permissions, except under `no-such`.
struct KeysExist;

impl Files for KeysExist {
    fn state(&self, path: &Path) -> FileState {
        if path.to_string_lossy().contains("no-such") || path.to_string_lossy().contains("missing")
        {
            FileState::Missing
        } else {
            FileState::File { mode: Some(0o600) }
        }
    }

    fn home(&self) -> Option<PathBuf> {
        Some("/home/op".into())
    }
}

fn valid_files() -> Vec<PathBuf> {
    let mut all = yaml_files(&repo().join("examples"));
    all.extend(yaml_files(&repo().join("tests/fixtures/cluster/valid")));
    all
}

#[test]
fn examples_and_valid_fixtures_pass_the_schema_and_the_validator() {
    let validator = jsonschema::validator_for(&schema::json_schema()).expect("schema compiles");
    for path in valid_files() {
        let text = std::fs::read_to_string(&path).expect("read");
        let json: serde_json::Value = yaml_serde::from_str(&text).expect("yaml");
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{} fails the schema: {errors:#?}",
            path.display()
        );
        let checked = check_str(&text, &Source::for_path(&path), &KeysExist);
        assert!(
            checked.is_valid(),
            "{} fails validation:\n{}",
            path.display(),
            checked.diagnostics
        );
    }
}

#[test]
fn invalid_fixtures_fail_the_validator_with_positions() {
    for path in yaml_files(&repo().join("tests/fixtures/cluster/invalid")) {
        let text = std::fs::read_to_string(&path).expect("read");
        let checked = check_str(&text, &Source::for_path(&path), &KeysExist);
        assert!(
            checked.diagnostics.has_errors(),
            "{} passed validation",
            path.display()
        );
    }
}

#[test]
fn docs_schema_file_is_current() {
    let on_disk = std::fs::read_to_string(repo().join("docs/cluster.schema.json"))
        .expect("docs/cluster.schema.json");
    let current = serde_json::to_string_pretty(&schema::json_schema()).expect("json") + "\n";
    assert!(
        on_disk == current,
        "docs/cluster.schema.json is stale: run `cargo run -p strato -- config schema > docs/cluster.schema.json`"
    );
}
