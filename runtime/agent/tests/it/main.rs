//! Integration tests of the agent with real processes, a fake master and 127.0.0.1 only.

mod binary;
mod common;
mod containers;
mod files;
mod health;
mod master_link;
mod restart;
mod systemd;
mod tasks;
