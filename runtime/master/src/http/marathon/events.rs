//! `/v2/events`: Server-Sent Events (`event: <type>` / `data: <json>`), starting with
//! `event_stream_attached`; `?event_type=` (repeatable) filters. A comment line every 5 s keeps
//! idle streams open through clients with short read timeouts.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::json;
use strato_runtime_types::time::{iso, now_millis};
use tokio_stream::wrappers::BroadcastStream;

use crate::http::query::Params;
use crate::master::Master;

pub async fn stream(
    State(master): State<Arc<Master>>,
    params: Params,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let filter: Vec<String> = params
        .all("event_type")
        .into_iter()
        .map(str::to_string)
        .collect();
    let attached = json!({"remoteAddress": "", "eventType": "event_stream_attached", "timestamp": iso(now_millis())});
    let first = stream::once(async move {
        Ok(SseEvent::default()
            .event("event_stream_attached")
            .data(attached.to_string()))
    });
    let events = BroadcastStream::new(master.events.subscribe()).filter_map(move |item| {
        let keep = match &item {
            Ok(event) => filter.is_empty() || filter.iter().any(|f| f == event.event_type),
            Err(_) => false, // a slow reader missed events; Marathon drops them too
        };
        let out = match item {
            Ok(event) if keep => Some(Ok(SseEvent::default()
                .event(event.event_type)
                .data(event.data.to_string()))),
            _ => None,
        };
        async move { out }
    });
    // The stream ends when the master stops, or graceful shutdown would wait for it forever.
    let until_stopped = Box::pin(master.stopped());
    Sse::new(first.chain(events).take_until(until_stopped))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(5)))
}
