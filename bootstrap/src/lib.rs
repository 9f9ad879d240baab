//! `strato-bootstrap`: the bootstrap server. It serves the genconf tree and the runtime bundle
//! to nodes over HTTPS (a certificate of the cluster CA, `serving_cert.rs`), and a token-authenticated job API (preflight, deploy, postflight,
//! uninstall) backed by the deploy engine (`strato-engine`), with per-host status and a live
//! event stream. Job state lives on disk, so a restarted server resumes unfinished jobs.
//!
//! Layout: `server.rs` (the route table, state, startup), `route/` (one file per resource),
//! `error.rs` (`ApiError` → status). The binary (`main.rs`) only parses flags.

pub mod error;
pub mod route;
pub mod server;
pub mod serving_cert;

pub use error::ApiError;
pub use server::{router, start, AppState, RunningServer, ServerError, ServerOptions};
