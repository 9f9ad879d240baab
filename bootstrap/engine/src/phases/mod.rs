//! The phases, one file each. Titles are unique so `grep` from output lands on one file.

pub(crate) mod check_cluster;
mod check_leader;
mod connect;
mod detect_os;
mod gateway_files;
mod gather_facts;
mod install;
mod member_cert;
mod plan_upgrade;
mod pre_check;
mod preflight;
mod uninstall;
mod upgrade_nodes;
mod wait_healthy;

pub use check_cluster::CheckCluster;
pub use check_leader::CheckLeader;
pub use connect::Connect;
pub use detect_os::DetectOs;
pub use gateway_files::{gateway_files, ACCOUNTS_PATH};
pub use gather_facts::GatherFacts;
pub use install::{etcd_cluster_running, unit_of, InstallNodes, DEPLOYED_MARKER};
pub use member_cert::{ca_fingerprint, member_role, TLS_DIR};
pub use plan_upgrade::{skew, target_version, NodeVersions, PlanUpgrade};
pub use pre_check::PreCheck;
pub use preflight::RunPreflight;
pub use uninstall::UninstallNodes;
pub use upgrade_nodes::UpgradeNodes;
pub use wait_healthy::{health_probe, WaitHealthy};
