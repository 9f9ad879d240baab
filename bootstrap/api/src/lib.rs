//! Wire types of the bootstrap server's job API, and a typed client.
//!
//! The types ([`JobRequest`], [`Job`], [`HostStatus`], [`Event`]) are shared by the server
//! (`strato-bootstrap`), the deploy engine (which emits [`Event`]s and keeps [`HostStatus`]
//! per host) and the CLI. The [`Client`] (feature `client`) talks to the server
//! with `reqwest` over rustls and a bearer token. No server code lives here.
//!
//! Routes (all JSON, all under a bearer token except `/health` and `/serve/`):
//! `POST /v1/jobs` (a [`JobRequest`] → [`Job`]), `GET /v1/jobs`, `GET /v1/jobs/{id}`,
//! `GET /v1/jobs/{id}/hosts`, `GET /v1/jobs/{id}/events` (server-sent events, one [`Event`]
//! per `data:` line, replayed from the start then live), `GET /health`.

mod event;
pub mod ha;
mod job;

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
mod sse;

#[cfg(feature = "client")]
pub use client::{Client, ClientError, EventStream};
pub use event::{CheckRow, Event, EventKind};
pub use ha::{agreement, HaMember, HaRole, HaStatus, HA_PATH};
pub use job::{HostState, HostStatus, Job, JobId, JobKind, JobOptions, JobRequest, JobState, Role};

/// The header value prefix for the API token.
pub const BEARER: &str = "Bearer ";
