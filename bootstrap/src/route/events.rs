//! `GET /v1/jobs/{id}/events`: server-sent events, one JSON [`Event`] per message. The journal
//! is replayed from the first event, then live events follow (those already replayed are
//! dropped by `seq`); the stream ends after the job's final event.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use strato_api::Event;
use tokio::sync::broadcast::error::RecvError;

use crate::error::ApiError;
use crate::server::AppState;

fn frame(e: &Event) -> Result<SseEvent, Infallible> {
    Ok(SseEvent::default()
        .id(e.seq.to_string())
        .data(serde_json::to_string(e).expect("events always serialize")))
}

pub async fn follow(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let follow = state.runner.follow(&id)?;
    let ended = follow.replay.iter().any(Event::is_final);
    let last = follow.replay.last().map_or(0, |e| e.seq);
    let replay = stream::iter(follow.replay.iter().map(frame).collect::<Vec<_>>());
    let live = match follow.live.filter(|_| !ended) {
        None => stream::empty().boxed(),
        Some(rx) => stream::unfold((rx, last, false), |(mut rx, last, done)| async move {
            if done {
                return None;
            }
            loop {
                match rx.recv().await {
                    Ok(e) if e.seq <= last => continue,
                    Ok(e) => {
                        let fin = e.is_final();
                        return Some((frame(&e), (rx, e.seq, fin)));
                    }
                    // A slow follower missed events; it can re-request the stream.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        })
        .boxed(),
    };
    Ok(Sse::new(replay.chain(live)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
