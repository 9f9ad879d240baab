//! [`Event`]: what a job reports while it runs. The server streams them as server-sent events
//! and keeps them in the job's journal, so a late follower gets the whole story.

use serde::{Deserialize, Serialize};

use crate::job::{JobKind, JobState};

/// One thing that happened in a job. `seq` starts at 1 and has no gaps within a job, so a
/// client that reconnects can drop what it already saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub job: String,
    /// Unix milliseconds.
    pub at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// A preflight check's row, as the operator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRow {
    pub name: String,
    /// `PASS`, `WARN` or `FAIL`.
    pub status: String,
    pub measured: String,
    pub required: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub waived: bool,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The job started (or resumed after a server restart: `resumed`).
    JobStarted {
        kind: JobKind,
        hosts: usize,
        #[serde(default)]
        resumed: bool,
    },
    /// A phase starts over `hosts` hosts.
    PhaseStarted { hosts: usize },
    /// A host entered the phase.
    HostStarted,
    /// A line of progress from a host.
    Progress { message: String },
    /// The host finished the phase.
    HostDone {
        message: String,
        #[serde(default)]
        changed: bool,
    },
    /// The phase was not run on the host (done in an earlier run, nothing to do).
    HostSkipped { reason: String },
    /// The host failed the phase; later phases skip it.
    HostFailed { message: String },
    /// Dry-run: a change that would be made.
    Planned { description: String },
    /// Preflight results for a host (per-host and cluster checks).
    Preflight { checks: Vec<CheckRow> },
    /// Every selected host finished the phase.
    PhaseFinished { failed: usize },
    /// The job ended.
    JobFinished { state: JobState },
}

impl Event {
    /// Whether this is the job's last event.
    pub fn is_final(&self) -> bool {
        matches!(self.kind, EventKind::JobFinished { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_flat_with_an_event_tag() {
        let e = Event {
            seq: 3,
            job: "deploy-1".into(),
            at_ms: 5,
            host: Some("10.0.0.5".into()),
            phase: Some("Install masters".into()),
            kind: EventKind::HostFailed {
                message: "exit 1".into(),
            },
        };
        let text = serde_json::to_string(&e).expect("serialize");
        assert_eq!(
            text,
            r#"{"seq":3,"job":"deploy-1","at_ms":5,"host":"10.0.0.5","phase":"Install masters","event":"host_failed","message":"exit 1"}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&text).expect("parse"), e);
    }
}
