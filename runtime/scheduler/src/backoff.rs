//! Launch backoff after task failures (Marathon docs/backoff.md): the first failure delays the
//! next launch by `backoffSeconds`, each further one multiplies by `backoffFactor`, capped at
//! `maxLaunchDelaySeconds`. A new app version or `DELETE /v2/queue/{id}/delay` resets it.

use serde::{Deserialize, Serialize};
use strato_runtime_types::App;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Backoff {
    /// The current delay.
    pub delay_ms: u64,
    /// No launch before this time (Unix ms).
    pub next_launch_at: u64,
    /// When the app first entered backoff.
    pub since: u64,
}

/// The backoff after one more failure at `now`.
pub fn after_failure(previous: Option<&Backoff>, app: &App, now: u64) -> Backoff {
    let max_ms = app.max_launch_delay_seconds * 1000.0;
    let delay = match previous {
        None => app.backoff_seconds * 1000.0,
        Some(b) => (b.delay_ms as f64 * app.backoff_factor).min(max_ms),
    };
    let delay_ms = delay.min(max_ms).max(0.0) as u64;
    Backoff {
        delay_ms,
        next_launch_at: now.saturating_add(delay_ms),
        since: previous.map_or(now, |b| b.since),
    }
}

/// A backoff is forgotten after a failure-free period of the delay plus `maxLaunchDelaySeconds`.
pub fn expired(backoff: &Backoff, app: &App, now: u64) -> bool {
    let quiet = (app.max_launch_delay_seconds * 1000.0).max(0.0) as u64;
    now > backoff.next_launch_at.saturating_add(quiet)
}

/// Seconds left and whether the delay has passed, for `/v2/queue`'s `delay` object.
pub fn time_left(backoff: Option<&Backoff>, now: u64) -> (u64, bool) {
    match backoff {
        Some(b) if b.next_launch_at > now => ((b.next_launch_at - now).div_ceil(1000), false),
        _ => (0, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_by_the_factor_and_cap() {
        let app = App {
            backoff_seconds: 1.0,
            backoff_factor: 2.0,
            max_launch_delay_seconds: 5.0,
            ..App::default()
        };
        let mut delays = Vec::new();
        let mut state = None;
        for _ in 0..5 {
            let next = after_failure(state.as_ref(), &app, 10_000);
            delays.push(next.delay_ms);
            state = Some(next);
        }
        assert_eq!(delays, vec![1000, 2000, 4000, 5000, 5000]);
        assert_eq!(state.expect("set").next_launch_at, 15_000);
    }

    #[test]
    fn marathon_defaults_give_1_then_1_15_seconds() {
        let app = App::default();
        let first = after_failure(None, &app, 0);
        let second = after_failure(Some(&first), &app, 0);
        assert_eq!((first.delay_ms, second.delay_ms), (1000, 1150));
    }

    #[test]
    fn backoff_is_forgotten_after_a_quiet_period() {
        let app = App {
            max_launch_delay_seconds: 10.0,
            ..App::default()
        };
        let b = Backoff {
            delay_ms: 2000,
            next_launch_at: 5_000,
            since: 0,
        };
        assert!(!expired(&b, &app, 15_000));
        assert!(expired(&b, &app, 15_001));
    }

    #[test]
    fn time_left_rounds_up_and_reports_overdue() {
        let b = Backoff {
            delay_ms: 3000,
            next_launch_at: 2500,
            since: 0,
        };
        assert_eq!(time_left(Some(&b), 1000), (2, false));
        assert_eq!(time_left(Some(&b), 3000), (0, true));
        assert_eq!(time_left(None, 3000), (0, true));
    }

    #[test]
    fn absurd_settings_saturate_instead_of_overflowing() {
        let app = App {
            backoff_seconds: 1e300,
            backoff_factor: 1e300,
            max_launch_delay_seconds: 1e300,
            ..App::default()
        };
        let first = after_failure(None, &app, u64::MAX - 10);
        let second = after_failure(Some(&first), &app, u64::MAX - 10);
        assert_eq!(second.next_launch_at, u64::MAX);
        assert!(!expired(&second, &app, u64::MAX - 1));
        assert!(!time_left(Some(&second), 0).1);
    }
}
