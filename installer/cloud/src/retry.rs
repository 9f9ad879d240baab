//! Retrying with backoff, and polling with a deadline: clouds throttle and are eventually
//! consistent (a VPC just made is "not found" for a moment; a security group stays "in use" until
//! its machines' interfaces are gone).
use std::future::Future;
use std::time::{Duration, Instant};

/// How long to keep trying and how fast to start.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub deadline: Duration,
}

impl Backoff {
    pub const fn new(first: Duration, max: Duration, deadline: Duration) -> Self {
        Backoff {
            first,
            max,
            deadline,
        }
    }
}

/// Outcome of one attempt.
pub enum Attempt<T, E> {
    Done(T),
    /// Try again after the backoff (throttled, not yet consistent, still in progress).
    Retry(E),
    Fail(E),
}

/// Run `op` until it is done, fails for good, or the deadline passes (then the last error).
pub async fn with_backoff<T, E, F, Fut>(backoff: Backoff, mut op: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T, E>>,
{
    let start = Instant::now();
    let mut wait = backoff.first;
    loop {
        match op().await {
            Attempt::Done(v) => return Ok(v),
            Attempt::Fail(e) => return Err(e),
            Attempt::Retry(e) => {
                if start.elapsed() + wait > backoff.deadline {
                    return Err(e);
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(backoff.max);
            }
        }
    }
}
