//! TLS inside a Strato cluster.
//!
//! Every member (master, agent, the operator's CLI) holds a certificate issued by the cluster CA
//! (`issue`, made on the operator's machine) whose role is written into it as a URI
//! subject-alternative name (`role`). Servers and clients load their files (`files`), verify the
//! peer's chain *and* role (`verify`), and servers hand each request the peer's identity
//! (`server`). Every HTTP client is built by `http_client`, which also installs the one rustls
//! crypto provider (ring).

mod error;
mod files;
#[cfg(feature = "issue")]
mod gateway_secret;
mod http_client;
#[cfg(feature = "issue")]
mod issue;
mod role;
#[cfg(feature = "issue")]
pub mod rotation;
mod server;
#[cfg(feature = "issue")]
mod signing;
mod verify;

pub use error::TlsError;
pub use files::{MemberTls, ServerIdentity, TlsFiles};
#[cfg(feature = "issue")]
pub use gateway_secret::{
    ensure_token_secret, random_bytes, random_password, write_admin_password, GATEWAY_ADMIN_HASH,
    GATEWAY_ADMIN_PASSWORD, GATEWAY_TOKEN_SECRET,
};
#[cfg(feature = "blocking")]
pub use http_client::{blocking_client_builder, blocking_member_client_builder};
pub use http_client::{client, client_builder, install_crypto_provider, member_client_builder};
#[cfg(feature = "issue")]
pub use issue::{ClusterCa, Issued, MemberRequest, CA_CERT, CA_KEY, ETCD_CA_DIR};
pub use role::{peer_ips, peer_roles, MemberRole};
#[cfg(feature = "issue")]
pub use rotation::{RotationStep, TRUST_BUNDLE};
/// The rustls this crate builds on, for callers that hold its configurations.
pub use rustls;
pub use server::{public_server_config, serve, server_config, ClientAuth, Limits, Peer};
#[cfg(feature = "issue")]
pub use signing::{TreeSigner, SIGNING_KEY, SIGNING_PUB};
