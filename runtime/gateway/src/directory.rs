//! The seam between the gateway and whoever knows the cluster (the master): where services run,
//! which tokens are revoked, what DNS and health say. The master implements it over its published
//! state; tests use a fixed one.

use std::net::SocketAddr;

use serde_json::Value;

use crate::token::Claims;

/// Where `/service/<name>/` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceLookup {
    /// Healthy running tasks of the app labelled `DCOS_SERVICE_NAME=<name>`, at the host port
    /// `DCOS_SERVICE_PORT_INDEX` names.
    Found(Vec<SocketAddr>),
    /// The app exists but no task of it is running and healthy.
    NoHealthyTask,
    /// No app carries the label.
    Unknown,
    /// The app asks for something the gateway does not do (the text says what).
    Unsupported(String),
}

/// What the open metadata endpoints answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub cluster_id: String,
    pub public_ip: String,
    pub version: String,
}

pub trait Directory: Send + Sync + 'static {
    fn service(&self, name: &str) -> ServiceLookup;
    /// True when the token was revoked (by id, or every token of its user issued before a time).
    fn revoked(&self, claims: &Claims) -> bool;
    /// Mesos-DNS's HTTP API (`/v1/version`, `/v1/enumerate`, `/v1/hosts/{name}`,
    /// `/v1/services/{name}`) for `path` below `/mesos_dns`; `None`: no such resource.
    fn mesos_dns(&self, path: &str) -> Option<Value>;
    /// This node's units, in `/system/health/v1`'s shape.
    fn node_health(&self) -> Value;
    /// Every node with its role and health (`/system/health/v1/nodes`).
    fn nodes(&self) -> Value;
    fn metadata(&self) -> Metadata;
}
