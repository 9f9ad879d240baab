//! The command line as a user meets it: `--help` of every command (snapshots), `--version`,
//! shell completions, the man pages in docs/man, `-o json` on `validate`, the log file, `-q`,
//! colour, and the confirmation `uninstall --purge` asks for.
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use clap::CommandFactory;
use predicates::prelude::*;

/// `strato` with none of its environment variables set, so `[env: …]` in help and the defaults
/// are the same on every machine.
fn strato() -> Command {
    let mut cmd = Command::cargo_bin("strato").expect("strato binary");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("STRATO_") {
            cmd.env_remove(name);
        }
    }
    cmd.env_remove("RUST_LOG").env_remove("NO_COLOR");
    cmd
}

/// Every visible command path: [], ["init"], …, ["cloud", "create"], ….
fn command_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(path.clone());
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            let mut next = path.clone();
            next.push(sub.get_name().to_string());
            walk(sub, next, out);
        }
    }
    let mut out = Vec::new();
    walk(&strato::cli::Cli::command(), Vec::new(), &mut out);
    out
}

#[test]
fn help_of_every_command_matches_its_snapshot() {
    let paths = command_paths();
    assert!(paths.len() > 15, "{paths:?}");
    for path in paths {
        let out = strato().args(&path).arg("--help").output().expect("runs");
        assert!(out.status.success(), "strato {path:?} --help failed");
        let name = std::iter::once("strato".to_string())
            .chain(path.iter().cloned())
            .collect::<Vec<_>>()
            .join("-");
        insta::assert_snapshot!(
            format!("help__{name}"),
            String::from_utf8(out.stdout).expect("utf-8")
        );
    }
}

#[test]
fn help_shows_only_the_flags_that_apply() {
    let help = |cmd: &str| {
        let out = strato().args([cmd, "--help"]).output().expect("runs");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let status = help("status");
    for flag in [
        "--dry-run",
        "--waive",
        "--bundle",
        "--bootstrap-url",
        "--listen",
    ] {
        assert!(!status.contains(flag), "status shows {flag}:\n{status}");
    }
    let uninstall = help("uninstall");
    assert!(!uninstall.contains("--waive"), "{uninstall}");
    assert!(
        uninstall.contains("--yes") && uninstall.contains("--purge"),
        "{uninstall}"
    );
    let deploy = help("deploy");
    assert!(
        deploy.contains("--waive") && deploy.contains("--dry-run"),
        "{deploy}"
    );
}

#[test]
fn dash_o_is_the_output_format_on_every_command_that_has_it() {
    let root = strato::cli::Cli::command();
    let mut checked = 0;
    for path in command_paths() {
        let mut command = &root;
        for name in &path {
            command = command.find_subcommand(name).expect("subcommand");
        }
        for arg in command.get_arguments() {
            if arg.get_short() == Some('o') {
                checked += 1;
                assert_eq!(arg.get_long(), Some("output"), "strato {path:?}");
                let values: Vec<String> = arg
                    .get_possible_values()
                    .iter()
                    .map(|v| v.get_name().to_string())
                    .collect();
                assert_eq!(values, ["table", "json"], "strato {path:?}");
            }
        }
    }
    // preflight, deploy, postflight, uninstall, upgrade, status, validate, ca rotate, backup,
    // restore, login, token revoke, task list. `cloud status|create|destroy` belong to the separate strato-cloud program;
    // tests/it/cloud.rs runs them with `-o json`.
    assert_eq!(checked, 13);
}

#[test]
fn exit_codes_are_at_the_end_of_the_long_help_only() {
    strato().arg("--help").assert().success().stdout(
        predicate::str::contains("Exit codes:\n  0    success").and(predicate::str::contains(
            "3    preflight failed on at least one host",
        )),
    );
    strato()
        .arg("-h")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:").not());
}

#[test]
fn version_names_the_commit_and_date() {
    let out = strato().arg("--version").output().expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let version = env!("CARGO_PKG_VERSION");
    let rest = text
        .trim()
        .strip_prefix(&format!("strato {version} ("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{text:?}"));
    let (commit, date) = rest.split_once(' ').unwrap_or_else(|| panic!("{text:?}"));
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{text:?}"
    );
    let parts: Vec<&str> = date.split('-').collect();
    assert!(
        parts.len() == 3 && parts[0].len() == 4 && parts.iter().all(|p| p.parse::<u32>().is_ok()),
        "{text:?}"
    );
}

/// `strato bundle --version VERSION` stamps the bundle (its manifest and file name) rather than
/// print strato's version, which `strato --version` and `-V` still do; a malformed version is a
/// usage error naming the flag, before anything is built or written.
#[test]
fn bundle_version_stamps_the_bundle_and_top_level_version_still_works() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bins = tmp.path().join("bins");
    std::fs::create_dir(&bins).expect("mkdir");
    for name in strato_bundle::NODE_BINARIES {
        std::fs::write(bins.join(name), format!("#!/bin/sh\necho {name}\n")).expect("write");
    }
    let out = tmp.path().join("out");
    let expected = out.join(strato_bundle::file_name(
        "0.2.0-rc.1",
        &strato_bundle::default_target(),
    ));
    strato()
        .args(["bundle", "--version", "0.2.0-rc.1", "--bin-dir"])
        .arg(&bins)
        .arg("--out-dir")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "wrote {}",
            expected.display()
        )))
        .stdout(predicate::str::contains("version 0.2.0-rc.1,"));
    let manifest = strato_bundle::verify(&expected).expect("the stamped bundle verifies");
    assert_eq!(manifest.version, "0.2.0-rc.1");
    assert_eq!(
        manifest.file("bin/strato-agent").map(|f| f.size),
        Some(
            std::fs::metadata(bins.join("strato-agent"))
                .expect("stat")
                .len()
        )
    );

    for bad in ["1.2", "v1.2.3", "1.2.3/x"] {
        strato()
            .args(["bundle", "--version", bad, "--bin-dir"])
            .arg(&bins)
            .arg("--out-dir")
            .arg(tmp.path().join("refused"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "--version: invalid version {bad:?}: expected MAJOR.MINOR.PATCH"
            )));
    }
    assert!(!tmp.path().join("refused").exists(), "nothing written");

    let top = format!("strato {} (", env!("CARGO_PKG_VERSION"));
    for flag in ["--version", "-V"] {
        strato()
            .arg(flag)
            .assert()
            .success()
            .stdout(predicate::str::starts_with(top.clone()));
    }
    strato().args(["bundle", "-V"]).assert().code(2);
}

