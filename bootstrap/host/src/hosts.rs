//! Fan-out over hosts with bounded parallelism (k0sctl's `ParallelEach`): run one async step on
//! every host, at most `limit` at a time, and collect each host's outcome. A failure on one host
//! never stops the others; the caller decides what a partial failure means.

use std::future::Future;
use std::sync::Arc;

use crate::host::Host;

/// Hosts worked on at once unless the operator says otherwise (k0sctl's default).
pub const DEFAULT_HOST_CONCURRENCY: usize = 30;

/// One host's result from [`for_each_host`].
#[derive(Debug)]
pub struct HostOutcome<T, E> {
    /// [`Host::name`].
    pub host: String,
    pub result: Result<T, E>,
}

/// Run `step` on every host, at most `limit` (min 1) at once. Outcomes come back in the order of
/// `hosts`, whatever order they finished in. A step that panics is reported by re-raising the
/// panic here, since it is a bug, not a host failure.
pub async fn for_each_host<T, E, F, Fut>(
    hosts: &[Arc<Host>],
    limit: usize,
    step: F,
) -> Vec<HostOutcome<T, E>>
where
    F: Fn(Arc<Host>) -> Fut,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, host) in hosts.iter().enumerate() {
        let slots = Arc::clone(&slots);
        let work = step(Arc::clone(host));
        set.spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _slot = slots.acquire_owned().await;
            (i, work.await)
        });
    }
    let mut results: Vec<Option<Result<T, E>>> = hosts.iter().map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, r)) => results[i] = Some(r),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Tasks are never cancelled: the set lives until all are joined.
            Err(_) => {}
        }
    }
    hosts
        .iter()
        .zip(results)
        .filter_map(|(h, r)| {
            r.map(|result| HostOutcome {
                host: h.name().to_string(),
                result,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::fake::{FakeReply, FakeTransport};

    fn hosts(n: usize) -> Vec<Arc<Host>> {
        (0..n)
            .map(|i| {
                let fake = FakeTransport::new(format!("n{i}"));
                fake.default_reply(FakeReply::ok(format!("{i}\n")));
                Arc::new(Host::new(format!("10.0.0.{i}"), Arc::new(fake)))
            })
            .collect()
    }

    #[tokio::test]
    async fn runs_at_most_limit_at_once_and_keeps_host_order() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let hs = hosts(10);
        let out = for_each_host(&hs, 3, |h| {
            let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                // Yield a few times so other tasks get a chance to overlap.
                for _ in 0..5 {
                    tokio::task::yield_now().await;
                }
                let r = h.read_ok("hostname").await;
                running.fetch_sub(1, Ordering::SeqCst);
                r
            }
        })
        .await;
        // Exactly the limit: the steps did overlap, and never beyond it.
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        let names: Vec<&str> = out.iter().map(|o| o.host.as_str()).collect();
        assert_eq!(names[0], "10.0.0.0");
        assert_eq!(names[9], "10.0.0.9");
        assert_eq!(out[4].result.as_deref().ok(), Some("4\n"));
    }

    #[tokio::test]
    async fn one_failing_host_does_not_stop_the_others() {
        let hs = hosts(3);
        let out = for_each_host(&hs, DEFAULT_HOST_CONCURRENCY, |h| async move {
            if h.name() == "10.0.0.1" {
                Err(format!("{}: unreachable", h.name()))
            } else {
                Ok(())
            }
        })
        .await;
        let failed: Vec<&str> = out
            .iter()
            .filter(|o| o.result.is_err())
            .map(|o| o.host.as_str())
            .collect();
        assert_eq!(failed, vec!["10.0.0.1"]);
        assert_eq!(out.len(), 3);
    }
}
