//! The `strato cloud` command handlers. Each takes the path of `cluster.yaml`, its options and a
//! writer for the operator's output, so the CLI wraps them in a few lines and tests call them
//! directly.
mod connect;
mod create;
mod destroy;
mod status;
mod terraform;

pub use connect::{connect, ProviderEnv};
pub use create::{create, CreateOptions};
pub use destroy::{destroy, Confirm};
pub use status::status;
pub use terraform::{import_terraform, terraform};
