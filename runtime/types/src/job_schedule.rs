//! A job's schedule (Metronome's `ScheduleSpec`): a five-field Unix cron expression read in an
//! IANA time zone, how late a missed start may still happen, and whether runs may overlap.
//! Cron parsing is croner's (Vixie semantics: day of month OR day of week), zones chrono-tz's.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::job::{typed, JobBodyError};
use crate::validate::Violation;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleSpec {
    pub id: String,
    pub cron: String,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// A start missed by more than this (master down, FORBID holding it) is skipped.
    #[serde(default = "default_starting_deadline")]
    pub starting_deadline_seconds: u64,
    #[serde(default)]
    pub concurrency_policy: ConcurrencyPolicy,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn default_timezone() -> String {
    "UTC".into()
}

/// Metronome's default: a start may be up to 15 minutes late.
fn default_starting_deadline() -> u64 {
    900
}

fn enabled() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConcurrencyPolicy {
    /// A due run starts even while an earlier run of the job is active.
    #[default]
    Allow,
    /// A due run is skipped while one is active.
    Forbid,
}

/// A parsed cron expression in its zone.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: croner::Cron,
    zone: chrono_tz::Tz,
}

impl CronSchedule {
    pub fn parse(cron: &str, timezone: &str) -> Result<CronSchedule, Vec<Violation>> {
        let mut out = Vec::new();
        // Metronome's dialect (cron-utils): minute hour day-of-month month day-of-week and an
        // optional year; day of month AND day of week must both match.
        let parser = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Disallowed)
            .year(croner::parser::Year::Optional)
            .dom_and_dow(true)
            .build();
        let parsed = parser.parse(cron).ok();
        // An expression that never matches (`0 0 31 2 *`) is refused as Metronome refuses it.
        let cron_ok = parsed
            .as_ref()
            .filter(|c| c.find_next_occurrence(&Utc::now(), false).is_ok());
        if cron_ok.is_none() {
            out.push(Violation::new(
                "/cron",
                format!("Can not read cron expression \"{cron}\""),
            ));
        }
        let zone = match chrono_tz::Tz::from_str(timezone) {
            Ok(zone) => Some(zone),
            Err(_) => {
                out.push(Violation::new(
                    "/timezone",
                    format!("No time zone found with this id: \"{timezone}\""),
                ));
                None
            }
        };
        let cron = cron_ok.cloned();
        match (cron, zone) {
            (Some(cron), Some(zone)) => Ok(CronSchedule { cron, zone }),
            _ => Err(out),
        }
    }

    /// The first start strictly after `after_millis` (Unix ms), if the expression ever matches.
    pub fn next_after(&self, after_millis: u64) -> Option<u64> {
        let after = DateTime::<Utc>::from_timestamp_millis(i64::try_from(after_millis).ok()?)?;
        let local = self.zone.from_utc_datetime(&after.naive_utc());
        let next = self.cron.find_next_occurrence(&local, false).ok()?;
        u64::try_from(next.timestamp_millis()).ok()
    }
}

/// Metronome's schedule id: two characters or more, no dots.
fn schedule_id_pattern() -> &'static regex::Regex {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    PATTERN.get_or_init(|| regex::Regex::new(r"^([a-z0-9][a-z0-9\-]*[a-z0-9]+)$").expect("pattern"))
}

impl ScheduleSpec {
    pub fn parse(body: &[u8]) -> Result<ScheduleSpec, JobBodyError> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| JobBodyError::Json {
                details: e.to_string(),
            })?;
        Self::from_value(value)
    }

    /// Types, defaults and Metronome's rules; `nextRunAt` in a body is ignored (it is output).
    pub fn from_value(mut value: serde_json::Value) -> Result<ScheduleSpec, JobBodyError> {
        if let Some(object) = value.as_object_mut() {
            object.remove("nextRunAt");
        }
        let spec: ScheduleSpec = typed(value)?;
        let mut violations = Vec::new();
        if !schedule_id_pattern().is_match(&spec.id) {
            violations.push(Violation::new(
                "/id",
                format!(
                    "'{}' does not match pattern '^([a-z0-9][a-z0-9\\-]*[a-z0-9]+)$'.",
                    spec.id
                ),
            ));
        }
        if spec.starting_deadline_seconds < 60 {
            violations.push(Violation::new(
                "/startingDeadline",
                format!(
                    "got {} seconds, expected 1 minute or more",
                    spec.starting_deadline_seconds
                ),
            ));
        }
        if let Err(more) = spec.schedule() {
            violations.extend(more);
        }
        if violations.is_empty() {
            Ok(spec)
        } else {
            Err(JobBodyError::Invalid(violations))
        }
    }

    pub fn schedule(&self) -> Result<CronSchedule, Vec<Violation>> {
        CronSchedule::parse(&self.cron, &self.timezone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> u64 {
        crate::time::parse_iso(text).expect("time")
    }

    #[test]
    fn every_minute_starts_on_the_next_minute() {
        let s = CronSchedule::parse("* * * * *", "UTC").expect("valid");
        assert_eq!(
            s.next_after(at("2026-12-04T10:00:30.000Z")),
            Some(at("2026-12-04T10:01:00.000Z"))
        );
        assert_eq!(
            s.next_after(at("2026-12-04T10:01:00.000Z")),
            Some(at("2026-12-04T10:02:00.000Z"))
        );
    }

    #[test]
    fn the_zone_decides_which_hour_is_nine() {
        let s = CronSchedule::parse("0 9 * * *", "America/New_York").expect("valid");
        // 09:00 in New York in December is 14:00 UTC.
        assert_eq!(
            s.next_after(at("2026-12-04T10:00:00.000Z")),
            Some(at("2026-12-04T14:00:00.000Z"))
        );
    }

    #[test]
    fn bad_cron_and_zone_are_named() {
        let errors = CronSchedule::parse("61 * * *", "Mars/Olympus").expect_err("invalid");
        let paths: Vec<&str> = errors.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, vec!["/cron", "/timezone"]);
        assert_eq!(
            errors[0].errors,
            vec!["Can not read cron expression \"61 * * *\""]
        );
        assert!(
            CronSchedule::parse("0 0 31 2 *", "UTC").is_err(),
            "never matches"
        );
    }

    #[test]
    fn day_of_month_and_day_of_week_must_both_match() {
        // The first Monday of the month, at 09:00 (cron-utils' reading, which Metronome uses).
        let s = CronSchedule::parse("0 9 1-7 * 1", "UTC").expect("valid");
        assert_eq!(
            s.next_after(at("2026-12-01T00:00:00.000Z")),
            Some(at("2026-12-07T09:00:00.000Z"))
        );
    }
}
