//! The single integration-test binary. One module per area a user meets.
mod bundle;
mod cloud;
mod common;
mod config;
#[cfg(target_os = "linux")]
mod deploy;
mod genconf;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod glibc;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod init;
mod layering;
mod runtime;
