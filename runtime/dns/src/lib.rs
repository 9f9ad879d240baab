//! Service-discovery DNS for a Strato cluster, named as Mesos-DNS names things so existing
//! configurations keep working: `<app>.marathon.<domain>` A records for the hosts of an app's
//! running tasks, `_<app>._tcp.marathon.<domain>` SRV records with their ports,
//! `leader.<domain>` and `master.<domain>`. Unknown names inside the domain get NXDOMAIN; names
//! outside it are forwarded to upstream resolvers (or REFUSED when there are none). UDP and TCP.
//!
//! The crate owns the naming rules and the server; the cluster's state comes through the
//! [`DnsView`] seam, which the master implements.

mod error;
mod forward;
mod handler;
pub mod http_api;
pub mod names;
pub mod probe;
mod records;
mod recursion;
mod server;
mod view;

pub use error::DnsError;
pub use server::{serve, DnsConfig, DnsServer};
pub use view::{DnsSnapshot, DnsTask, DnsView};
