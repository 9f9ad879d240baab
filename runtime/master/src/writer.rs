//! The one ordered path to the store. Changes are decided under the state lock and queued here
//! in that order (sending never blocks, so the lock is never held across a disk write or a
//! network round trip); a task commits them, merging what queued up meanwhile into one commit.
//! A barrier tells a caller once everything queued before it is durable: the API answers a
//! write, and the reconcile loop calls agents, only after that.
//!
//! A failed commit (quorum lost, fenced) poisons its generation: later writes of that term are
//! dropped and barriers fail, and the leadership loop steps the master down (`leader.rs`); a new
//! term reloads the state from the store, so memory never runs ahead of what is durable.

use std::sync::Arc;

use strato_store::{Op, Store, StoreError, Term};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::metrics::store::StoreMetrics;

enum Message {
    Commit {
        term: Term,
        generation: u64,
        ops: Vec<Op>,
    },
    Barrier {
        generation: u64,
        done: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// etcd takes at most ~100 operations per transaction (runtime/etcd/src/store.rs splits bigger
/// ones anyway); merging stops there so one commit stays one transaction where it can.
const MERGE_LIMIT: usize = 100;

pub(crate) struct Writer {
    queue: mpsc::UnboundedSender<Message>,
}

impl Writer {
    pub(crate) fn start(
        store: Arc<dyn Store>,
        failed: Arc<Notify>,
        metrics: StoreMetrics,
    ) -> Writer {
        let (queue, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(store, failed, metrics, receiver));
        Writer { queue }
    }

    pub(crate) fn commit(&self, term: &Term, generation: u64, ops: Vec<Op>) {
        let _ = self.queue.send(Message::Commit {
            term: term.clone(),
            generation,
            ops,
        });
    }

    pub(crate) async fn barrier(&self, generation: u64) -> Result<(), StoreError> {
        let (done, result) = oneshot::channel();
        if self
            .queue
            .send(Message::Barrier { generation, done })
            .is_err()
        {
            return Err(StoreError::Fenced);
        }
        result.await.unwrap_or(Err(StoreError::Fenced))
    }
}

async fn run(
    store: Arc<dyn Store>,
    failed: Arc<Notify>,
    metrics: StoreMetrics,
    mut receiver: mpsc::UnboundedReceiver<Message>,
) {
    // The generation whose commit failed, and why.
    let mut poisoned: Option<(u64, String, bool)> = None;
    let mut held: Option<Message> = None;
    loop {
        let message = match held.take() {
            Some(message) => message,
            None => match receiver.recv().await {
                Some(message) => message,
                None => return,
            },
        };
        match message {
            Message::Barrier { generation, done } => {
                let result = match &poisoned {
                    Some((bad, message, quorum)) if *bad == generation => Err(if *quorum {
                        StoreError::QuorumLost {
                            message: message.clone(),
                        }
                    } else {
                        StoreError::Fenced
                    }),
                    _ => Ok(()),
                };
                let _ = done.send(result);
            }
            Message::Commit {
                term,
                generation,
                mut ops,
            } => {
                if poisoned
                    .as_ref()
                    .is_some_and(|(bad, ..)| *bad >= generation)
                {
                    continue;
                }
                // Merge the commits of the same term that queued up while the last one ran.
                while ops.len() < MERGE_LIMIT {
                    match receiver.try_recv() {
                        Ok(Message::Commit {
                            generation: g,
                            ops: more,
                            ..
                        }) if g == generation => ops.extend(more),
                        Ok(other) => {
                            held = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let started = std::time::Instant::now();
                let result = store.commit(&term, ops).await;
                metrics.committed(started.elapsed(), result.is_ok());
                if let Err(error) = result {
                    tracing::error!(%error, "a state write failed: this master steps down");
                    let quorum = matches!(error, StoreError::QuorumLost { .. });
                    poisoned = Some((generation, error.to_string(), quorum));
                    failed.notify_one();
                }
            }
        }
    }
}
