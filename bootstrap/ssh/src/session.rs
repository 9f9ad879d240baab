//! One SSH connection per host, carrying many channels (exec, upload, forward). Connecting
//! retries transient failures with backoff inside the connect timeout and the job deadline.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::client::{self, Handle};
use russh::keys::{PublicKey, PublicKeyOrCertificate};

use crate::auth::{authenticate, preload, AuthMethod};
use crate::error::SshError;
use crate::known_hosts::{Fingerprint, HostKeyInfo, HostKeyPolicy, HostKeyVerdict};
use crate::timeouts::{
    budget, Bound, RetryPolicy, DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT,
    KEEPALIVE_INTERVAL,
};

/// Where to log in: `user@host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// Address or DNS name.
    pub host: String,
    pub port: u16,
    pub user: String,
}

impl Target {
    /// `user@host` on port 22.
    pub fn new(host: impl Into<String>, user: impl Into<String>) -> Self {
        Target {
            host: host.into(),
            port: 22,
            user: user.into(),
        }
    }

    /// The same target on another port.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.user, self.host, self.port)
    }
}

/// A jump host: we connect to it first and reach the target through a `direct-tcpip` channel,
/// like `ssh -J`. It has its own credentials and its own pinned key.
#[derive(Debug, Clone)]
pub struct Bastion {
    pub target: Target,
    pub auth: Vec<AuthMethod>,
    pub host_key: HostKeyPolicy,
}

/// Concurrent exec channels per connection. OpenSSH's `MaxSessions` defaults to 10 and refuses
/// session channels beyond it; staying below leaves room for an interactive login.
pub const DEFAULT_MAX_EXEC_CHANNELS: usize = 8;

/// Everything needed to connect, apart from the target and the job deadline.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Tried in order until one is accepted.
    pub auth: Vec<AuthMethod>,
    pub host_key: HostKeyPolicy,
    pub bastion: Option<Bastion>,
    /// One attempt: TCP + handshake + authentication.
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// Default per-command timeout for [`Session::exec`] when the call gives none.
    pub command_timeout: Duration,
    /// At most this many commands run at once on the connection; more wait for a free slot
    /// (the wait counts against their timeout). See [`DEFAULT_MAX_EXEC_CHANNELS`].
    pub max_exec_channels: usize,
}

impl ConnectOptions {
    /// Defaults (TOFU, no bastion, the timeouts in [`crate::timeouts`]) with these methods.
    pub fn new(auth: Vec<AuthMethod>) -> Self {
        ConnectOptions {
            auth,
            host_key: HostKeyPolicy::TrustOnFirstUse,
            bastion: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            max_exec_channels: DEFAULT_MAX_EXEC_CHANNELS,
        }
    }
}

/// Our russh client handler: it only judges the server key and records what it saw.
pub(crate) struct ClientHandler {
    policy: HostKeyPolicy,
    seen: Arc<Mutex<Option<(Fingerprint, String, HostKeyVerdict)>>>,
}

impl client::Handler for ClientHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let public = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => {
                PublicKey::new(cert.public_key().clone(), "")
            }
        };
        let fingerprint = Fingerprint::of(&public);
        let verdict = self.policy.verdict(&fingerprint);
        let accept = matches!(verdict, HostKeyVerdict::Matches | HostKeyVerdict::FirstUse);
        let algorithm = public.algorithm().to_string();
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((fingerprint, algorithm, verdict));
        }
        Ok(accept)
    }
}

pub(crate) struct Inner {
    pub(crate) handle: Handle<ClientHandler>,
    pub(crate) target: Target,
    pub(crate) command_timeout: Duration,
    pub(crate) exec_slots: Arc<tokio::sync::Semaphore>,
    host_key: HostKeyInfo,
    // Kept alive for as long as the target connection runs through it.
    bastion: Option<Box<Session>>,
}

