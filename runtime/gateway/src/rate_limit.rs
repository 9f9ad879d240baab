//! Failed logins are limited per client address and per user name: after [`MAX_FAILURES`] in a
//! [`WINDOW`], further attempts are refused (429) until the window ends, so a password cannot be
//! guessed online at argon2's speed, and one noisy client cannot lock out everyone else's names.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Entries kept at most; beyond it the expired ones are dropped first, then the oldest.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Client(IpAddr),
    User(String),
}

#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<Key, (u32, Instant)>>,
}

impl LoginLimiter {
    /// `Some(wait)` when this client or user has failed too often lately.
    pub fn refused(&self, client: IpAddr, uid: &str, now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        [Key::Client(client), Key::User(uid.to_string())]
            .iter()
            .filter_map(|key| failures.get(key))
            .filter(|(count, since)| *count >= MAX_FAILURES && now < *since + WINDOW)
            .map(|(_, since)| (*since + WINDOW).saturating_duration_since(now))
            .max()
    }

    pub fn failed(&self, client: IpAddr, uid: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_ENTRIES {
            failures.retain(|_, (_, since)| now < *since + WINDOW);
            if failures.len() >= MAX_ENTRIES {
                if let Some(oldest) = failures
                    .iter()
                    .min_by_key(|(_, (_, since))| *since)
                    .map(|(k, _)| k.clone())
                {
                    failures.remove(&oldest);
                }
            }
        }
        for key in [Key::Client(client), Key::User(uid.to_string())] {
            let entry = failures.entry(key).or_insert((0, now));
            if now >= entry.1 + WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_refused_after_five_failures_until_the_window_ends() {
        let limiter = LoginLimiter::default();
        let client: IpAddr = [10, 0, 0, 1].into();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(limiter.refused(client, "alice", start), None);
            limiter.failed(client, "alice", start);
        }
        assert!(limiter.refused(client, "alice", start).is_some());
        // The same client with another name, and another client with the same name: refused.
        assert!(limiter.refused(client, "bob", start).is_some());
        assert!(limiter
            .refused([10, 0, 0, 2].into(), "alice", start)
            .is_some());
        // Another client and name: not.
        assert_eq!(limiter.refused([10, 0, 0, 2].into(), "bob", start), None);
        assert_eq!(limiter.refused(client, "alice", start + WINDOW), None);
    }
}
