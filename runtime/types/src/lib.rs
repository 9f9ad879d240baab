//! Marathon's JSON shapes as the master stores and serves them: app definitions (with Marathon's
//! defaults, legacy-shape normalisation and validation), tasks, deployments and the error bodies.
//! Output uses only the field names Marathon emits, because marathon-python rejects unknown keys.
//! DC/OS Jobs' (Metronome's) job and schedule shapes too ([`job`], [`job_schedule`]).
//! Also the Strato version every runtime binary reports ([`version::runtime_version`]).

pub mod app;
mod container_spec;
pub mod deployment;
pub mod docker_parameters;
pub mod health;
pub mod job;
pub mod job_schedule;
pub mod normalize;
pub mod path;
pub mod task;
pub mod time;
pub mod validate;
pub mod version;
pub mod volume;

pub use app::App;
pub use deployment::Deployment;
pub use path::PathId;
pub use task::TaskRecord;
pub use validate::Violation;