/// An authenticated connection to one host. Cheap to clone: clones share the connection, and
/// every operation opens its own channel, so many may run at once.
#[derive(Clone)]
pub struct Session {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("target", &self.inner.target)
            .field("host_key", &self.inner.host_key)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connect and authenticate, through the bastion when one is configured. Transient failures
    /// (refused, reset, timed out) are retried per `opts.retry`; host key and authentication
    /// failures are not. Never waits past `deadline`.
    pub async fn connect(
        target: &Target,
        opts: &ConnectOptions,
        deadline: Option<Instant>,
    ) -> Result<Session, SshError> {
        // Read keys once, before any network: a bad key or passphrase fails fast, and a
        // passphrase prompt is not repeated for every retry.
        let opts = &ConnectOptions {
            auth: preload(&target.to_string(), &opts.auth)?,
            ..opts.clone()
        };
        let bastion = match &opts.bastion {
            None => None,
            Some(b) => {
                let bastion_opts = ConnectOptions {
                    auth: b.auth.clone(),
                    host_key: b.host_key.clone(),
                    bastion: None,
                    ..opts.clone()
                };
                let session = Box::pin(Session::connect(&b.target, &bastion_opts, deadline))
                    .await
                    .map_err(|source| SshError::Bastion {
                        host: target.to_string(),
                        bastion: b.target.to_string(),
                        source: Box::new(source),
                    })?;
                Some(Box::new(session))
            }
        };
        let (handle, host_key) = with_retries(target, opts, deadline, bastion.as_deref()).await?;
        Ok(Session {
            inner: Arc::new(Inner {
                handle,
                target: target.clone(),
                command_timeout: opts.command_timeout,
                exec_slots: Arc::new(tokio::sync::Semaphore::new(opts.max_exec_channels.max(1))),
                host_key,
                bastion,
            }),
        })
    }

    /// Who we are logged in as, and where.
    pub fn target(&self) -> &Target {
        &self.inner.target
    }

    /// The server's key; when `first_use` is true the caller should pin the fingerprint.
    pub fn host_key(&self) -> &HostKeyInfo {
        &self.inner.host_key
    }

    /// The bastion's key, when connected through one (pin it like the target's).
    pub fn bastion_host_key(&self) -> Option<&HostKeyInfo> {
        self.inner.bastion.as_ref().map(|b| b.host_key())
    }

    /// Whether privileged commands get wrapped in `sudo -n` (the login user is not root).
    pub fn needs_sudo(&self) -> bool {
        self.inner.target.user != "root"
    }

    /// Whether the connection has dropped; a closed session must be reconnected.
    pub fn is_closed(&self) -> bool {
        self.inner.handle.is_closed()
    }

    /// Say goodbye to the server (and the bastion). Other clones of this session stop working.
    pub async fn close(&self) {
        let _ = self
            .inner
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        if let Some(b) = &self.inner.bastion {
            Box::pin(b.close()).await;
        }
    }

    pub(crate) fn host(&self) -> String {
        self.inner.target.to_string()
    }
}

async fn with_retries(
    target: &Target,
    opts: &ConnectOptions,
    deadline: Option<Instant>,
    via: Option<&Session>,
) -> Result<(Handle<ClientHandler>, HostKeyInfo), SshError> {
    let attempts = opts.retry.attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Some((limit, bound)) = budget(opts.connect_timeout, deadline) else {
            return Err(deadline_error(target, "connect"));
        };
        let result = match tokio::time::timeout(limit, connect_once(target, opts, via)).await {
            Ok(result) => result,
            Err(_) if bound == Bound::Deadline => return Err(deadline_error(target, "connect")),
            Err(_) => Err(SshError::ConnectTimeout {
                host: target.to_string(),
                timeout: limit,
                attempts: attempt,
            }),
        };
        let err = match result {
            Ok(ok) => return Ok(ok),
            Err(err) if !err.is_transient() || attempt >= attempts => {
                return Err(with_attempts(err, attempt))
            }
            Err(err) => err,
        };
        let pause = opts.retry.backoff(attempt);
        tracing::debug!(host = %target, attempt, ?pause, error = %err, "connect failed, retrying");
        match budget(pause, deadline) {
            Some((pause, Bound::Timeout(_))) => tokio::time::sleep(pause).await,
            _ => return Err(with_attempts(err, attempt)),
        }
    }
}

