//! The SSH engine: the only crate that imports russh, and its only strato dependency is
//! `strato-text` (shell quoting for sudo).
//!
//! It owns one authenticated connection per host ([`Session`]) that carries many channels:
//! [`Session::exec`] (streamed output, exit status, `sudo -n` for non-root logins),
//! [`Session::upload`] / [`Session::download`] (atomic, binary-safe, over exec),
//! [`Session::forward_local`] (a `127.0.0.1:0` listener tunnelled through `direct-tcpip`).
//! Authentication is by private key (ed25519, RSA, ECDSA; encrypted keys take a passphrase from
//! a callback or `STRATO_SSH_PASSPHRASE`) or, on Unix, the ssh agent ([`AuthMethod`]).
//! Host keys are pinned by the caller ([`HostKeyPolicy`]): trust on first use reports the
//! fingerprint to store, and a changed key is a hard error showing both fingerprints. A
//! [`Bastion`] (jump host) is optional. Three limits are kept apart: the connect timeout
//! (per attempt, retried with backoff), each command's timeout, and the job's deadline, an
//! `Instant` passed down to every call ([`timeouts`]).
//!
//! It knows nothing about clusters, roles or operating systems: that is `strato-host`.
//! It never reads `~/.ssh/known_hosts` or `~/.ssh/config`: the caller passes everything in.
//! The remote side needs a POSIX-like login shell (bash, dash, zsh: commands are passed to it
//! as `ssh host command` does) and `sh`, `cat`, `wc`, `chmod`, `mv`, `kill`; a non-root login
//! also needs passwordless `sudo` for privileged commands.
//!
//! ```no_run
//! # async fn demo() -> Result<(), strato_ssh::SshError> {
//! use strato_ssh::{AuthMethod, ConnectOptions, ExecOptions, HostKeyPolicy, Session, Target};
//! let mut opts = ConnectOptions::new(vec![AuthMethod::key("/home/me/.ssh/id_ed25519")]);
//! opts.host_key = HostKeyPolicy::from_pinned(None); // first contact: trust and pin
//! let session = Session::connect(&Target::new("10.0.0.5", "centos"), &opts, None).await?;
//! let pin = session.host_key().fingerprint.clone(); // store this in the cluster state
//! let out = session.exec("uname -r", ExecOptions::default()).await?;
//! # let _ = (pin, out); Ok(()) }
//! ```

mod auth;
mod error;
mod exec;
mod forward;
mod known_hosts;
mod pgid;
mod session;
mod sudo;
pub mod timeouts;
mod upload;

pub use auth::{
    decrypted_key, load_private_key, set_passphrase_prompt, AuthMethod, LoadedKey, Passphrase,
    PassphraseFn, AGENT_UNSUPPORTED, PASSPHRASE_ENV,
};
pub use error::SshError;
pub use exec::{ExecOptions, ExecOutput, OutputFn, OutputStream};
pub use forward::LocalForward;
pub use known_hosts::{
    openssh_known_fingerprints, Fingerprint, HostKeyInfo, HostKeyPolicy, HostKeyVerdict,
    InvalidFingerprint, KnownHostsFileError,
};
pub use session::{Bastion, ConnectOptions, Session, Target, DEFAULT_MAX_EXEC_CHANNELS};
pub use sudo::{remote_command, sudo_wants_password, sudo_wrap};
pub use timeouts::RetryPolicy;
pub use upload::{check_remote_path, upload_script, UploadOptions};
