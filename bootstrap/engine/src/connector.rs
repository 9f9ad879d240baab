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
    pins: Mutex<BTreeMap<String, String>>,
}

impl PinStore {
    /// Load `path` (missing = nothing pinned yet).
    pub fn open(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let pins = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        PinStore {
            path,
            pins: Mutex::new(pins),
        }
    }

    fn get(&self, key: &str) -> Option<Fingerprint> {
        let pins = self.pins.lock().unwrap_or_else(|e| e.into_inner());
        pins.get(key).and_then(|f| f.parse().ok())
    }

    fn pin(&self, key: &str, fp: &Fingerprint) {
        let mut pins = self.pins.lock().unwrap_or_else(|e| e.into_inner());
        pins.insert(key.to_string(), fp.to_string());
        if let Err(e) = write_json(&self.path, &*pins) {
            tracing::warn!("cannot save pinned host keys: {e}");
        }
    }

    fn policy(&self, key: &str, mode: KnownHosts) -> HostKeyPolicy {
        match mode {
            KnownHosts::Off => HostKeyPolicy::InsecureAcceptAny,
            KnownHosts::Tofu => HostKeyPolicy::from_pinned(self.get(key)),
            KnownHosts::Strict => HostKeyPolicy::Pinned(self.get(key).into_iter().collect()),
        }
    }
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
        opts.host_key = self.pins.policy(&key, s.known_hosts);
        opts.connect_timeout = Duration::from_secs(s.connect_timeout_seconds);
        opts.command_timeout = Duration::from_secs(s.command_timeout_seconds);
        if let Some(b) = &s.bastion {
            let port = b.port.unwrap_or(s.port);
            let bkey = format!("{}:{port}", b.address);
            opts.bastion = Some(Bastion {
                target: Target::new(&b.address, b.user.clone().unwrap_or(s.user.clone()))
                    .with_port(port),
                auth: Self::auth(
                    b.key_path.as_deref().or(s.key_path.as_deref()),
                    &spec.base_dir,
                    s.use_agent,
                ),
                host_key: self.pins.policy(&bkey, s.known_hosts),
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
