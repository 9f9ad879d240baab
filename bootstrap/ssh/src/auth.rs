//! Authentication methods: private keys (ed25519, RSA, ECDSA; OpenSSH or PEM, optionally
//! encrypted) and, on Unix, the ssh agent. Methods are tried in the order given.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::client::{AuthResult, Handle};
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg};

use crate::error::SshError;
use crate::session::ClientHandler;

/// The environment variable read for a key's passphrase when no callback supplies one.
pub const PASSPHRASE_ENV: &str = "STRATO_SSH_PASSPHRASE";

/// Supplies the passphrase of an encrypted key, given its path; `None` means "no passphrase".
/// The CLI plugs a terminal prompt in here.
pub type PassphraseFn = Arc<dyn Fn(&Path) -> Option<String> + Send + Sync>;

/// Where an encrypted key's passphrase comes from.
#[derive(Clone, Default)]
pub enum Passphrase {
    /// Read [`PASSPHRASE_ENV`] (the default).
    #[default]
    FromEnv,
    /// Ask the callback (e.g. a terminal prompt), called at most once per key load.
    Callback(PassphraseFn),
    /// This exact passphrase.
    Literal(String),
    /// Never decrypt: an encrypted key is [`SshError::PassphraseRequired`].
    None,
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a secret.
        f.write_str(match self {
            Passphrase::FromEnv => "FromEnv",
            Passphrase::Callback(_) => "Callback",
            Passphrase::Literal(_) => "Literal(***)",
            Passphrase::None => "None",
        })
    }
}

/// The prompt [`Passphrase::FromEnv`] falls back to when the variable is unset, and what it
/// answered per key: asked once per key and process, kept only in memory.
static PROMPT: std::sync::OnceLock<PassphraseFn> = std::sync::OnceLock::new();
static ANSWERS: std::sync::Mutex<Vec<(PathBuf, String)>> = std::sync::Mutex::new(Vec::new());

/// Lets [`Passphrase::FromEnv`] ask `prompt` (the CLI's terminal prompt) when
/// [`PASSPHRASE_ENV`] is unset. The first call wins.
pub fn set_passphrase_prompt(prompt: PassphraseFn) {
    let _ = PROMPT.set(prompt);
}

fn from_env_or_prompt(path: &Path) -> Option<String> {
    if let Ok(pass) = std::env::var(PASSPHRASE_ENV) {
        return Some(pass);
    }
    let prompt = PROMPT.get()?;
    let mut answers = ANSWERS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, pass)) = answers.iter().find(|(p, _)| p == path) {
        return Some(pass.clone());
    }
    // Asked under the lock, so parallel connections ask once, not once each.
    let pass = prompt(path)?;
    answers.push((path.to_path_buf(), pass.clone()));
    Some(pass)
}

/// Forgets a prompted passphrase that did not decrypt the key, so the next try asks again.
fn forget_answer(path: &Path) {
    ANSWERS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|(p, _)| p != path);
}

impl Passphrase {
    fn get(&self, path: &Path) -> Option<String> {
        match self {
            Passphrase::FromEnv => from_env_or_prompt(path),
            Passphrase::Callback(f) => f(path),
            Passphrase::Literal(s) => Some(s.clone()),
            Passphrase::None => None,
        }
    }
}

/// A private key read and decrypted once, shareable by every connection (so an encrypted
/// key's passphrase is asked for once per run, not once per host).
#[derive(Clone)]
pub struct LoadedKey {
    path: PathBuf,
    key: Arc<PrivateKey>,
}

impl fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("LoadedKey")
            .field("path", &self.path)
            .field("algorithm", &self.key.algorithm().to_string())
            .finish()
    }
}

impl LoadedKey {
    /// The file it came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The public key's fingerprint (`SHA256:…`), as `ssh-keygen -lf` prints it.
    pub fn fingerprint(&self) -> crate::Fingerprint {
        crate::Fingerprint::of(self.key.public_key())
    }
}

