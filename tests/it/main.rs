//! The single integration-test binary. One module per area a user meets.
mod common;
mod config;
mod genconf;
mod init;
mod cloud;
mod runtime;
