//! [`Connector`]: how the connect phase gets a [`Transport`] for a node. [`SshConnector`] opens
//! an SSH session with the cluster's settings and pins host keys in a file
//! ([`PinStore`], trust on first use; a changed key is refused showing both fingerprints);
//! [`StaticConnector`] hands out transports given up front (fakes in tests, `LocalTransport`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use strato_config::{EffectiveSsh, KnownHosts};
use strato_host::{SshTransport, Transport};
use strato_ssh::{
    AuthMethod, Bastion, ConnectOptions, Fingerprint, HostKeyPolicy, Session, Target,
};

use crate::error::PhaseError;
use crate::journal::write_json;

/// What to connect to.
#[derive(Debug, Clone)]
pub struct ConnectSpec {
    pub ssh: EffectiveSsh,
    /// cluster.yaml's directory, for relative key paths.
    pub base_dir: PathBuf,
    pub deadline: Instant,
}

/// Opens transports to nodes.
#[async_trait]
pub trait Connector: Send + Sync {
    async fn connect(&self, spec: &ConnectSpec) -> Result<Arc<dyn Transport>, PhaseError>;
}

/// Transports by node address, given up front.
#[derive(Debug, Default, Clone)]
pub struct StaticConnector {
    transports: HashMap<String, Arc<dyn Transport>>,
}

impl StaticConnector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Hand out `transport` for the node at `address`.
    pub fn with(mut self, address: &str, transport: Arc<dyn Transport>) -> Self {
        self.transports.insert(address.to_string(), transport);
        self
    }
}

#[async_trait]
impl Connector for StaticConnector {
    async fn connect(&self, spec: &ConnectSpec) -> Result<Arc<dyn Transport>, PhaseError> {
        self.transports
            .get(&spec.ssh.address)
            .cloned()
            .ok_or_else(|| PhaseError::failed(&spec.ssh.address, "no transport for this host"))
    }
}

/// Pinned host key fingerprints by `host:port`, in a JSON file.
#[derive(Debug)]
pub struct PinStore {
    path: PathBuf,
    /// `Err` when the file exists but cannot be read or parsed: then no key is trusted (a
    /// damaged file must not turn pinning into trust-on-first-use) and nothing is written over it.
    pins: Mutex<Result<BTreeMap<String, String>, String>>,
}

impl PinStore {
    /// Load `path` (missing = nothing pinned yet).
    pub fn open(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let pins = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| e.to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(e.to_string()),
        };
        PinStore {
            path,
            pins: Mutex::new(pins),
        }
    }

    fn get(&self, key: &str) -> Result<Option<Fingerprint>, String> {
        let pins = self.pins.lock().unwrap_or_else(|e| e.into_inner());
        match &*pins {
            Ok(pins) => Ok(pins.get(key).and_then(|f| f.parse().ok())),
            Err(e) => Err(format!(
                "the pinned host keys in {} are unreadable ({e}); no key is trusted until the file is fixed or removed",
                self.path.display()
            )),
        }
    }

    fn pin(&self, key: &str, fp: &Fingerprint) {
        let mut pins = self.pins.lock().unwrap_or_else(|e| e.into_inner());
        let Ok(pins) = &mut *pins else { return };
        pins.insert(key.to_string(), fp.to_string());
        if let Err(e) = write_json(&self.path, &*pins) {
            tracing::warn!("cannot save pinned host keys: {e}");
        }
    }

    /// The policy for `host:port`. `Strict` also trusts what the user's own
    /// `~/.ssh/known_hosts` records for the host, as cluster.yaml's `known_hosts` documents.
    pub fn policy(&self, host: &str, port: u16, mode: KnownHosts) -> Result<HostKeyPolicy, String> {
        let key = format!("{host}:{port}");
        Ok(match mode {
            KnownHosts::Off => HostKeyPolicy::InsecureAcceptAny,
            KnownHosts::Tofu => HostKeyPolicy::from_pinned(self.get(&key)?),
            KnownHosts::Strict => {
                let mut pins: Vec<Fingerprint> = self.get(&key)?.into_iter().collect();
                if let Some(file) = user_known_hosts() {
                    pins.extend(
                        strato_ssh::openssh_known_fingerprints(host, port, &file)
                            .map_err(|e| e.to_string())?,
                    );
                }
                HostKeyPolicy::Pinned(pins)
            }
        })
    }
}

/// `~/.ssh/known_hosts` (`%USERPROFILE%\.ssh\known_hosts` on Windows).
fn user_known_hosts() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))?;
    Some(PathBuf::from(home).join(".ssh").join("known_hosts"))
}

/// Connects over SSH with the cluster's settings.
#[derive(Debug)]
pub struct SshConnector {
    pins: PinStore,
}

impl SshConnector {
    /// Host keys are pinned in `pin_file` (e.g. `<data-dir>/known_hosts.json`).
    pub fn new(pin_file: impl Into<PathBuf>) -> Self {
        SshConnector {
            pins: PinStore::open(pin_file),
        }
    }

