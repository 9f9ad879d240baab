//! `/agent/v1/*`: where agents register, heartbeat and report task status (strato-proto).
//!
//! Over mutual TLS an agent speaks only for the address its certificate names: registering as,
//! or reporting for, an agent at another address is refused, so an agent id learned elsewhere is
//! useless without that agent's key.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use strato_proto::{
    Heartbeat, RegisterAgent, StatusUpdate, PATH_HEARTBEAT, PATH_REGISTER, PATH_STATUS,
};
use strato_tls::Peer;

use super::guard::refuse;
use crate::master::Master;

pub fn routes() -> Router<Arc<Master>> {
    Router::new()
        .route(PATH_REGISTER, post(register))
        .route(PATH_HEARTBEAT, post(heartbeat))
        .route(PATH_STATUS, post(status))
}

/// `Err(why)` when a TLS peer's certificate does not name `address`.
fn speaks_for(peer: Option<&Peer>, address: &str) -> Result<(), String> {
    let Some(peer) = peer.filter(|p| p.tls) else {
        return Ok(());
    };
    let named = address
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| peer.ips.contains(&ip));
    if named {
        Ok(())
    } else {
        Err(format!(
            "This agent certificate does not name the agent address {address}"
        ))
    }
}

/// For calls about an agent id: the registered agent's address must be the caller's.
fn speaks_for_agent(master: &Master, peer: Option<&Peer>, agent_id: &str) -> Result<(), String> {
    match master.agent_address(agent_id) {
        Some(address) => speaks_for(peer, &address),
        // Unknown ids are answered as before (the agent re-registers).
        None => Ok(()),
    }
}

async fn register(
    State(master): State<Arc<Master>>,
    peer: Option<Extension<Peer>>,
    Json(request): Json<RegisterAgent>,
) -> Response {
    let peer = peer.as_ref().map(|Extension(p)| p);
    if let Err(refused) = speaks_for(peer, &request.agent.address)
        .and_then(|()| speaks_for_agent(&master, peer, &request.agent.id))
    {
        return refuse(StatusCode::FORBIDDEN, &refused);
    }
    let (registered, kills) = master.register(request);
    master.kill_orphans(kills);
    Json(registered).into_response()
}

async fn heartbeat(
    State(master): State<Arc<Master>>,
    peer: Option<Extension<Peer>>,
    Json(heartbeat): Json<Heartbeat>,
) -> Response {
    let peer = peer.as_ref().map(|Extension(p)| p);
    if let Err(refused) = speaks_for_agent(&master, peer, &heartbeat.agent_id) {
        return refuse(StatusCode::FORBIDDEN, &refused);
    }
    let (ack, kills) = master.heartbeat(heartbeat);
    master.kill_orphans(kills);
    Json(ack).into_response()
}

async fn status(
    State(master): State<Arc<Master>>,
    peer: Option<Extension<Peer>>,
    Json(update): Json<StatusUpdate>,
) -> Response {
    let peer = peer.as_ref().map(|Extension(p)| p);
    if let Err(refused) = speaks_for_agent(&master, peer, &update.agent_id) {
        return refuse(StatusCode::FORBIDDEN, &refused);
    }
    let kills = master.status_update(update);
    master.kill_orphans(kills);
    StatusCode::NO_CONTENT.into_response()
}
