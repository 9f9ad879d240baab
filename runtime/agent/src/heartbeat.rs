//! The link to the master once registered: heartbeats at the interval it asked for (carrying
//! every task's status), status updates pushed as they happen and retried until delivered, and
//! registering again whenever the master has forgotten the agent.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use strato_proto::{
    AgentInfo, Heartbeat, HeartbeatAck, StatusUpdate, TaskStatus, PATH_HEARTBEAT, PATH_STATUS,
};
use tokio::sync::{mpsc, watch};

use crate::client::MasterClient;
use crate::executor::Executor;
use crate::registration::register;

/// Heartbeats that may fail in a row before the agent registers again (maybe elsewhere).
const MAX_MISSED: u32 = 3;
/// Undelivered updates kept; older ones are dropped (heartbeats carry the latest state anyway).
const MAX_PENDING: usize = 10_000;
/// How long the agent keeps trying to deliver its last updates when it stops.
const FINAL_FLUSH: Duration = Duration::from_secs(2);

pub struct Link {
    pub client: Arc<MasterClient>,
    pub agent: AgentInfo,
    pub exec: Executor,
    pub updates: mpsc::Receiver<TaskStatus>,
    pub shutdown: watch::Receiver<bool>,
}

impl Link {
    pub async fn run(mut self) {
        let mut pending: VecDeque<TaskStatus> = VecDeque::new();
        'register: loop {
            let reg = tokio::select! {
                reg = register(&self.client, &self.agent, &self.exec) => reg,
                _ = self.shutdown.changed() => return self.final_flush(pending).await,
            };
            // The master's name for this agent is the one to use from now on (normally our own).
            self.agent.id = reg.agent_id.clone();
            let every = Duration::from_millis(reg.heartbeat_interval_ms.max(100));
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            let mut missed = 0;
            loop {
                tokio::select! {
                    _ = ticker.tick() => {
                        self.exec.prune();
                        match self.heartbeat().await {
                            Ok(true) => missed = 0,
                            Ok(false) => {
                                tracing::info!("master does not know this agent; registering again");
                                continue 'register;
                            }
                            Err(e) => {
                                missed += 1;
                                tracing::warn!(error = %e, missed, "heartbeat failed");
                                if missed >= MAX_MISSED {
                                    continue 'register;
                                }
                            }
                        }
                        self.flush(&mut pending).await;
                    }
                    update = self.updates.recv() => {
                        let Some(update) = update else { return };
                        push_bounded(&mut pending, update);
                        self.flush(&mut pending).await;
                    }
                    _ = self.shutdown.changed() => return self.final_flush(pending).await,
                }
            }
        }
    }

    async fn heartbeat(&self) -> Result<bool, crate::client::LinkError> {
        let beat = Heartbeat {
            agent_id: self.agent.id.clone(),
            tasks: self.exec.statuses(),
        };
        let ack: HeartbeatAck = self.client.post(PATH_HEARTBEAT, &beat).await?;
        Ok(ack.known)
    }

    /// Sends pending updates in order, stopping at the first that fails (kept for later).
    async fn flush(&self, pending: &mut VecDeque<TaskStatus>) {
        while let Some(status) = pending.front() {
            let update = StatusUpdate {
                agent_id: self.agent.id.clone(),
                status: status.clone(),
            };
            match self.client.post_ignoring_body(PATH_STATUS, &update).await {
                Ok(()) => {
                    pending.pop_front();
                }
                Err(e) => {
                    tracing::debug!(error = %e, "status update not delivered; will retry");
                    return;
                }
            }
        }
    }

    async fn final_flush(mut self, mut pending: VecDeque<TaskStatus>) {
        while let Ok(update) = self.updates.try_recv() {
            push_bounded(&mut pending, update);
        }
        let _ = tokio::time::timeout(FINAL_FLUSH, self.flush(&mut pending)).await;
    }
}

fn push_bounded(pending: &mut VecDeque<TaskStatus>, status: TaskStatus) {
    if pending.len() >= MAX_PENDING {
        pending.pop_front();
    }
    pending.push_back(status);
}
