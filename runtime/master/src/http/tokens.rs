//! `POST /strato/v1/tokens/revoke` (`strato token revoke`): `{"jti", "exp"}` revokes one gateway
//! token until it would have expired; `{"uid"}` every token of that user issued until now. The
//! gateway checks each request's token against the list (`runtime/master/src/gateway.rs`).

use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use strato_store::{Op, Table};

use crate::error::ApiError;
use crate::master::Master;

/// Revoked token ids kept at most (each stays only until its expiry).
const MAX_REVOKED: usize = 100_000;

pub fn routes() -> Router<Arc<Master>> {
    Router::new().route("/strato/v1/tokens/revoke", post(revoke))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoke {
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    exp: Option<u64>,
    #[serde(default)]
    uid: Option<String>,
}

fn bad(message: &str) -> ApiError {
    ApiError::BadRequest {
        message: message.to_string(),
    }
}

async fn revoke(
    State(master): State<Arc<Master>>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: Revoke = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest {
        message: format!(
            "Send {{\"jti\": …, \"exp\": …}} (one token) or {{\"uid\": …}} (every token of a user): {e}"
        ),
    })?;
    let now = strato_runtime_types::time::now_millis() / 1000;
    let mut state = master.lock();
    let answer =
        match (body.jti, body.exp, body.uid) {
            (Some(jti), Some(exp), None) if !jti.is_empty() && jti.len() <= 64 => {
                state.revocations.tokens.retain(|_, until| *until > now);
                if state.revocations.tokens.len() >= MAX_REVOKED {
                    return Err(bad(
                        "Too many tokens are revoked already: revoke by user instead",
                    ));
                }
                if exp > now {
                    state.revocations.tokens.insert(jti.clone(), exp);
                }
                json!({"revoked": {"jti": jti}})
            }
            (None, None, Some(uid)) if !uid.is_empty() => {
                state.revocations.users.insert(uid.clone(), now);
                json!({"revoked": {"uid": uid, "issuedUntil": now}})
            }
            _ => return Err(bad(
                "Send {\"jti\": …, \"exp\": …} (one token) or {\"uid\": …} (every token of a user)",
            )),
        };
    let op = Op::put_json(Table::Meta, "revocations", &state.revocations)?;
    drop(state);
    master.write(vec![op]);
    Ok(Json(answer))
}
