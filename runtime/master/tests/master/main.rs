//! Master tests against a real master on 127.0.0.1 with fake agents (in-process
//! [`strato_master::AgentClient`] that report status over the real agent protocol).

mod agents;
mod api;
mod backup;
mod cluster;
mod files;
mod gateway;
mod groups;
mod jobs;
mod lifecycle;
mod metrics;
mod prometheus;
mod readiness;
mod trust;
mod wiring;
