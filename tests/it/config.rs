//! `strato validate` and `strato config` seen from outside: real files in, real output checked.
use std::path::{Path, PathBuf};

use crate::common::{fixture, repo_root, strato};

/// A home directory holding the key the examples and valid fixtures name (`~/.ssh/id_ed25519`).
fn home_with_keys() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("temp home");
    let ssh = home.path().join(".ssh");
    std::fs::create_dir(&ssh).expect("mkdir .ssh");
    std::fs::write(ssh.join("id_ed25519"), "not a real key\n").expect("write key");
    std::fs::write(ssh.join("id_ed25519.pub"), "ssh-ed25519 AAAA test\n").expect("write pub");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let private = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(ssh.join("id_ed25519"), private).expect("chmod 600");
    }
    home
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Run a command and render what a user sees: exit code, stdout, stderr.
fn transcript(cmd: &mut assert_cmd::Command) -> (i32, String) {
    let out = cmd.output().expect("run strato");
    let code = out.status.code().unwrap_or(-1);
    let text = format!(
        "exit: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (code, text)
}

#[test]
fn validate_reports_every_invalid_fixture_with_file_line_and_key() {
    let dir = fixture("cluster/invalid");
    let home = home_with_keys();
    let files = yaml_files(&dir);
    assert!(
        files.len() >= 10,
        "expected the invalid fixtures, found {}",
        files.len()
    );
    for path in files {
        let name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .to_string();
        let (code, text) = transcript(
            strato()
                .current_dir(&dir)
                .env("HOME", home.path())
                .args(["validate", "-c", &name]),
        );
        assert_eq!(code, 1, "{name} should be invalid:\n{text}");
        let first = text
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_default();
        assert!(
            first
                .split(':')
                .nth(1)
                .is_some_and(|line| line.parse::<usize>().is_ok()),
            "{name}: no line number in {first:?}"
        );
        let stem = name.trim_end_matches(".yaml").to_string();
        insta::assert_snapshot!(format!("validate_invalid_{stem}"), text);
    }
}

#[test]
fn validate_accepts_examples_and_valid_fixtures() {
    let home = home_with_keys();
    let mut files = yaml_files(&repo_root().join("examples"));
    files.extend(yaml_files(&fixture("cluster/valid")));
    assert!(files.len() >= 8);
    for path in files {
        let out = strato()
            .env("HOME", home.path())
            .arg("validate")
            .arg("-c")
            .arg(&path)
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(" is valid: "), "{stdout}");
    }
}

#[test]
fn validate_exit_codes_and_default_file() {
    let dir = tempfile::tempdir().expect("temp");
    // No ./cluster.yaml: a usage error.
    let (code, text) = transcript(
        strato()
            .current_dir(dir.path())
            .env_remove("STRATO_CONFIG")
            .arg("validate"),
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("cluster.yaml does not exist"), "{text}");
    // ./cluster.yaml is the default, STRATO_CONFIG picks another file.
    std::fs::write(
        dir.path().join("cluster.yaml"),
        "cluster_name: a\nbootstrap: local\nmasters: [127.0.0.1]\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("other.yaml"),
        "cluster_name: b\nbootstrap: local\nmasters: [127.0.0.1, 127.0.0.2]\n",
    )
    .expect("write");
    let (code, text) = transcript(
        strato()
            .current_dir(dir.path())
            .env_remove("STRATO_CONFIG")
            .arg("validate"),
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("cluster.yaml is valid: a: 1 master, 0 agents, 0 public agents"),
        "{text}"
    );
    let (code, text) = transcript(
        strato()
            .current_dir(dir.path())
            .env("STRATO_CONFIG", "other.yaml")
            .arg("validate"),
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("other.yaml:3:10: masters: must list 1, 3, 5, 7 or 9 masters"),
        "{text}"
    );
}

#[test]
fn config_schema_prints_the_json_schema() {
    let out = strato().args(["config", "schema"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
    assert_eq!(schema["title"], "Cluster");
    let required = schema["required"].as_array().expect("required keys");
    assert!(required.iter().any(|k| k == "cluster_name"), "{required:?}");
    let on_disk =
        std::fs::read_to_string(repo_root().join("docs/cluster.schema.json")).expect("docs schema");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&on_disk).expect("json"),
        schema,
        "docs/cluster.schema.json is stale"
    );
}

/// Each DC/OS fixture directory holds `genconf/config.yaml` (and usually `genconf/ip-detect`),
/// laid out as `dcos_generate_config.sh` expects; the import runs from that directory.
#[test]
fn import_dcos_reaches_the_dcos_verdict_for_each_fixture() {
    let root = fixture("dcos");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("dcos fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    let accepted = [
        "enterprise",
        "file-bootstrap",
        "lb-aws-s3",
        "static-1-master",
        "static-3-masters",
    ];
    for dir in dirs {
        let case = dir.file_name().expect("name").to_string_lossy().to_string();
        let out_dir = tempfile::tempdir().expect("temp");
        let output = out_dir.path().join("cluster.yaml");
        let (code, text) = transcript(
            strato()
                .current_dir(&dir)
                .args(["config", "import-dcos", "genconf/config.yaml", "--out"])
                .arg(&output),
        );
        let expected = if accepted.contains(&case.as_str()) {
            0
        } else {
            1
        };
        assert_eq!(code, expected, "{case}:\n{text}");
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(
            &regex_escape(&out_dir.path().display().to_string()),
            "[OUT]",
        );
        settings.add_filter(&regex_escape(&repo_root().display().to_string()), "[REPO]");
        settings.add_filter(r"\[REPO\]/tests/\.\./", "[REPO]/");
        let written = std::fs::read_to_string(&output).unwrap_or_default();
        settings.bind(|| {
            insta::assert_snapshot!(
                format!("import_dcos_{case}"),
                format!("{text}--- cluster.yaml\n{written}")
            )
        });
        if code == 0 {
            assert!(
                out_dir.path().join("ip-detect").exists(),
                "{case}: ip-detect not copied"
            );
            // The result passes `strato validate`, except that the fixtures carry no SSH key.
            let check = strato()
                .arg("validate")
                .arg("-c")
                .arg(&output)
                .output()
                .expect("run");
            let stderr = String::from_utf8_lossy(&check.stderr);
            let other: Vec<&str> = stderr
                .lines()
                .filter(|l| {
                    l.contains(": ") && !l.contains("ssh.key_path") && !l.ends_with(".yaml")
                })
                .collect();
            assert!(
                other.is_empty(),
                "{case}: converted file has other problems: {other:?}"
            );
        }
    }
}

#[test]
fn import_dcos_never_overwrites_without_force() {
    let dir = fixture("dcos/static-3-masters");
    let out_dir = tempfile::tempdir().expect("temp");
    let output = out_dir.path().join("cluster.yaml");
    std::fs::write(&output, "keep me\n").expect("write");
    let run = |force: bool| {
        let mut cmd = strato();
        cmd.current_dir(&dir)
            .args(["config", "import-dcos", "genconf/config.yaml", "--out"])
            .arg(&output);
        if force {
            cmd.arg("--force");
        }
        transcript(&mut cmd)
    };
    let (code, text) = run(false);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("exists; pass --force"), "{text}");
    assert_eq!(std::fs::read_to_string(&output).expect("read"), "keep me\n");
    let (code, text) = run(true);
    assert_eq!(code, 0, "{text}");
    assert!(std::fs::read_to_string(&output)
        .expect("read")
        .contains("cluster_name: prod"));
}

fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, ch| {
        if "\\.+*?()|[]{}^$".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
        out
    })
}
