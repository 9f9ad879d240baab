//! [`EventBus`]: numbers each event, appends it to the journal, then broadcasts it. The journal
//! write comes first, so a follower that replays the journal and then listens misses nothing
//! (it drops live events whose `seq` it already replayed).

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use strato_api::{Event, EventKind};
use tokio::sync::broadcast;

use crate::journal::Journal;
use crate::timeouts::EVENT_BUFFER;

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// One job's event stream.
#[derive(Debug)]
pub struct EventBus {
    job: String,
    journal: Journal,
    tx: broadcast::Sender<Event>,
    // Held while writing, so journal order = seq order.
    seq: Mutex<u64>,
}

impl EventBus {
    /// Continue numbering after the journal's last event (a resumed job keeps its history).
    pub fn new(job: impl Into<String>, journal: Journal) -> Self {
        let last = journal
            .read_events()
            .ok()
            .and_then(|e| e.last().map(|e| e.seq))
            .unwrap_or(0);
        let (tx, _) = broadcast::channel(EVENT_BUFFER);
        EventBus {
            job: job.into(),
            journal,
            tx,
            seq: Mutex::new(last),
        }
    }

    /// Record and publish. A journal write failure is logged, not fatal: the job goes on.
    pub fn emit(&self, host: Option<&str>, phase: Option<&str>, kind: EventKind) {
        let mut seq = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        *seq += 1;
        let event = Event {
            seq: *seq,
            job: self.job.clone(),
            at_ms: now_ms(),
            host: host.map(str::to_string),
            phase: phase.map(str::to_string),
            kind,
        };
        if let Err(e) = self.journal.append_event(&event) {
            tracing::warn!(job = %self.job, "cannot journal an event: {e}");
        }
        // No receivers is fine.
        let _ = self.tx.send(event);
    }

    /// Live events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
