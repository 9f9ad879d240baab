//! When a job's schedule starts a run: pure decisions from the schedule, the time and whether a
//! run of the job is active, so tests drive them with any clock.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use strato_runtime_types::job_schedule::{ConcurrencyPolicy, ScheduleSpec};
use strato_runtime_types::time::iso_metronome;

/// A schedule and the next start it waits for (stored with the job, so a new leader neither
/// repeats nor forgets a start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    pub spec: ScheduleSpec,
    /// Unix ms; `None` while disabled.
    pub next_run_at: Option<u64>,
}

/// What a due start came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    Start,
    Skip(String),
}

impl ScheduleRecord {
    /// A schedule made or changed at `now`: it waits for its first start after `now`.
    pub fn new(spec: ScheduleSpec, now: u64) -> ScheduleRecord {
        let mut record = ScheduleRecord {
            spec,
            next_run_at: None,
        };
        record.rearm(now);
        record
    }

    fn rearm(&mut self, after: u64) {
        self.next_run_at = if self.spec.enabled {
            self.spec.schedule().ok().and_then(|s| s.next_after(after))
        } else {
            None
        };
    }

    /// At `now`: `None` when nothing is due, else whether the due start happens. Starts missed
    /// while the master was down or busy come to one decision, and the schedule moves past `now`.
    pub fn tick(&mut self, now: u64, job_active: bool) -> Option<Due> {
        let first = self.next_run_at.filter(|at| *at <= now)?;
        // Of several missed starts, the latest decides (bounded: a year of minutes).
        let cron = self.spec.schedule().ok()?;
        let mut due = first;
        for _ in 0..600_000 {
            match cron.next_after(due) {
                Some(next) if next <= now => due = next,
                _ => break,
            }
        }
        let late_ms = now - due;
        let deadline_ms = self.spec.starting_deadline_seconds.saturating_mul(1000);
        let decision = if late_ms > deadline_ms {
            Due::Skip(format!(
                "the start due at {} was missed by more than startingDeadlineSeconds ({})",
                iso_metronome(due),
                self.spec.starting_deadline_seconds
            ))
        } else if job_active && self.spec.concurrency_policy == ConcurrencyPolicy::Forbid {
            Due::Skip(format!(
                "the start due at {} was skipped: a run is still active and concurrencyPolicy \
                 is FORBID",
                iso_metronome(due)
            ))
        } else {
            Due::Start
        };
        self.rearm(now);
        Some(decision)
    }

    /// `/v1/jobs/{id}/schedules/{sid}` as Metronome answers it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.spec.id,
            "cron": self.spec.cron,
            "timezone": self.spec.timezone,
            "startingDeadlineSeconds": self.spec.starting_deadline_seconds,
            "concurrencyPolicy": self.spec.concurrency_policy,
            "enabled": self.spec.enabled,
            "nextRunAt": self.next_run_at.map(iso_metronome),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> u64 {
        strato_runtime_types::time::parse_iso(text).expect("time")
    }

    fn every_minute(policy: ConcurrencyPolicy) -> ScheduleRecord {
        let spec: ScheduleSpec = serde_json::from_value(json!({
            "id": "m", "cron": "* * * * *", "concurrencyPolicy": policy, "startingDeadlineSeconds": 60
        }))
        .expect("spec");
        ScheduleRecord::new(spec, at("2026-12-04T10:00:10.000Z"))
    }

    #[test]
    fn a_start_is_due_on_the_minute_and_not_before() {
        let mut s = every_minute(ConcurrencyPolicy::Allow);
        assert_eq!(s.tick(at("2026-12-04T10:00:59.999Z"), false), None);
        assert_eq!(
            s.tick(at("2026-12-04T10:01:00.200Z"), false),
            Some(Due::Start)
        );
        assert_eq!(s.tick(at("2026-12-04T10:01:01.000Z"), false), None, "once");
        assert_eq!(s.next_run_at, Some(at("2026-12-04T10:02:00.000Z")));
        assert_eq!(
            s.tick(at("2026-12-04T10:02:00.100Z"), true),
            Some(Due::Start)
        );
    }

    #[test]
    fn forbid_skips_while_a_run_is_active() {
        let mut s = every_minute(ConcurrencyPolicy::Forbid);
        assert!(matches!(
            s.tick(at("2026-12-04T10:01:00.100Z"), true),
            Some(Due::Skip(_))
        ));
        assert_eq!(
            s.tick(at("2026-12-04T10:02:00.100Z"), false),
            Some(Due::Start)
        );
    }

    #[test]
    fn a_start_missed_past_its_deadline_is_skipped_once() {
        let spec: ScheduleSpec = serde_json::from_value(
            json!({"id": "h", "cron": "0 * * * *", "startingDeadlineSeconds": 60}),
        )
        .expect("spec");
        let mut s = ScheduleRecord::new(spec, at("2026-12-04T10:00:10.000Z"));
        // The master was away from 10:00:10 to 12:05:00: the 11:00 and 12:00 starts were
        // missed, the latest by more than its deadline; one decision, and the schedule moves on.
        assert!(matches!(
            s.tick(at("2026-12-04T12:05:00.000Z"), false),
            Some(Due::Skip(_))
        ));
        assert_eq!(s.next_run_at, Some(at("2026-12-04T13:00:00.000Z")));
    }

    #[test]
    fn a_start_missed_within_its_deadline_still_happens() {
        let mut s = every_minute(ConcurrencyPolicy::Allow);
        // A leader change took 40 s around 10:01:00.
        assert_eq!(
            s.tick(at("2026-12-04T10:01:40.000Z"), false),
            Some(Due::Start)
        );
    }

    #[test]
    fn a_disabled_schedule_starts_nothing() {
        let spec: ScheduleSpec =
            serde_json::from_value(json!({"id": "m", "cron": "* * * * *", "enabled": false}))
                .expect("spec");
        let mut s = ScheduleRecord::new(spec, at("2026-12-04T10:00:10.000Z"));
        assert_eq!(s.tick(at("2026-12-04T11:00:00.000Z"), false), None);
        assert_eq!(s.to_json()["nextRunAt"], Value::Null);
    }
}