/// One way to prove who we are.
#[derive(Debug, Clone)]
pub enum AuthMethod {
    /// A private key file, decrypted with `passphrase` when it is encrypted. Read when
    /// connecting; use [`AuthMethod::load`] first to read it once for many hosts.
    Key {
        path: PathBuf,
        passphrase: Passphrase,
    },
    /// A key already read by [`load_private_key`].
    Loaded(LoadedKey),
    /// Every identity held by the agent at `$SSH_AUTH_SOCK`. Unix only for now: elsewhere trying
    /// it fails with [`SshError::Agent`] saying to use a key file.
    Agent,
}

impl AuthMethod {
    /// A key file whose passphrase, if any, comes from [`PASSPHRASE_ENV`].
    pub fn key(path: impl Into<PathBuf>) -> Self {
        AuthMethod::Key {
            path: path.into(),
            passphrase: Passphrase::FromEnv,
        }
    }

    /// Read a `Key` now (asking for its passphrase if needed); other methods are returned as
    /// they are. Fails early on a missing file, an unparseable key or a wrong passphrase.
    pub fn load(&self) -> Result<AuthMethod, SshError> {
        match self {
            AuthMethod::Key { path, passphrase } => {
                Ok(AuthMethod::Loaded(load_private_key(path, passphrase)?))
            }
            other => Ok(other.clone()),
        }
    }

    fn label(&self) -> String {
        match self {
            AuthMethod::Key { path, .. } => format!("key {}", path.display()),
            AuthMethod::Loaded(k) => format!("key {}", k.path.display()),
            AuthMethod::Agent => "ssh-agent".to_string(),
        }
    }
}

/// Read and, if needed, decrypt a private key (ed25519, RSA, ECDSA; OpenSSH or PEM format).
pub fn load_private_key(path: &Path, passphrase: &Passphrase) -> Result<LoadedKey, SshError> {
    let text = std::fs::read_to_string(path).map_err(|source| SshError::ReadKey {
        path: path.to_path_buf(),
        source,
    })?;
    load_private_key_text(path, &text, passphrase)
}

