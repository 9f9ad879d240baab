//! The runtime end to end: `strato up --local`, the real marathon client, DNS, the dashboard.
//! Each test starts its own cluster on free loopback ports with a temporary data dir
//! (`common::cluster`); tests that need Python or Chromium fail with how to install them.
#![cfg(target_os = "linux")]

mod backoff;
mod chromium;
mod cli;
mod containers;
mod dashboard;
pub(crate) mod dns;
mod examples;
mod fetch;
mod ha;
mod health;
mod marathon_client;
mod metronome_client;
mod podman;
mod restart;
mod task_log;
