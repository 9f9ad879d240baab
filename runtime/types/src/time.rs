//! Marathon timestamps: ISO-8601 UTC with milliseconds and a literal `Z`
//! (`2015-09-25T15:13:48.343Z`); marathon-python parses nothing else.

use chrono::{DateTime, SecondsFormat, Utc};

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> u64 {
    u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0)
}

/// Formats Unix milliseconds the way Marathon does.
pub fn iso(millis: u64) -> String {
    let millis = i64::try_from(millis).unwrap_or(i64::MAX);
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Formats Unix milliseconds the way Metronome (DC/OS Jobs) does: `2017-03-30T15:50:16.187+0000`.
pub fn iso_metronome(millis: u64) -> String {
    let millis = i64::try_from(millis).unwrap_or(i64::MAX);
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3f%z")
        .to_string()
}

/// Parses a Marathon timestamp back to Unix milliseconds.
pub fn parse_iso(text: &str) -> Option<u64> {
    let parsed = DateTime::parse_from_rfc3339(text).ok()?;
    u64::try_from(parsed.timestamp_millis()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millis_and_z() {
        assert_eq!(iso(1_443_194_028_343), "2015-09-25T15:13:48.343Z");
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn metronome_times_have_a_numeric_offset() {
        assert_eq!(
            iso_metronome(1_443_194_028_343),
            "2015-09-25T15:13:48.343+0000"
        );
    }

    #[test]
    fn parses_what_it_formats() {
        assert_eq!(
            parse_iso("2015-09-25T15:13:48.343Z"),
            Some(1_443_194_028_343)
        );
        assert_eq!(parse_iso("yesterday"), None);
    }
}
