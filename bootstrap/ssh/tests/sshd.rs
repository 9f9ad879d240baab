//! strato-ssh against a real OpenSSH server on 127.0.0.1 (see common/mod.rs).
#![cfg(unix)]

mod common;

use std::time::{Duration, Instant};

use common::{Sshd, PASSPHRASE};
use strato_ssh::{
    AuthMethod, Bastion, ExecOptions, HostKeyPolicy, OutputStream, Passphrase, Session, SshError,
    UploadOptions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn connect(sshd: &Sshd) -> Session {
    Session::connect(&sshd.target(), &sshd.options(&sshd.keys.ed25519), None)
        .await
        .expect("connect")
}

#[tokio::test]
async fn exec_returns_stdout_stderr_and_exit_status() {
    let sshd = Sshd::start();
    let s = connect(&sshd).await;
    let out = s
        .exec("echo out; echo err >&2; exit 3", ExecOptions::default())
        .await
        .expect("exec");
    assert_eq!(out.stdout_text(), "out\n");
    assert_eq!(out.stderr_text(), "err\n");
    assert_eq!(out.exit_status, 3);
    assert!(!out.success());
    let ok = s.exec("id -u", ExecOptions::default()).await.expect("exec");
    assert!(ok.success());
    assert_eq!(ok.stdout_text().trim(), "0");
}

#[tokio::test]
async fn exec_streams_output_while_the_command_runs() {
    let sshd = Sshd::start();
    let s = connect(&sshd).await;
    let flag = sshd.dir.path().join("go-on");
    // The command prints, then waits for a file that the test creates only after it has seen
    // the first line: without streaming it would wait until its timeout.
    let cmd = format!(
        "echo first; echo warn >&2; while [ ! -e '{}' ]; do sleep 0.05; done; echo second",
        flag.display()
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let opts = ExecOptions {
        timeout: Some(Duration::from_secs(20)),
        on_output: Some(Box::new(move |stream, chunk: &[u8]| {
            let _ = tx.send((stream, chunk.to_vec()));
        })),
        ..ExecOptions::default()
    };
    let run = tokio::spawn({
        let s = s.clone();
        async move { s.exec(&cmd, opts).await }
    });
    let mut seen = Vec::new();
    while let Some((stream, chunk)) = rx.recv().await {
        seen.push((stream, String::from_utf8_lossy(&chunk).into_owned()));
        let text: String = seen.iter().map(|(_, t)| t.as_str()).collect();
        if text.contains("first") && text.contains("warn") {
            break;
        }
    }
    std::fs::write(&flag, b"").expect("flag");
    let out = run.await.expect("join").expect("exec");
    assert_eq!(out.stdout_text(), "first\nsecond\n");
    assert!(seen
        .iter()
        .any(|(s, t)| *s == OutputStream::Stderr && t.contains("warn")));
}

#[tokio::test]
async fn one_connection_carries_concurrent_channels() {
    let sshd = Sshd::start();
    let s = connect(&sshd).await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..12 {
        let s = s.clone();
        set.spawn(async move {
            (
                i,
                s.exec(&format!("echo {i}"), ExecOptions::default()).await,
            )
        });
    }
    while let Some(joined) = set.join_next().await {
        let (i, out) = joined.expect("join");
        assert_eq!(out.expect("exec").stdout_text(), format!("{i}\n"));
    }
}

#[tokio::test]
async fn exec_passes_binary_stdin() {
    let sshd = Sshd::start();
    let s = connect(&sshd).await;
    let data: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let out = s
        .exec(
            "wc -c",
            ExecOptions {
                stdin: Some(data),
                ..ExecOptions::default()
            },
        )
        .await
        .expect("exec");
    assert_eq!(out.stdout_text().trim(), "300000");
}

#[cfg(unix)]
#[tokio::test]
async fn upload_writes_binary_data_with_mode_and_download_reads_it_back() {
    use std::os::unix::fs::PermissionsExt;
    let sshd = Sshd::start();
    let s = connect(&sshd).await;
    let path = sshd.dir.path().join("bin-file");
    let remote = path.to_str().expect("utf-8");
    std::fs::write(&path, b"old contents").expect("seed");
    let data: Vec<u8> = (0..2_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    s.upload(&data, remote, 0o750, UploadOptions::default())
        .await
        .expect("upload");
    assert_eq!(std::fs::read(&path).expect("read"), data);
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
    assert_eq!(mode & 0o7777, 0o750);
    let back = s
        .download(remote, UploadOptions::default())
        .await
        .expect("download");
    assert_eq!(back, data);
    let leftovers: Vec<_> = std::fs::read_dir(sshd.dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("strato-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[tokio::test]
async fn upload_into_a_missing_directory_fails_with_host_and_path() {
    let sshd = Sshd::start();
    let s = connect(&sshd).await;
    let remote = format!("{}/no/such/dir/f", sshd.dir.path().display());
    let err = s
        .upload(b"x", &remote, 0o644, UploadOptions::default())
        .await
        .expect_err("must fail");
    assert!(matches!(err, SshError::Upload { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&remote) && msg.contains("127.0.0.1"), "{msg}");
}

#[tokio::test]
async fn local_forward_reaches_a_tcp_server_behind_the_host() {
    let sshd = Sshd::start();
    let s = connect(&sshd).await;
    let echo = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let echo_port = echo.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = echo.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = sock.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    let fwd = s
        .forward_local("127.0.0.1", echo_port)
        .await
        .expect("forward");
    assert!(fwd.local_addr().ip().is_loopback());
    assert_ne!(fwd.local_addr().port(), echo_port);
    for round in 0..2 {
        let mut c = tokio::net::TcpStream::connect(fwd.local_addr())
            .await
            .expect("connect");
        let msg = format!("hello through the tunnel {round}");
        c.write_all(msg.as_bytes()).await.expect("write");
        c.shutdown().await.expect("shutdown");
        let mut back = String::new();
        c.read_to_string(&mut back).await.expect("read");
        assert_eq!(back, msg);
    }
}

#[tokio::test]
async fn host_key_is_trusted_on_first_use_then_pinned_and_a_change_is_refused() {
    let mut sshd = Sshd::start();
    let first = connect(&sshd).await;
    let info = first.host_key().clone();
    assert!(info.first_use);
    assert_eq!(
        info.fingerprint,
        sshd.host_fingerprint(),
        "same as ssh-keygen -lf"
    );
    assert_eq!(info.algorithm, "ssh-ed25519");
    first.close().await;

    let mut pinned = sshd.options(&sshd.keys.ed25519);
    pinned.host_key = HostKeyPolicy::from_pinned(Some(info.fingerprint.clone()));
    let again = Session::connect(&sshd.target(), &pinned, None)
        .await
        .expect("pinned");
    assert!(!again.host_key().first_use);
    again.close().await;

    sshd.restart_with_other_host_key();
    let new_fp = common::keygen_fingerprint(&sshd.host_key_path("host_other.pub"));
    let err = Session::connect(&sshd.target(), &pinned, None)
        .await
        .expect_err("changed key must be refused");
    assert!(matches!(err, SshError::HostKeyChanged { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(info.fingerprint.as_str()), "{msg}");
    assert!(msg.contains(&new_fp), "{msg}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn key_not_authorised_is_refused_naming_user_and_key() {
    let sshd = Sshd::start();
    let err = Session::connect(&sshd.target(), &sshd.options(&sshd.keys.stranger), None)
        .await
        .expect_err("must be refused");
    assert!(matches!(err, SshError::AuthFailed { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("root") && msg.contains("id_stranger"), "{msg}");
}

#[tokio::test]
async fn rsa_and_ecdsa_keys_authenticate() {
    let sshd = Sshd::start();
    for key in [&sshd.keys.rsa, &sshd.keys.ecdsa] {
        let s = Session::connect(&sshd.target(), &sshd.options(key), None)
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", key.display()));
        assert!(s
            .exec("true", ExecOptions::default())
            .await
            .expect("exec")
            .success());
    }
}

#[tokio::test]
async fn encrypted_key_needs_the_right_passphrase() {
    let sshd = Sshd::start();
    let with = |passphrase| {
        let mut o = sshd.options(&sshd.keys.encrypted);
        o.auth = vec![AuthMethod::Key {
            path: sshd.keys.encrypted.clone(),
            passphrase,
        }];
        o
    };
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    let prompt = Passphrase::Callback(std::sync::Arc::new(move |_path: &std::path::Path| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(PASSPHRASE.to_string())
    }));
    let ok = Session::connect(&sshd.target(), &with(prompt.clone()), None).await;
    assert!(ok.is_ok(), "{:?}", ok.err());
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);

    // Loaded once, the key serves many connections without asking again.
    let method = AuthMethod::Key {
        path: sshd.keys.encrypted.clone(),
        passphrase: prompt,
    };
    let loaded = method.load().expect("decrypts");
    for _ in 0..2 {
        let mut o = sshd.options(&sshd.keys.encrypted);
        o.auth = vec![loaded.clone()];
        Session::connect(&sshd.target(), &o, None)
            .await
            .expect("loaded key");
    }
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);

    let wrong = Session::connect(
        &sshd.target(),
        &with(Passphrase::Literal("nope".into())),
        None,
    )
    .await
    .expect_err("wrong passphrase");
    assert!(
        matches!(wrong, SshError::WrongPassphrase { .. }),
        "{wrong:?}"
    );
    assert!(wrong.to_string().contains("id_encrypted"));

    let none = Session::connect(&sshd.target(), &with(Passphrase::None), None)
        .await
        .expect_err("no passphrase");
    assert!(
        matches!(none, SshError::PassphraseRequired { .. }),
        "{none:?}"
    );
    assert!(none.to_string().contains("STRATO_SSH_PASSPHRASE"));
}

#[tokio::test]
async fn encrypted_key_passphrase_from_the_environment() {
    let sshd = Sshd::start();
    // nextest runs each test in its own process, so this does not leak into other tests.
    std::env::set_var(strato_ssh::PASSPHRASE_ENV, PASSPHRASE);
    let mut opts = sshd.options(&sshd.keys.encrypted);
    opts.auth = vec![AuthMethod::key(&sshd.keys.encrypted)];
    let s = Session::connect(&sshd.target(), &opts, None).await;
    std::env::remove_var(strato_ssh::PASSPHRASE_ENV);
    assert!(s.is_ok(), "{:?}", s.err());
}

#[tokio::test]
async fn encrypted_key_passphrase_from_the_terminal_prompt_once_per_run() {
    // What the CLI plugs in on a terminal (installer/src/ui/passphrase.rs): asked only when the
    // variable is unset, once per key however many hosts connect; a wrong answer is asked again.
    let sshd = Sshd::start();
    std::env::remove_var(strato_ssh::PASSPHRASE_ENV);
    let answers = std::sync::Arc::new(std::sync::Mutex::new(vec![
        PASSPHRASE.to_string(),
        "wrong".to_string(),
    ]));
    let asked = std::sync::Arc::clone(&answers);
    strato_ssh::set_passphrase_prompt(std::sync::Arc::new(move |path: &std::path::Path| {
        assert!(path.ends_with("id_encrypted"), "{}", path.display());
        asked.lock().expect("answers").pop()
    }));
    let mut opts = sshd.options(&sshd.keys.encrypted);
    opts.auth = vec![AuthMethod::key(&sshd.keys.encrypted)];
    let wrong = Session::connect(&sshd.target(), &opts, None)
        .await
        .expect_err("the first answer is wrong");
    assert!(
        matches!(wrong, SshError::WrongPassphrase { .. }),
        "{wrong:?}"
    );
    for _ in 0..3 {
        Session::connect(&sshd.target(), &opts, None)
            .await
            .expect("the second answer decrypts the key");
    }
    assert!(
        answers.lock().expect("answers").is_empty(),
        "asked exactly twice"
    );
}

#[test]
fn an_encrypted_key_is_decrypted_for_a_host_that_has_nobody_to_ask() {
    let sshd = Sshd::start();
    let path = &sshd.keys.encrypted;
    let text = std::fs::read_to_string(path).expect("key");
    let plain = strato_ssh::decrypted_key(path, &text, &Passphrase::Literal(PASSPHRASE.into()))
        .expect("decrypts")
        .expect("it was encrypted");
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("plain");
    std::fs::write(&copy, plain.as_bytes()).expect("write");
    let loaded = strato_ssh::load_private_key(&copy, &Passphrase::None)
        .expect("the copy needs no passphrase");
    assert_eq!(
        loaded.fingerprint().to_string(),
        common::keygen_fingerprint(path),
        "the same key"
    );
    let wrong = strato_ssh::decrypted_key(path, &text, &Passphrase::Literal("nope".into()))
        .expect_err("wrong passphrase");
    assert!(
        matches!(wrong, SshError::WrongPassphrase { .. }),
        "{wrong:?}"
    );
    // An unencrypted key and a script are left as they are.
    let unencrypted = std::fs::read_to_string(&sshd.keys.ed25519).expect("key");
    assert!(
        strato_ssh::decrypted_key(&sshd.keys.ed25519, &unencrypted, &Passphrase::None)
            .expect("not encrypted")
            .is_none()
    );
    assert!(
        strato_ssh::decrypted_key(path, "#!/bin/sh\necho 10.0.0.1\n", &Passphrase::None)
            .expect("a script")
            .is_none()
    );
}

#[tokio::test]
async fn connect_to_a_closed_port_is_refused_after_retries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = common::free_port();
    let sshd_less = strato_ssh::Target::new("127.0.0.1", "root").with_port(port);
    let key = common::throwaway_key(dir.path());
    let mut opts = strato_ssh::ConnectOptions::new(vec![AuthMethod::key(key)]);
    opts.retry = strato_ssh::RetryPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
    };
    let err = Session::connect(&sshd_less, &opts, None)
        .await
        .expect_err("refused");
    match &err {
        SshError::Connect {
            attempts, source, ..
        } => {
            assert_eq!(*attempts, 3);
            assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
        }
        other => panic!("expected Connect, got {other:?}"),
    }
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")));
}

#[tokio::test]
async fn connect_times_out_when_the_server_never_sends_a_banner() {
    // Accepts TCP, then says nothing: a hung sshd or a black-holing middlebox.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = silent.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let key = common::throwaway_key(dir.path());
    let mut opts = strato_ssh::ConnectOptions::new(vec![AuthMethod::key(key)]);
    opts.connect_timeout = Duration::from_millis(300);
    opts.retry = strato_ssh::RetryPolicy {
        attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(10),
    };
    let target = strato_ssh::Target::new("127.0.0.1", "root").with_port(port);
    let err = Session::connect(&target, &opts, None)
        .await
        .expect_err("timeout");
    assert!(
        matches!(err, SshError::ConnectTimeout { attempts: 2, timeout, .. } if timeout == Duration::from_millis(300)),
        "{err:?}"
    );
}

#[tokio::test]
async fn job_deadline_cuts_connect_retries_short() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = common::free_port();
    let target = strato_ssh::Target::new("127.0.0.1", "root").with_port(port);
    let key = common::throwaway_key(dir.path());
    let mut opts = strato_ssh::ConnectOptions::new(vec![AuthMethod::key(key)]);
    opts.retry = strato_ssh::RetryPolicy {
        attempts: 1000,
        initial_backoff: Duration::from_secs(5),
        max_backoff: Duration::from_secs(5),
    };
    let deadline = Instant::now() + Duration::from_millis(200);
    let err = Session::connect(&target, &opts, Some(deadline))
        .await
        .expect_err("gives up");
    // The next pause would pass the deadline, so it stops after the first attempt.
    assert!(
        matches!(err, SshError::Connect { attempts: 1, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn command_timeout_stops_the_command_and_the_session_stays_usable() {
    let sshd = Sshd::start();
    let s = connect(&sshd).await;
    let err = s
        .exec(
            "sleep 30",
            ExecOptions {
                timeout: Some(Duration::from_millis(300)),
                ..ExecOptions::default()
            },
        )
        .await
        .expect_err("must time out");
    assert!(
        matches!(&err, SshError::CommandTimeout { command, .. } if command == "sleep 30"),
        "{err:?}"
    );
    let out = s
        .exec("echo still here", ExecOptions::default())
        .await
        .expect("exec");
    assert_eq!(out.stdout_text(), "still here\n");
}

#[tokio::test]
async fn command_timeout_kills_the_remote_process() {
    let sshd = Sshd::start();
    let s = connect(&sshd).await;
    // A sleep length no other test uses, so pgrep finds only this one.
    let err = s
        .exec(
            "exec sleep 3131",
            ExecOptions {
                timeout: Some(Duration::from_millis(300)),
                ..ExecOptions::default()
            },
        )
        .await
        .expect_err("times out");
    assert!(matches!(err, SshError::CommandTimeout { .. }), "{err:?}");
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let out = s
            .exec("pgrep -f 'sleep 313[1]' || true", ExecOptions::default())
            .await
            .expect("pgrep");
        if out.stdout.is_empty() {
            break;
        }
        assert!(
            Instant::now() < until,
            "remote sleep survived: {} {}",
            out.stdout_text(),
            std::fs::read_to_string(sshd.dir.path().join("sshd.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn job_deadline_beats_a_longer_command_timeout() {
    let sshd = Sshd::start();
    let s = connect(&sshd).await;
    let err = s
        .exec(
            "sleep 30",
            ExecOptions {
                timeout: Some(Duration::from_secs(60)),
                deadline: Some(Instant::now() + Duration::from_millis(300)),
                ..ExecOptions::default()
            },
        )
        .await
        .expect_err("deadline");
    assert!(
        matches!(err, SshError::DeadlineExceeded { step: "exec", .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn bastion_carries_the_connection_to_the_target() {
    let sshd = Sshd::start();
    // The same sshd plays bastion and target: the target connection runs inside a
    // direct-tcpip channel of the bastion connection.
    let mut opts = sshd.options(&sshd.keys.ed25519);
    opts.bastion = Some(Bastion {
        target: sshd.target(),
        auth: vec![AuthMethod::key(&sshd.keys.ecdsa)],
        host_key: HostKeyPolicy::from_pinned(Some(sshd.host_fingerprint())),
    });
    let s = Session::connect(&sshd.target(), &opts, None)
        .await
        .expect("via bastion");
    let out = s
        .exec("echo hi", ExecOptions::default())
        .await
        .expect("exec");
    assert_eq!(out.stdout_text(), "hi\n");
    let b = s.bastion_host_key().expect("bastion key");
    assert!(!b.first_use);
    assert_eq!(b.fingerprint, sshd.host_fingerprint());
}

#[tokio::test]
async fn a_target_down_behind_the_bastion_is_retried_then_reported() {
    let sshd = Sshd::start();
    let down = strato_ssh::Target::new("127.0.0.1", "root").with_port(common::free_port());
    let mut opts = sshd.options(&sshd.keys.ed25519);
    opts.retry = strato_ssh::RetryPolicy {
        attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(10),
    };
    opts.bastion = Some(Bastion {
        target: sshd.target(),
        auth: vec![AuthMethod::key(&sshd.keys.ed25519)],
        host_key: HostKeyPolicy::TrustOnFirstUse,
    });
    let err = Session::connect(&down, &opts, None)
        .await
        .expect_err("target down");
    assert!(
        matches!(
            &err,
            SshError::Protocol {
                step: "open channel through bastion",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(err.to_string().contains(&down.to_string()), "{err}");
}

#[tokio::test]
async fn bastion_errors_name_the_bastion() {
    let sshd = Sshd::start();
    let mut opts = sshd.options(&sshd.keys.ed25519);
    opts.bastion = Some(Bastion {
        target: sshd.target(),
        auth: vec![AuthMethod::key(&sshd.keys.stranger)],
        host_key: HostKeyPolicy::TrustOnFirstUse,
    });
    let err = Session::connect(&sshd.target(), &opts, None)
        .await
        .expect_err("bastion refuses");
    assert!(matches!(err, SshError::Bastion { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("bastion root@127.0.0.1"),
        "{err}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn ssh_agent_identities_authenticate() {
    let sshd = Sshd::start();
    let sock = sshd.dir.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent");
    let until = Instant::now() + Duration::from_secs(10);
    while !sock.exists() {
        assert!(Instant::now() < until, "ssh-agent socket did not appear");
        std::thread::sleep(Duration::from_millis(20));
    }
    let added = std::process::Command::new("ssh-add")
        .arg(&sshd.keys.rsa)
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .expect("ssh-add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    std::env::set_var("SSH_AUTH_SOCK", &sock);
    let mut opts = sshd.options(&sshd.keys.stranger);
    opts.auth = vec![AuthMethod::Agent];
    let s = Session::connect(&sshd.target(), &opts, None).await;
    let _ = agent.kill();
    let _ = agent.wait();
    let s = s.expect("agent auth");
    assert!(s
        .exec("true", ExecOptions::default())
        .await
        .expect("exec")
        .success());
}