fn load_private_key_text(
    path: &Path,
    text: &str,
    passphrase: &Passphrase,
) -> Result<LoadedKey, SshError> {
    let key = match russh::keys::decode_secret_key(text, None) {
        Ok(key) => key,
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let pass = passphrase
                .get(path)
                .ok_or_else(|| SshError::PassphraseRequired {
                    path: path.to_path_buf(),
                })?;
            russh::keys::decode_secret_key(text, Some(&pass)).map_err(|_| {
                forget_answer(path);
                SshError::WrongPassphrase {
                    path: path.to_path_buf(),
                }
            })?
        }
        Err(source) => {
            return Err(SshError::ParseKey {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    Ok(LoadedKey {
        path: path.to_path_buf(),
        key: Arc::new(key),
    })
}

/// `text` (read from `path`) as an unencrypted OpenSSH private key when it is an encrypted
/// private key, decrypted with `passphrase`; `None` when it is not encrypted or not a private key
/// at all (e.g. a script). For a host that must use the key without anyone to ask.
pub fn decrypted_key(
    path: &Path,
    text: &str,
    passphrase: &Passphrase,
) -> Result<Option<zeroize::Zeroizing<String>>, SshError> {
    match russh::keys::decode_secret_key(text, None) {
        Err(russh::keys::Error::KeyIsEncrypted) => {}
        _ => return Ok(None),
    }
    let key = load_private_key_text(path, text, passphrase)?;
    key.key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .map(Some)
        .map_err(|e| SshError::ParseKey {
            path: path.to_path_buf(),
            source: russh::keys::Error::from(e),
        })
}

/// Load every key in `methods` once (see [`AuthMethod::load`]); an empty list is an error.
pub(crate) fn preload(host: &str, methods: &[AuthMethod]) -> Result<Vec<AuthMethod>, SshError> {
    if methods.is_empty() {
        return Err(SshError::NoAuthMethod {
            host: host.to_string(),
        });
    }
    methods.iter().map(AuthMethod::load).collect()
}

/// Try each method until the server accepts one. Keys must be preloaded.
pub(crate) async fn authenticate(
    handle: &mut Handle<ClientHandler>,
    host: &str,
    user: &str,
    methods: &[AuthMethod],
) -> Result<(), SshError> {
    let mut tried = Vec::new();
    for method in methods {
        tried.push(method.label());
        let accepted = match method {
            AuthMethod::Key { path, passphrase } => {
                let key = load_private_key(path, passphrase)?;
                try_key(handle, host, user, key.key).await?
            }
            AuthMethod::Loaded(key) => try_key(handle, host, user, Arc::clone(&key.key)).await?,
            #[cfg(unix)]
            AuthMethod::Agent => agent::try_agent(handle, host, user).await?,
            // russh reaches an agent over a Unix socket; Windows' OpenSSH agent is a named pipe.
            #[cfg(not(unix))]
            AuthMethod::Agent => {
                let _ = user;
                return Err(SshError::Agent {
                    host: host.to_string(),
                    reason: AGENT_UNSUPPORTED.to_string(),
                });
            }
        };
        if accepted {
            return Ok(());
        }
    }
    Err(SshError::AuthFailed {
        host: host.to_string(),
        user: user.to_string(),
        tried: tried.join(", "),
    })
}

async fn try_key(
    handle: &mut Handle<ClientHandler>,
    host: &str,
    user: &str,
    key: Arc<PrivateKey>,
) -> Result<bool, SshError> {
    let hash = rsa_hash(handle, host, &key).await?;
    let result = handle
        .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key, hash))
        .await
        .map_err(|source| protocol(host, "public key authentication", source))?;
    Ok(matches!(result, AuthResult::Success))
}

/// RSA needs a signature hash the server supports; rsa-sha2-256 is what every current sshd
/// accepts when it does not say (SHA-1 `ssh-rsa` is disabled by default since OpenSSH 8.8).
async fn rsa_hash(
    handle: &Handle<ClientHandler>,
    host: &str,
    key: &PrivateKey,
) -> Result<Option<HashAlg>, SshError> {
    if !key.algorithm().is_rsa() {
        return Ok(None);
    }
    let best = handle
        .best_supported_rsa_hash()
        .await
        .map_err(|source| protocol(host, "rsa hash negotiation", source))?;
    Ok(best.flatten().or(Some(HashAlg::Sha256)))
}

fn protocol(host: &str, step: &'static str, source: russh::Error) -> SshError {
    SshError::Protocol {
        host: host.to_string(),
        step,
        source,
    }
}

/// Why [`AuthMethod::Agent`] fails on Windows.
pub const AGENT_UNSUPPORTED: &str = "ssh-agent is not supported on Windows yet; use a key file";

#[cfg(unix)]
mod agent {
    use russh::client::{AuthResult, Handle};
    use russh::keys::agent::client::AgentClient;
    use russh::keys::HashAlg;

    use crate::error::SshError;
    use crate::session::ClientHandler;

    fn agent_err(host: &str, reason: impl std::fmt::Display) -> SshError {
        SshError::Agent {
            host: host.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Offer each agent identity in turn; the agent signs, the key never leaves it.
    pub(super) async fn try_agent(
        handle: &mut Handle<ClientHandler>,
        host: &str,
        user: &str,
    ) -> Result<bool, SshError> {
        let mut agent = AgentClient::connect_env()
            .await
            .map_err(|e| agent_err(host, e))?;
        let identities = agent
            .request_identities()
            .await
            .map_err(|e| agent_err(host, e))?;
        for identity in identities {
            let key = identity.public_key().into_owned();
            let hash = if key.algorithm().is_rsa() {
                Some(HashAlg::Sha256)
            } else {
                None
            };
            let result = handle
                .authenticate_publickey_with(user, key, hash, &mut agent)
                .await
                .map_err(|e| agent_err(host, e))?;
            if matches!(result, AuthResult::Success) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_debug_hides_the_secret() {
        let shown = format!("{:?}", Passphrase::Literal("hunter2".into()));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn missing_key_file_names_the_path() {
        let err = load_private_key(Path::new("/nonexistent/id_ed25519"), &Passphrase::None)
            .expect_err("no such file");
        assert!(err.to_string().contains("/nonexistent/id_ed25519"), "{err}");
    }
}
