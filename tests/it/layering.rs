//! Which package may depend on which, read from `cargo metadata`: `strato` never pulls in the cloud
//! SDKs (they are the strato-cloud program's; installer/src/cmd/external.rs), and the folders
//! depend one way, installer → bootstrap → runtime.
use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::common::repo_root;

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(repo_root())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// Names of every package `strato`'s build compiles, as `cargo tree` resolves features for it alone
/// (`cargo metadata` unifies features across the workspace, so it over-reports). Dev-dependencies
/// are not part of the program.
fn strato_closure() -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "strato",
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .current_dir(repo_root())
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn strato_does_not_depend_on_the_cloud_sdks() {
    let closure = strato_closure();
    assert!(
        closure.contains("strato-config"),
        "closure looks wrong: {closure:?}"
    );
    let cloud: Vec<_> = closure
        .iter()
        .filter(|name| {
            *name == "strato-cloud"
                || name.starts_with("aws")
                || name.starts_with("azure_")
                || name.starts_with("google-cloud-")
        })
        .collect();
    assert!(
        cloud.is_empty(),
        "`strato` must not build the cloud SDKs (strato cloud runs the strato-cloud program), \
         but depends on {cloud:?}"
    );
}

#[test]
fn bootstrap_and_runtime_do_not_depend_on_installer() {
    let meta = metadata();
    let root = repo_root();
    let (installer, bootstrap, runtime) = (
        root.join("installer"),
        root.join("bootstrap"),
        root.join("runtime"),
    );
    let empty = Vec::new();
    let mut wrong = Vec::new();
    for package in meta["packages"].as_array().unwrap_or(&empty) {
        let manifest = std::path::PathBuf::from(str_of(package, "manifest_path"));
        let lower = if manifest.starts_with(&runtime) {
            [&installer, &bootstrap].to_vec()
        } else if manifest.starts_with(&bootstrap) {
            [&installer].to_vec()
        } else {
            continue;
        };
        for dep in package["dependencies"].as_array().unwrap_or(&empty) {
            let Some(path) = dep["path"].as_str() else {
                continue;
            };
            if lower
                .iter()
                .any(|upper| std::path::Path::new(path).starts_with(upper))
            {
                wrong.push(format!("{} names {}", manifest.display(), dep["name"]));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "folders depend one way (installer → bootstrap → runtime): {wrong:#?}"
    );
}