#[test]
fn completion_scripts_for_each_shell_name_every_command() {
    for (shell, marker) in [
        ("bash", "_strato()"),
        ("zsh", "#compdef strato"),
        ("fish", "complete -c strato"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = strato().args(["completion", shell]).output().expect("runs");
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).expect("utf-8");
        assert!(script.contains(marker), "{shell}: no {marker}");
        for command in ["deploy", "uninstall", "cloud", "completion", "out-dir"] {
            assert!(script.contains(command), "{shell}: no {command}");
        }
    }
    strato().args(["completion", "tcsh"]).assert().code(2);
}

#[test]
fn man_pages_in_docs_are_current() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/man");
    let fresh = tempfile::tempdir().expect("tempdir");
    strato()
        .args(["generate-man", "--out-dir"])
        .arg(fresh.path())
        .assert()
        .success();
    let list = |dir: &Path| -> Vec<PathBuf> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|e| PathBuf::from(e.expect("entry").file_name()))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let update = "run `cargo run -p strato -- generate-man --out-dir docs/man` to update";
    let names = list(fresh.path());
    assert!(
        names.contains(&PathBuf::from("strato-config-import-dcos.1")),
        "{names:?}"
    );
    assert_eq!(list(&docs), names, "docs/man lists other pages: {update}");
    for name in &names {
        let want = std::fs::read(fresh.path().join(name)).expect("generated");
        let have = std::fs::read(docs.join(name)).expect("in docs/man");
        assert!(
            have == want,
            "docs/man/{} is out of date: {update}",
            name.display()
        );
    }
}

/// A valid cluster.yaml in `dir` (nothing is contacted by the tests that use it).
fn cluster(dir: &Path) -> PathBuf {
    let path = dir.join("cluster.yaml");
    std::fs::write(
        &path,
        "cluster_name: demo\nbootstrap: local\nssh:\n  user: root\n  use_agent: true\n\
         masters: [127.0.0.1]\nagents: [127.0.0.2]\nhardware: minimal\n",
    )
    .expect("cluster.yaml");
    path
}

#[test]
fn validate_json_lists_each_problem_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = cluster(dir.path());
    let out = strato()
        .args(["validate", "-o", "json", "-c"])
        .arg(&good)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["error_count"], 0, "{report}");

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "cluster_name: demo\nssh:\n  port: 99999\nmasters: []\n",
    )
    .expect("write");
    let out = strato()
        .args(["validate", "--output", "json", "-c"])
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["valid"], false, "{report}");
    let port = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["key"] == "ssh.port")
        .unwrap_or_else(|| panic!("no ssh.port diagnostic: {report}"));
    assert_eq!(port["severity"], "error", "{report}");
    assert_eq!(port["line"], 3, "{report}");
}

#[test]
fn purge_asks_for_the_cluster_name_and_refuses_without_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = cluster(dir.path());
    strato()
        .args(["uninstall", "--purge", "-c"])
        .arg(&config)
        .write_stdin("demo\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "refusing to purge without confirmation: stdin is not a terminal; pass --yes",
        ));
    // Nothing was started: no bootstrap state next to cluster.yaml.
    assert!(!dir.path().join(".strato").exists());
}

