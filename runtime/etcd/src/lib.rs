//! The masters' shared state and leader election on etcd, for clusters of 3, 5, 7 or 9 masters
//! (one master keeps the embedded redb store). [`connect`] reaches the cluster's etcd members;
//! [`EtcdStore`] is the [`strato_store::Store`] on it and [`EtcdLeadership`] the
//! [`strato_store::Leadership`], on etcd's election API with a lease.

mod connection;
mod error;
mod leadership;
mod members;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use connection::{connect, prefer_local, EtcdOptions};
pub use error::store_error;
pub use leadership::EtcdLeadership;
pub use members::{member_health, MemberHealth};
pub use store::EtcdStore;

/// Every strato key lives under this prefix.
pub const PREFIX: &str = "/strato/";
/// The election every master campaigns in.
pub const ELECTION: &str = "/strato/leader";
