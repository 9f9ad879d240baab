//! `GET /strato/v1/backup` and `POST /strato/v1/restore` (`strato backup`, `strato restore`):
//! the leader's stored state as one checksummed document, and that document written back in
//! place of what is stored. A standby forwards both to the leader (`follow.rs`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use strato_runtime_types::time::now_millis;
use strato_store::{Backup, BackupError};

use crate::error::ApiError;
use crate::master::Master;

pub fn routes() -> Router<Arc<Master>> {
    Router::new()
        .route("/strato/v1/backup", get(backup))
        .route("/strato/v1/restore", post(restore))
}

fn refused(error: BackupError) -> ApiError {
    match error {
        BackupError::Store(error) => ApiError::Store(error),
        other => ApiError::BadRequest {
            message: other.to_string(),
        },
    }
}

async fn backup(State(master): State<Arc<Master>>) -> Result<Json<Backup>, ApiError> {
    // Everything already answered is in it.
    master.durable().await?;
    let backup = Backup::take(master.store.as_ref(), now_millis())
        .await
        .map_err(refused)?;
    Ok(Json(backup))
}

async fn restore(State(master): State<Arc<Master>>, bytes: Bytes) -> Result<Json<Value>, ApiError> {
    let backup: Backup = serde_json::from_slice(&bytes).map_err(|e| ApiError::InvalidJson {
        details: e.to_string(),
    })?;
    let ops = backup
        .restore_ops(master.store.as_ref())
        .await
        .map_err(refused)?;
    master.write(ops);
    master.durable().await?;
    // Tasks the backup lists are adopted when their agents report them; the rest are replaced.
    master.reload().await?;
    master.wake();
    tracing::info!(sha256 = %backup.sha256, "state restored from a backup");
    Ok(Json(
        json!({"restored": backup.counts(), "sha256": backup.sha256}),
    ))
}
