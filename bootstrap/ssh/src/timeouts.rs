//! Every wait in this crate, in one place. There are three separate limits: the connect timeout
//! (one attempt: TCP + handshake + auth), the per-command timeout, and the whole job's deadline
//! (an `Instant` the caller passes down; nothing here ever waits past it).

use std::time::{Duration, Instant};

/// One connect attempt: TCP, SSH handshake and authentication together.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// One command when the caller gives no timeout (DC/OS used 120 s per ssh process).
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// First pause between connect attempts; doubles up to [`MAX_BACKOFF`].
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// Longest pause between connect attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Connect attempts (first try included) for transient failures.
pub const DEFAULT_CONNECT_ATTEMPTS: u32 = 5;
/// The clean-up `kill` of a timed-out command's process group.
pub const KILL_TIMEOUT: Duration = Duration::from_secs(5);
/// SSH keepalive, so a dead peer is noticed during long idle commands.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// Connect retries: exponential backoff between attempts, never past the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included; 0 is treated as 1.
    pub attempts: u32,
    /// Pause after the first failure.
    pub initial_backoff: Duration,
    /// Cap on the pause.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: DEFAULT_CONNECT_ATTEMPTS,
            initial_backoff: INITIAL_BACKOFF,
            max_backoff: MAX_BACKOFF,
        }
    }
}

impl RetryPolicy {
    /// A single attempt, no retry.
    pub fn none() -> Self {
        RetryPolicy {
            attempts: 1,
            ..Self::default()
        }
    }

    /// The pause after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Which limit bounded a wait, so the error can say which one fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    Timeout(Duration),
    Deadline,
}

/// The time available to a step: its own timeout, or less if the job deadline comes first.
/// `None` when the deadline has already passed.
pub(crate) fn budget(timeout: Duration, deadline: Option<Instant>) -> Option<(Duration, Bound)> {
    let Some(deadline) = deadline else {
        return Some((timeout, Bound::Timeout(timeout)));
    };
    let left = deadline.checked_duration_since(Instant::now())?;
    if left.is_zero() {
        None
    } else if left < timeout {
        Some((left, Bound::Deadline))
    } else {
        Some((timeout, Bound::Timeout(timeout)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        let p = RetryPolicy {
            attempts: 10,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
        };
        let got: Vec<u64> = (1..=5).map(|a| p.backoff(a).as_secs()).collect();
        assert_eq!(got, vec![1, 2, 4, 5, 5]);
    }

    #[test]
    fn budget_prefers_the_earlier_limit() {
        let t = Duration::from_secs(60);
        assert_eq!(budget(t, None), Some((t, Bound::Timeout(t))));
        let soon = Instant::now() + Duration::from_secs(5);
        let (d, bound) = budget(t, Some(soon)).expect("deadline in the future");
        assert!(d <= Duration::from_secs(5));
        assert_eq!(bound, Bound::Deadline);
        let later = Instant::now() + Duration::from_secs(3600);
        assert_eq!(budget(t, Some(later)), Some((t, Bound::Timeout(t))));
    }

    #[test]
    fn budget_is_none_once_the_deadline_passed() {
        let past = Instant::now()
            .checked_sub(Duration::from_secs(1))
            .expect("clock");
        assert_eq!(budget(Duration::from_secs(1), Some(past)), None);
    }
}
