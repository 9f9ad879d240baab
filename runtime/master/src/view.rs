//! The readers' copy of the state. Writers change the state under its lock; a publisher copies it
//! into a shared `Arc` soon after (coalescing bursts, at most every [`EVERY`]), and every read
//! (the Marathon and Mesos GETs, DNS, the dashboard's API calls, metrics) works on the latest copy
//! without the lock, however large the answer. A write through the API publishes before it is
//! answered (`http/follow.rs`), so a client reads its own writes.

use std::sync::Arc;
use std::time::Duration;

use crate::master::Master;
use crate::state::State;

/// The most often the publisher copies the state when changes keep coming (status updates):
/// readers see them at most this late. A copy shares the task and agent maps (persistent), so it
/// costs little even at 100,000 tasks; agents' status updates are not published one by one
/// (`http/follow.rs`), so this is also how late a client sees a task become TASK_RUNNING.
const EVERY: Duration = Duration::from_millis(10);

impl Master {
    /// The latest published copy of the state.
    pub(crate) fn view(&self) -> Arc<State> {
        self.view.borrow().clone()
    }

    /// Copies the state for readers now.
    pub(crate) fn publish(&self) {
        let copy = Arc::new(self.lock_quietly().clone());
        self.view.send_replace(copy);
    }
}

/// The oldest a copy gets while nothing announces a change (heartbeats update agents' last
/// contact quietly).
pub(crate) const REFRESH: Duration = Duration::from_secs(5);

/// Publishes after changes, and every [`REFRESH`], until `stop` turns true.
pub(crate) async fn run(master: Arc<Master>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = master.changed.notified() => {}
            _ = tokio::time::sleep(REFRESH) => {}
            _ = stop.changed() => return,
        }
        master.publish();
        tokio::time::sleep(EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::testing::{app, master};

    #[tokio::test]
    async fn a_read_is_answered_while_a_writer_holds_the_state_lock() {
        let master = master().await;
        master
            .deploy(&mut master.lock(), vec![app(1)], false)
            .expect("deploy");
        master.publish();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = crate::http::router(std::sync::Arc::clone(&master));
        tokio::spawn(async move { axum::serve(listener, router).await });
        // A writer in the middle of something long.
        let held = std::sync::Arc::clone(&master);
        let (taken, release) = (
            std::sync::Arc::new(std::sync::Barrier::new(2)),
            std::sync::Arc::new(std::sync::Barrier::new(2)),
        );
        let (t, r) = (taken.clone(), release.clone());
        let writer = std::thread::spawn(move || {
            let _guard = held.lock_quietly();
            t.wait();
            r.wait();
        });
        taken.wait();
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            strato_tls::client()
                .get(format!("http://{addr}/v2/apps"))
                .send(),
        )
        .await
        .expect("a read waited for the writer")
        .expect("GET /v2/apps");
        let body: serde_json::Value = answer.json().await.expect("json");
        release.wait();
        writer.join().expect("writer");
        assert_eq!(body["apps"][0]["id"], "/web");
    }
}