    fn auth(ssh_key: Option<&Path>, base: &Path, use_agent: bool) -> Vec<AuthMethod> {
        let mut auth = Vec::new();
        if let Some(key) = ssh_key {
            let home = std::env::var_os("HOME").map(PathBuf::from);
            auth.push(AuthMethod::key(strato_config::files::resolve(
                key,
                base,
                home.as_deref(),
            )));
        }
        #[cfg(unix)]
        if use_agent && std::env::var_os("SSH_AUTH_SOCK").is_some() {
            auth.push(AuthMethod::Agent);
        }
        // No agent on Windows yet: with no key file, trying it says so (strato_ssh::AGENT_UNSUPPORTED)
        // rather than failing with an empty list of methods.
        #[cfg(not(unix))]
        if use_agent && ssh_key.is_none() {
            auth.push(AuthMethod::Agent);
        }
        auth
    }
}

impl SshConnector {
    /// An SSH session (pinning the host key on first use), e.g. for a port forward.
    pub async fn session(&self, spec: &ConnectSpec) -> Result<Session, PhaseError> {
        let s = &spec.ssh;
        let target = Target::new(&s.address, &s.user).with_port(s.port);
        let key = format!("{}:{}", s.address, s.port);
        let mut opts = ConnectOptions::new(Self::auth(
            s.key_path.as_deref(),
            &spec.base_dir,
            s.use_agent,
        ));
        let refused = |message: String| PhaseError::failed(&s.address, message);
        opts.host_key = self
            .pins
            .policy(&s.address, s.port, s.known_hosts)
            .map_err(refused)?;
        opts.connect_timeout = Duration::from_secs(s.connect_timeout_seconds);
        opts.command_timeout = Duration::from_secs(s.command_timeout_seconds);
        if let Some(b) = &s.bastion {
            let port = b.port.unwrap_or(s.port);
            opts.bastion = Some(Bastion {
                target: Target::new(&b.address, b.user.clone().unwrap_or(s.user.clone()))
                    .with_port(port),
                auth: Self::auth(
                    b.key_path.as_deref().or(s.key_path.as_deref()),
                    &spec.base_dir,
                    s.use_agent,
                ),
                host_key: self
                    .pins
                    .policy(&b.address, port, s.known_hosts)
                    .map_err(refused)?,
            });
        }
        let session = Session::connect(&target, &opts, Some(spec.deadline))
            .await
            .map_err(|e| PhaseError::Connect {
                host: s.address.clone(),
                source: Box::new(e),
            })?;
        if s.known_hosts != KnownHosts::Off {
            if session.host_key().first_use {
                self.pins.pin(&key, &session.host_key().fingerprint);
            }
            if let (Some(b), Some(info)) = (&s.bastion, session.bastion_host_key()) {
                if info.first_use {
                    let port = b.port.unwrap_or(s.port);
                    self.pins
                        .pin(&format!("{}:{port}", b.address), &info.fingerprint);
                }
            }
        }
        Ok(session)
    }
}

#[async_trait]
impl Connector for SshConnector {
    async fn connect(&self, spec: &ConnectSpec) -> Result<Arc<dyn Transport>, PhaseError> {
        Ok(Arc::new(SshTransport::new(self.session(spec).await?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHE5+jKGRvfirAZ/igyGoW0Jyj3xrMCu7CWQwyzN3fPQ";
    /// `ssh-keygen -lf` of KEY.
    const FINGERPRINT: &str = "SHA256:7bb3HlLYy8YuiHpwDswhmDM3HqgiAxNSadABjQgY6sw";

    #[test]
    fn a_corrupt_pin_file_trusts_no_key_and_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("known_hosts.json");
        std::fs::write(&path, "{\"10.0.0.5:22\": \"SHA256:").expect("torn file");
        let store = PinStore::open(&path);
        for mode in [KnownHosts::Tofu, KnownHosts::Strict] {
            let err = store
                .policy("10.0.0.5", 22, mode)
                .expect_err("no policy from a corrupt file");
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(err.contains("no key is trusted"), "{err}");
        }
        store.pin("10.0.0.6:22", &FINGERPRINT.parse().expect("fingerprint"));
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "{\"10.0.0.5:22\": \"SHA256:"
        );
    }

    #[test]
    fn strict_trusts_what_the_users_known_hosts_records() {
        let home = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(home.path().join(".ssh")).expect("mkdir");
        std::fs::write(
            home.path().join(".ssh/known_hosts"),
            format!("10.0.0.5 {KEY}\n[10.0.0.7]:2222 {KEY}\n"),
        )
        .expect("known_hosts");
        // Each nextest test is its own process, so HOME is this test's alone.
        std::env::set_var("HOME", home.path());
        let store = PinStore::open(home.path().join("pins.json"));
        let want = HostKeyPolicy::Pinned(vec![FINGERPRINT.parse().expect("fingerprint")]);
        assert_eq!(
            store.policy("10.0.0.5", 22, KnownHosts::Strict),
            Ok(want.clone())
        );
        assert_eq!(store.policy("10.0.0.7", 2222, KnownHosts::Strict), Ok(want));
        // Unknown to both: strict refuses every key.
        assert_eq!(
            store.policy("10.0.0.9", 22, KnownHosts::Strict),
            Ok(HostKeyPolicy::Pinned(Vec::new()))
        );
        // TOFU ignores the user's file (it pins on first use instead).
        assert_eq!(
            store.policy("10.0.0.5", 22, KnownHosts::Tofu),
            Ok(HostKeyPolicy::TrustOnFirstUse)
        );
    }
}
