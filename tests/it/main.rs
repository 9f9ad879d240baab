//! The single integration-test binary. One module per area a user meets.
mod bundle;
mod cloud;
mod common;
#[cfg(target_os = "linux")]
mod deploy;
mod config;
mod genconf;
mod init;
mod runtime;
