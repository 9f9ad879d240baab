//! The Marathon event bus behind `/v2/events`: every event carries `eventType` and `timestamp`.

use serde_json::{json, Value};
use strato_runtime_types::time::{iso, now_millis};
use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub struct Event {
    pub event_type: &'static str,
    pub data: Value,
}

#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl EventBus {
    /// Publishes `fields` plus `eventType` and `timestamp`. Nobody listening is fine.
    pub fn emit(&self, event_type: &'static str, fields: Value) {
        let mut data = fields;
        if let Some(object) = data.as_object_mut() {
            object.insert("eventType".into(), json!(event_type));
            object.insert("timestamp".into(), json!(iso(now_millis())));
        }
        let _ = self.sender.send(Event { event_type, data });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
