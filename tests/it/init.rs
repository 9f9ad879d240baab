//! `strato init` seen from outside: answered through a real pseudo-terminal like a person, from
//! flags and environment variables, and refusing to overwrite.
use std::path::{Path, PathBuf};

use crate::common::strato;

/// A working directory with a 0600 SSH key (`id_ed25519` and its `.pub`).
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("id_ed25519"), "key\n").expect("key");
    std::fs::write(dir.path().join("id_ed25519.pub"), "ssh-ed25519 AAAA op\n").expect("pub");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("id_ed25519"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("chmod");
    }
    dir
}

fn validate(dir: &Path, file: &str) {
    strato()
        .current_dir(dir)
        .args(["validate", "-c", file])
        .assert()
        .success();
    let cluster = strato_config::load(&dir.join(file)).expect("loads");
    assert_eq!(cluster.cluster_name, "demo");
}

#[cfg(unix)]
mod pty {
    use super::*;
    use expectrl::{Eof, Session};

    const WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

    fn spawn(dir: &Path, args: &[&str]) -> Session {
        let mut cmd = std::process::Command::new(crate::common::bin_path("strato"));
        cmd.args(args)
            .current_dir(dir)
            .env("TERM", "xterm")
            .env("HOME", dir)
            .env_remove("RUST_LOG");
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("STRATO_")) {
            cmd.env_remove(key);
        }
        let mut session = Session::spawn(cmd).expect("spawn strato in a pty");
        session
            .get_process_mut()
            .set_window_size(120, 40)
            .expect("window size");
        session.set_expect_timeout(Some(WITHIN));
        session
    }

    /// Waits for `prompt`, then types `answer` and presses Enter (a raw-mode terminal sends CR).
    fn answer(s: &mut Session, prompt: &str, answer: &str) {
        s.expect(prompt)
            .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
        s.send(format!("{answer}\r")).expect("type");
    }

    #[test]
    fn a_person_answers_retypes_a_bad_address_and_gets_a_valid_file() {
        let dir = workdir();
        let mut s = spawn(dir.path(), &["init"]);
        answer(&mut s, "Cluster name", "demo");
        answer(&mut s, "Where do the nodes run?", ""); // bare metal, the first choice
        answer(&mut s, "Bootstrap host", "10.0.0.5");
        answer(&mut s, "Masters", "10.0.0.300");
        s.expect("`10.0.0.300` is not a valid IPv4 address")
            .expect("the validation message is shown");
        // Erase what was typed, as a person would, and type a valid address.
        s.send("\x15").expect("ctrl-u");
        s.send(format!("{}10.0.0.10\r", "\x7f".repeat(12)))
            .expect("type");
        answer(&mut s, "Agents", "10.0.0.20, 10.0.0.21");
        answer(&mut s, "Public agents", "");
        answer(&mut s, "SSH user", "centos");
        answer(&mut s, "SSH port", "");
        answer(&mut s, "SSH private key", "id_ed25519");
        s.expect("Hardware profile").expect("hardware prompt");
        s.send("\x1b[B\r").expect("arrow down to minimal, Enter");
        answer(&mut s, "DNS resolvers", "1.1.1.1");
        s.expect("wrote cluster.yaml").expect("done message");
        s.expect(Eof).expect("exits");
        let status = s.get_process_mut().wait().expect("exit status");
        assert_eq!(
            status,
            expectrl::WaitStatus::Exited(s.get_process().pid(), 0)
        );

        validate(dir.path(), "cluster.yaml");
        let cluster = strato_config::load(&dir.path().join("cluster.yaml")).expect("loads");
        assert_eq!(
            cluster.summary(),
            "demo: 1 master, 2 agents, 0 public agents"
        );
        assert_eq!(cluster.masters[0].address, "10.0.0.10");
        assert_eq!(cluster.network.resolvers, ["1.1.1.1"]);
        assert_eq!(
            cluster.hardware,
            strato_config::Hardware::parse_profile("minimal").expect("profile")
        );
    }
}

fn init(dir: &Path) -> assert_cmd::Command {
    let mut cmd = strato();
    cmd.current_dir(dir).env("HOME", dir).arg("init");
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("STRATO_")) {
        cmd.env_remove(key);
    }
    cmd
}

#[test]
fn flags_write_a_commented_file_that_validates() {
    let dir = workdir();
    init(dir.path())
        .args([
            "--yes",
            "--name",
            "demo",
            "--bootstrap",
            "10.0.0.5",
            "--masters",
            "10.0.0.10,10.0.0.11,10.0.0.12",
        ])
        .args([
            "--agents",
            "10.0.0.20",
            "--public-agents",
            "10.0.0.30",
            "--ssh-user",
            "centos",
        ])
        .args([
            "--ssh-key",
            "id_ed25519",
            "--hardware",
            "minimal",
            "--resolvers",
            "8.8.8.8,1.1.1.1:53",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "wrote cluster.yaml (demo: 3 masters, 1 agent, 1 public agent)",
        ));
    validate(dir.path(), "cluster.yaml");
    let text = std::fs::read_to_string(dir.path().join("cluster.yaml")).expect("read");
    insta::assert_snapshot!("init_flags_cluster_yaml", text);
}

#[test]
fn environment_variables_answer_like_flags() {
    let dir = workdir();
    init(dir.path())
        .args(["--out", "env.yaml"])
        .env("STRATO_INIT_NAME", "demo")
        .env("STRATO_INIT_PLATFORM", "aws")
        .env("STRATO_INIT_REGION", "eu-west-1")
        .env("STRATO_INIT_ADMIN_CIDRS", "203.0.113.0/24")
        .env("STRATO_INIT_MASTERS", "3")
        .env("STRATO_INIT_SSH_KEY", "id_ed25519")
        .assert()
        .success();
    validate(dir.path(), "env.yaml");
    let cluster = strato_config::load(&dir.path().join("env.yaml")).expect("loads");
    let cloud = cluster.cloud.expect("cloud section");
    assert_eq!(cloud.region.as_deref(), Some("eu-west-1"));
    assert_eq!(cloud.counts.masters, 3);
    assert_eq!(cloud.ssh_public_key, PathBuf::from("id_ed25519.pub"));
}

#[test]
fn without_a_terminal_missing_values_are_a_usage_error_naming_the_flags() {
    let dir = workdir();
    init(dir.path())
        .args(["--ssh-key", "id_ed25519"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("missing --name, --masters"));
    assert!(!dir.path().join("cluster.yaml").exists());
}

#[test]
fn an_invalid_flag_is_a_usage_error() {
    let dir = workdir();
    init(dir.path())
        .args([
            "--yes",
            "--name",
            "demo",
            "--masters",
            "10.0.0.1,10.0.0.2",
            "--ssh-key",
            "id_ed25519",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--masters: need 1, 3, 5, 7 or 9 masters",
        ));
}

#[test]
fn an_existing_file_is_kept_unless_forced() {
    let dir = workdir();
    std::fs::write(dir.path().join("cluster.yaml"), "mine\n").expect("write");
    let args = [
        "--yes",
        "--name",
        "demo",
        "--masters",
        "10.0.0.10",
        "--ssh-key",
        "id_ed25519",
    ];
    init(dir.path())
        .args(args)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "cluster.yaml already exists; pass --force to overwrite it",
        ));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("cluster.yaml")).expect("read"),
        "mine\n"
    );
    init(dir.path())
        .args(args)
        .arg("--force")
        .assert()
        .success();
    validate(dir.path(), "cluster.yaml");
}
