//! Cloud machines for a Strato cluster. The crate owns the `cloud:` section's meaning: a pure plan
//! of the topology (`topology`), one [`CloudProvider`] trait with AWS, Azure and GCP behind it,
//! editing the hosts into `cluster.yaml` without losing comments (`hosts_yaml`), the Terraform
//! root-module writer and output importer (`terraform`), and the `strato cloud` command handlers
//! (`cmd`), which write to any `std::io::Write` so the CLI stays a thin shell.
pub mod aws;
pub mod azure;
pub mod cloud_init;
pub mod cmd;
pub mod error;
pub mod gcp;
pub mod hosts_yaml;
pub mod provider;
pub mod retry;
pub mod spec;
pub mod ssh_wait;
pub mod terraform;
pub mod topology;

pub use error::{CloudError, Result};
pub use provider::{
    CloudProvider, CreateReport, DestroyReport, Machine, MachineState, Resource, ResourceKind,
};
pub use spec::{ClusterSpec, Location, ProviderKind};
pub use topology::{plan, Plan, Role};