#[test]
fn the_full_log_goes_to_a_file_whose_path_is_printed_on_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    strato()
        .env("XDG_CACHE_HOME", &cache)
        .env("HOME", dir.path())
        .args(["validate", "-c"])
        .arg(dir.path().join("missing.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "the full log of this run is in {}",
            cache.join("strato/strato.log").display()
        )));
    let log = std::fs::read_to_string(cache.join("strato/strato.log")).expect("default log");
    assert!(
        log.contains("run: ") && log.contains("missing.yaml"),
        "{log}"
    );
    // An invalid file is a verdict with every reason on stderr: no pointer to the log.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "cluster_name: demo\nmasters: []\n").expect("write");
    strato()
        .env("XDG_CACHE_HOME", &cache)
        .args(["validate", "-c"])
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("full log").not());

    let chosen = dir.path().join("mine.log");
    strato()
        .arg("--log-file")
        .arg(&chosen)
        .args(["validate", "-c"])
        .arg(cluster(dir.path()))
        .assert()
        .success()
        .stderr(predicate::str::contains("full log").not());
    assert!(std::fs::read_to_string(&chosen)
        .expect("chosen log")
        .contains("run: "));
}

#[test]
fn quiet_hides_warnings_and_piped_logs_have_no_colour() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = cluster(dir.path());
    let unwritable = dir.path().join("not-a-dir");
    std::fs::write(&unwritable, "").expect("file");
    let log = unwritable.join("strato.log");
    strato()
        .arg("--log-file")
        .arg(&log)
        .args(["validate", "-c"])
        .arg(&config)
        .assert()
        .success()
        .stderr(predicate::str::contains("cannot write the log file"));
    strato()
        .args(["-q", "--log-file"])
        .arg(&log)
        .args(["validate", "-c"])
        .arg(&config)
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
    // -v logs the run line on stderr; piped, it carries no escape codes.
    strato()
        .args(["-v", "validate", "-c"])
        .arg(&config)
        .env("XDG_CACHE_HOME", dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("run: ").and(predicate::str::contains("\u{1b}[").not()));
    strato().args(["-q", "-v", "validate"]).assert().code(2);
}

/// `strato upgrade` refuses a bundle that fails its checksums, or lacks a binary a role of the
/// cluster runs, before it reaches the bootstrap host (an unroutable address here: nothing is
/// contacted, so the refusal comes first).
#[cfg(unix)]
#[test]
fn upgrade_refuses_a_broken_or_incomplete_bundle_before_anything_changes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = tmp.path().join("id_ed25519");
    std::fs::write(&key, "not used").expect("key");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    let config = tmp.path().join("cluster.yaml");
    std::fs::write(
        &config,
        format!(
            "cluster_name: demo\nbootstrap: 192.0.2.1\nssh:\n  user: root\n  key_path: {}\n\
             masters: [192.0.2.10]\nagents: [192.0.2.20]\nhardware: minimal\n",
            key.display()
        ),
    )
    .expect("cluster.yaml");
    let bins = tmp.path().join("bins");
    std::fs::create_dir(&bins).expect("mkdir");
    let mut files = Vec::new();
    for name in ["strato-master", "strato-bootstrap"] {
        std::fs::write(bins.join(name), format!("#!/bin/sh\necho {name}\n")).expect("write");
        files.push(strato_bundle::PackFile {
            path: format!("bin/{name}"),
            source: bins.join(name),
            mode: 0o755,
        });
    }
    let inputs = strato_bundle::PackInputs {
        version: "0.2.0".into(),
        target: strato_bundle::default_target(),
        files,
        etcd_version: None,
    };
    let incomplete = strato_bundle::pack(&inputs, &tmp.path().join("out")).expect("pack");
    strato()
        .args(["upgrade", "--yes", "-c"])
        .arg(&config)
        .arg("--bundle")
        .arg(&incomplete.path)
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the bundle has no bin/strato-agent, which this cluster's nodes run; nothing was changed",
        ));

    // One byte changed in the middle of the tarball.
    let mut bytes = std::fs::read(&incomplete.path).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let corrupt = tmp.path().join("corrupt.tar.gz");
    std::fs::write(&corrupt, bytes).expect("write");
    let refused = strato()
        .args(["upgrade", "--yes", "-c"])
        .arg(&config)
        .arg("--bundle")
        .arg(&corrupt)
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .failure();
    let said = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(said.contains("corrupt.tar.gz"), "{said}");
    assert!(
        !said.contains("192.0.2.1"),
        "the bootstrap host was contacted: {said}"
    );
}

#[test]
fn passwd_prints_an_argon2_hash_that_the_gateway_accepts_and_refuses_short_passwords() {
    let out = strato()
        .args(["passwd", "--stdin"])
        .write_stdin("correct horse battery\n")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hash = String::from_utf8(out.stdout).expect("utf-8");
    let hash = hash.trim();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("correct horse"), "{hash}");
    strato_gateway::check_password_hash(hash).expect("a hash the masters accept");
    let accounts = strato_gateway::Accounts {
        users: vec![strato_gateway::User {
            name: "alice".into(),
            password_hash: hash.to_string(),
        }],
        service_accounts: Vec::new(),
    };
    assert!(accounts.password_matches("alice", "correct horse battery"));
    assert!(!accounts.password_matches("alice", "correct horse"));
    let short = strato()
        .args(["passwd", "--stdin"])
        .write_stdin("short\n")
        .output()
        .expect("run");
    assert_eq!(short.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8 characters"));
}
