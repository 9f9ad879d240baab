//! The `cluster.yaml` contract: the model, loading with positions, validation that reports every
//! problem at once, the JSON Schema, and conversion from DC/OS's `genconf/config.yaml`.
//!
//! Pure: no network. The only host access is reading the file being loaded and, through the
//! [`Files`] seam, checking that files it names (SSH keys, ip-detect scripts) exist with safe
//! permissions. Compiles on Linux, macOS and Windows.
//!
//! Entry points: [`load`] (a valid [`Cluster`] or every [`Diagnostic`]), [`check_file`] /
//! [`check_str`] (diagnostics plus the best-effort model), [`field`] (validators for single answers,
//! used by the wizard), [`schema::json_schema`], and [`dcos::import`].
mod decode;
mod diagnostic;
mod load;
mod yaml;

pub mod cloud;
pub mod cluster;
pub mod dcos;
pub mod field;
pub mod files;
pub mod gateway;
pub mod hardware;
pub mod host;
pub mod network;
pub mod runtime;
pub mod schema;
pub mod ssh;
pub mod validate;

pub use cloud::Cloud;
pub use cluster::{Bootstrap, Cluster, Role};
pub use decode::Positions;
pub use diagnostic::{Diagnostic, Diagnostics, Mark, Severity};
pub use files::{FileState, Files, RealFiles};
pub use gateway::Gateway;
pub use hardware::{Hardware, Profile, Resources};
pub use host::Host;
pub use load::{check_file, check_str, load, Checked, LoadError, Source};
pub use network::{IpDetect, Network};
pub use runtime::Runtime;
pub use ssh::{Bastion, EffectiveSsh, KnownHosts, Ssh};
pub use validate::check_model;
pub use yaml::{to_json as yaml_to_json, ParseError as YamlError};
