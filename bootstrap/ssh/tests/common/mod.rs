//! A real OpenSSH server on 127.0.0.1 for the tests: a temporary host key, temporary client keys
//! in a temporary authorized_keys file, root login allowed. `tests/run` installs
//! openssh-server when it is missing; if sshd is still absent the test fails saying so.

#![allow(dead_code)]

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use strato_ssh::{AuthMethod, ConnectOptions, Fingerprint, HostKeyPolicy, Passphrase, Target};

pub const SSHD: &str = "/usr/sbin/sshd";
pub const PASSPHRASE: &str = "correct horse battery staple";

/// Client keys generated for a test, all but `stranger` authorised.
pub struct Keys {
    pub ed25519: PathBuf,
    pub rsa: PathBuf,
    pub ecdsa: PathBuf,
    /// ed25519 encrypted with [`PASSPHRASE`].
    pub encrypted: PathBuf,
    /// Valid key, not in authorized_keys.
    pub stranger: PathBuf,
}

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub keys: Keys,
    child: Child,
}

fn keygen(dir: &Path, name: &str, kind: &str, passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", passphrase, "-C", name, "-f"])
        .arg(&path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    let status = cmd
        .status()
        .expect("ssh-keygen runs (package openssh-client)");
    assert!(status.success(), "ssh-keygen {kind} failed");
    path
}

/// The fingerprint `ssh-keygen -lf` prints for a key file, as OpenSSH shows it.
pub fn keygen_fingerprint(path: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path)
        .output()
        .expect("ssh-keygen -lf");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .nth(1)
        .expect("fingerprint field")
        .to_string()
}

/// A fresh ed25519 key in `dir`, for tests that never get as far as authenticating.
pub fn throwaway_key(dir: &Path) -> PathBuf {
    keygen(dir, "id_throwaway", "ed25519", "")
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

impl Sshd {
    /// Generate keys and start sshd with host key `host_ed25519`.
    pub fn start() -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: run tests/run (it installs openssh-server) \
             or `apt-get install openssh-server`"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        keygen(d, "host_ed25519", "ed25519", "");
        keygen(d, "host_other", "ed25519", "");
        let keys = Keys {
            ed25519: keygen(d, "id_ed25519", "ed25519", ""),
            rsa: keygen(d, "id_rsa", "rsa", ""),
            ecdsa: keygen(d, "id_ecdsa", "ecdsa", ""),
            encrypted: keygen(d, "id_encrypted", "ed25519", PASSPHRASE),
            stranger: keygen(d, "id_stranger", "ed25519", ""),
        };
        let mut authorized = String::new();
        for k in [&keys.ed25519, &keys.rsa, &keys.ecdsa, &keys.encrypted] {
            let pubkey = std::fs::read_to_string(k.with_extension("pub"))
                .or_else(|_| std::fs::read_to_string(format!("{}.pub", k.display())))
                .expect("public key");
            authorized.push_str(&pubkey);
        }
        std::fs::write(d.join("authorized_keys"), authorized).expect("authorized_keys");
        // sshd insists on its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        let port = free_port();
        let child = spawn(d, port, "host_ed25519");
        let sshd = Sshd {
            dir,
            port,
            keys,
            child,
        };
        sshd.wait_ready();
        sshd
    }

    /// Restart on the same port with a different host key (a "reinstalled" host).
    pub fn restart_with_other_host_key(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.dir.path(), self.port, "host_other");
        self.wait_ready();
    }

    pub fn host_key_path(&self, which: &str) -> PathBuf {
        self.dir.path().join(which)
    }

    pub fn target(&self) -> Target {
        Target::new("127.0.0.1", "root").with_port(self.port)
    }

    /// Options for key auth with `key`, TOFU, no retries, short limits.
    pub fn options(&self, key: &Path) -> ConnectOptions {
        let mut opts = ConnectOptions::new(vec![AuthMethod::Key {
            path: key.to_path_buf(),
            passphrase: Passphrase::None,
        }]);
        opts.host_key = HostKeyPolicy::TrustOnFirstUse;
        opts.connect_timeout = Duration::from_secs(10);
        opts.retry = strato_ssh::RetryPolicy::none();
        opts
    }

    pub fn host_fingerprint(&self) -> Fingerprint {
        keygen_fingerprint(&self.host_key_path("host_ed25519.pub"))
            .parse()
            .expect("fingerprint")
    }

    /// Poll until sshd sends its banner (it is ready), failing with its log after 10 s.
    fn wait_ready(&self) {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 8];
                if s.read_exact(&mut buf).is_ok() && buf.starts_with(b"SSH-2.0") {
                    return;
                }
            }
            if Instant::now() > until {
                let log =
                    std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default();
                panic!("sshd did not come up on port {}: {log}", self.port);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(dir: &Path, port: u16, host_key: &str) -> Child {
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/{host_key}\n\
         AuthorizedKeysFile {dir}/authorized_keys\nPermitRootLogin yes\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
         StrictModes no\nUsePAM no\nPidFile none\nAllowTcpForwarding yes\n\
         LogLevel VERBOSE\n",
        dir = dir.display()
    );
    let config_path = dir.join("sshd_config");
    std::fs::write(&config_path, config).expect("sshd_config");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("sshd.log"))
        .expect("sshd.log");
    Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start sshd")
}
