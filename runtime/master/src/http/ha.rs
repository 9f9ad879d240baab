//! `/strato/v1/ha`: this master's version and role, the leader, the store and its members, for
//! `strato postflight` and `strato status`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use strato_store::Table;

use crate::master::Master;

pub fn routes() -> Router<Arc<Master>> {
    Router::new().route("/strato/v1/ha", get(ha))
}

async fn ha(State(master): State<Arc<Master>>) -> Json<Value> {
    let leader = master.leader_address().await;
    // A linearizable read answers only with a majority behind it.
    let quorum = matches!(
        tokio::time::timeout(
            Duration::from_secs(3),
            master.store.get(Table::Meta, "framework_id")
        )
        .await,
        Ok(Ok(_))
    );
    let members = match &master.members {
        Some(members) => match members.health().await {
            Ok(members) => json!(members),
            Err(error) => json!({"error": error}),
        },
        None => json!([]),
    };
    let copy = {
        let state = master.view();
        json!({"apps": state.apps.len(), "tasks": state.tasks.len(), "loaded_at": state.loaded_at})
    };
    Json(json!({
        // The Strato version this master runs (its bundle's VERSION file).
        "version": strato_runtime_types::version::runtime_version(),
        "role": if master.is_leader() { "leader" } else { "standby" },
        // This master's own copy of the state (what DNS and reads without a leader serve).
        "copy": copy,
        "leader": leader.map(|l| l.mesos),
        "store": if master.members.is_some() { "etcd" } else { "redb" },
        "quorum": quorum,
        "members": members,
    }))
}
