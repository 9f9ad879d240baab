//! `/agent/v1/*`: where agents register, heartbeat and report task status (strato-proto).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use strato_proto::{
    Heartbeat, HeartbeatAck, RegisterAgent, Registered, StatusUpdate, PATH_HEARTBEAT,
    PATH_REGISTER, PATH_STATUS,
};

use crate::master::Master;

pub fn routes() -> Router<Arc<Master>> {
    Router::new()
        .route(PATH_REGISTER, post(register))
        .route(PATH_HEARTBEAT, post(heartbeat))
        .route(PATH_STATUS, post(status))
}

async fn register(
    State(master): State<Arc<Master>>,
    Json(request): Json<RegisterAgent>,
) -> Json<Registered> {
    let (registered, kills) = master.register(request);
    master.kill_orphans(kills);
    Json(registered)
}

async fn heartbeat(
    State(master): State<Arc<Master>>,
    Json(heartbeat): Json<Heartbeat>,
) -> Json<HeartbeatAck> {
    let (ack, kills) = master.heartbeat(heartbeat);
    master.kill_orphans(kills);
    Json(ack)
}

async fn status(State(master): State<Arc<Master>>, Json(update): Json<StatusUpdate>) -> StatusCode {
    let kills = master.status_update(update);
    master.kill_orphans(kills);
    StatusCode::NO_CONTENT
}
