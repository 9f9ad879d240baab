//! The gateway's own answers: metadata and this node's health (open), the nodes and DNS records
//! (behind a token), from the [`crate::Directory`].

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::Gateway;

/// `/dcos-metadata/dcos-version.json`, in DC/OS's shape.
pub async fn version(State(gateway): State<Arc<Gateway>>) -> Json<Value> {
    let metadata = gateway.directory.metadata();
    Json(json!({
        "version": metadata.version,
        "dcos-variant": "open",
        "dcos-image-commit": "",
        "bootstrap-id": "",
    }))
}

/// `/metadata`: the cluster's id and this master's address.
pub async fn metadata(State(gateway): State<Arc<Gateway>>) -> Json<Value> {
    let metadata = gateway.directory.metadata();
    Json(json!({
        "PUBLIC_IPV4": metadata.public_ip,
        "CLUSTER_ID": metadata.cluster_id,
    }))
}

/// The cluster CA certificate, or 404 when the gateway was given none.
pub async fn ca_certificate(State(gateway): State<Arc<Gateway>>) -> Response {
    match &gateway.ca_pem {
        Some(pem) => (
            [(axum::http::header::CONTENT_TYPE, "application/x-pem-file")],
            pem.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub async fn health(State(gateway): State<Arc<Gateway>>) -> Json<Value> {
    Json(gateway.directory.node_health())
}

pub async fn nodes(State(gateway): State<Arc<Gateway>>) -> Json<Value> {
    Json(gateway.directory.nodes())
}

pub async fn mesos_dns(State(gateway): State<Arc<Gateway>>, Path(path): Path<String>) -> Response {
    match gateway.directory.mesos_dns(&format!("/{path}")) {
        Some(answer) => Json(answer).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": format!("URI not found: /mesos_dns/{path}")})),
        )
            .into_response(),
    }
}