fn with_attempts(err: SshError, n: u32) -> SshError {
    match err {
        SshError::Connect { host, source, .. } => SshError::Connect {
            host,
            source,
            attempts: n,
        },
        SshError::ConnectTimeout { host, timeout, .. } => SshError::ConnectTimeout {
            host,
            timeout,
            attempts: n,
        },
        other => other,
    }
}

fn deadline_error(target: &Target, step: &'static str) -> SshError {
    SshError::DeadlineExceeded {
        host: target.to_string(),
        step,
    }
}

async fn connect_once(
    target: &Target,
    opts: &ConnectOptions,
    via: Option<&Session>,
) -> Result<(Handle<ClientHandler>, HostKeyInfo), SshError> {
    let host = target.to_string();
    let config = Arc::new(client::Config {
        keepalive_interval: Some(KEEPALIVE_INTERVAL),
        nodelay: true,
        ..Default::default()
    });
    let seen = Arc::new(Mutex::new(None));
    let handler = ClientHandler {
        policy: opts.host_key.clone(),
        seen: Arc::clone(&seen),
    };
    let handshake = match via {
        None => {
            let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
                .await
                .map_err(|source| SshError::Connect {
                    host: host.clone(),
                    attempts: 1,
                    source,
                })?;
            let _ = tcp.set_nodelay(true);
            client::connect_stream(config, tcp, handler).await
        }
        Some(bastion) => {
            let channel = bastion
                .inner
                .handle
                .channel_open_direct_tcpip(
                    target.host.as_str(),
                    u32::from(target.port),
                    "127.0.0.1",
                    0,
                )
                .await
                .map_err(|source| SshError::Protocol {
                    host: host.clone(),
                    step: "open channel through bastion",
                    source,
                })?;
            client::connect_stream(config, channel.into_stream(), handler).await
        }
    };
    let seen_key = seen.lock().ok().and_then(|mut s| s.take());
    let mut handle = match handshake {
        Ok(handle) => handle,
        Err(source) => return Err(handshake_error(&host, source, seen_key)),
    };
    authenticate(&mut handle, &host, &target.user, &opts.auth).await?;
    let (fingerprint, algorithm, verdict) = seen_key.ok_or_else(|| SshError::Protocol {
        host: host.clone(),
        step: "host key check",
        source: russh::Error::UnknownKey,
    })?;
    let first_use = verdict == HostKeyVerdict::FirstUse;
    Ok((
        handle,
        HostKeyInfo {
            fingerprint,
            algorithm,
            first_use,
        },
    ))
}

/// A rejected host key surfaces from russh as `UnknownKey`; turn it into an error that shows
/// both fingerprints.
fn handshake_error(
    host: &str,
    source: russh::Error,
    seen: Option<(Fingerprint, String, HostKeyVerdict)>,
) -> SshError {
    match (source, seen) {
        (russh::Error::UnknownKey, Some((actual, _, HostKeyVerdict::Changed { expected }))) => {
            SshError::HostKeyChanged {
                host: host.to_string(),
                expected,
                actual,
            }
        }
        (russh::Error::UnknownKey, Some((actual, _, HostKeyVerdict::Unknown))) => {
            SshError::HostKeyUnknown {
                host: host.to_string(),
                actual,
            }
        }
        (russh::Error::IO(source), _) => SshError::Connect {
            host: host.to_string(),
            attempts: 1,
            source,
        },
        (source, _) => SshError::Protocol {
            host: host.to_string(),
            step: "handshake",
            source,
        },
    }
}
