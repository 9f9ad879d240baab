//! The leadership loop: a standby campaigns (refreshing its copy of the state meanwhile); a
//! master that wins reloads the state from the store and leads until its term ends, a write
//! fails, or it shuts down, then resigns and campaigns again. A single master wins at once and
//! for ever (`strato_store::Solo`).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use strato_store::Term;

use crate::master::{Master, Role};

/// How often a standby re-reads the shared state (its DNS answers and reads during a failover
/// are at most this old).
const REFRESH: Duration = Duration::from_secs(1);
/// How long to wait before campaigning again after etcd refused a campaign.
const RETRY: Duration = Duration::from_secs(1);

/// What a master campaigns with: where to reach it (the value of etcd's election key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderAddress {
    /// `ip:port` of the Mesos-style endpoints (agents, `/master/redirect`).
    pub mesos: String,
    /// `ip:port` of the Marathon API (`/v2/leader`).
    pub marathon: String,
}

impl LeaderAddress {
    pub fn of(master: &Master) -> LeaderAddress {
        Self::from_config(&master.config)
    }

    pub fn from_config(config: &crate::config::MasterConfig) -> LeaderAddress {
        let ip = &config.advertise_ip;
        LeaderAddress {
            mesos: format!("{ip}:{}", config.mesos_port),
            marathon: format!("{ip}:{}", config.marathon_port),
        }
    }

    /// What a master campaigns with (etcd's election value).
    pub fn to_value(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a campaign value; a bare `ip:port` (one master) names both ports.
    pub fn parse(value: &str) -> LeaderAddress {
        serde_json::from_str(value).unwrap_or_else(|_| LeaderAddress {
            mesos: value.to_string(),
            marathon: value.to_string(),
        })
    }
}

impl Master {
    /// The current leader's address, this master's own when it leads.
    pub(crate) async fn leader_address(&self) -> Option<LeaderAddress> {
        if self.is_leader() {
            return Some(LeaderAddress::of(self));
        }
        let seen =
            match tokio::time::timeout(Duration::from_secs(2), self.leadership.leader()).await {
                Ok(Ok(Some(value))) => Some(LeaderAddress::parse(&value)),
                _ => None,
            };
        self.leader_seen.send_replace(seen.clone());
        seen
    }

    /// The term this master holds, if it leads.
    fn term(&self) -> Option<Term> {
        match &*self.role.borrow() {
            Role::Leader { term, .. } => Some(term.clone()),
            Role::Standby => None,
        }
    }

    /// Becomes leader in `term`: the state is read afresh from the store first, so nothing a
    /// previous leader wrote is missed and nothing this master held in memory outlives the store.
    async fn take_over(&self, term: Term) -> Result<(), strato_store::StoreError> {
        self.reload().await?;
        // The role is Standby here (the last term stepped down), so the generation cannot be
        // derived from it: a reused generation stays poisoned by the last term's failed write.
        let generation = self.next_generation();
        let now = strato_runtime_types::time::now_millis();
        self.lock().started_at = now;
        self.role.send_replace(Role::Leader { term, generation });
        self.leader_seen.send_replace(Some(LeaderAddress::of(self)));
        tracing::info!("this master now leads");
        self.wake();
        Ok(())
    }

    fn step_down(&self) {
        self.role.send_replace(Role::Standby);
        tracing::warn!("this master no longer leads");
    }
}

/// Runs until `stop` turns true.
pub(crate) async fn run(master: Arc<Master>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let address = LeaderAddress::of(&master).to_value();
    loop {
        let term = match master.term() {
            Some(term) => term,
            None => {
                let campaign = master.leadership.campaign(&address);
                tokio::pin!(campaign);
                let won = loop {
                    tokio::select! {
                        won = &mut campaign => break won,
                        _ = tokio::time::sleep(REFRESH) => {
                            if let Err(error) = master.reload().await {
                                tracing::debug!(%error, "standby cannot refresh its state");
                            }
                            master.leader_address().await;
                        }
                        _ = stop.changed() => return,
                    }
                };
                match won {
                    Ok(term) => match master.take_over(term.clone()).await {
                        Ok(()) => term,
                        Err(error) => {
                            tracing::warn!(%error, "won the election but cannot read the state");
                            let _ = master.leadership.resign(&term).await;
                            continue;
                        }
                    },
                    Err(error) => {
                        tracing::warn!(%error, "cannot campaign for leadership");
                        tokio::select! {
                            _ = tokio::time::sleep(RETRY) => continue,
                            _ = stop.changed() => return,
                        }
                    }
                }
            }
        };
        let stopping = tokio::select! {
            _ = term.ended() => false,
            _ = master.write_failed.notified() => false,
            _ = stop.changed() => true,
        };
        master.step_down();
        // Resigning lets a standby win at once instead of after the lease's TTL.
        let _ = tokio::time::timeout(Duration::from_secs(2), master.leadership.resign(&term)).await;
        if stopping {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use strato_store::{Entries, MemoryStore, Op, Solo, Store, StoreError, Table, Term};

    use crate::master::Master;

    /// A memory store whose next commit fails as if quorum were lost.
    #[derive(Default)]
    struct FailsOnce {
        inner: MemoryStore,
        fail_next: AtomicBool,
    }

    #[async_trait::async_trait]
    impl Store for FailsOnce {
        async fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.inner.get(table, key).await
        }
        async fn list(&self, table: Table, prefix: &str) -> Result<Entries, StoreError> {
            self.inner.list(table, prefix).await
        }
        async fn commit(&self, term: &Term, ops: Vec<Op>) -> Result<(), StoreError> {
            if self.fail_next.swap(false, Ordering::SeqCst) {
                return Err(StoreError::QuorumLost {
                    message: "test".into(),
                });
            }
            self.inner.commit(term, ops).await
        }
    }

    #[tokio::test]
    async fn a_master_whose_write_failed_leads_again_and_its_writes_are_stored() {
        let store = Arc::new(FailsOnce::default());
        let master = Master::with_leadership(
            crate::MasterConfig::default(),
            Arc::clone(&store) as Arc<dyn Store>,
            Arc::new(crate::testing::NoAgents),
            Arc::new(Solo::default()),
            None,
            strato_tls::client(),
        )
        .await
        .expect("master");
        let (_stop, stop) = tokio::sync::watch::channel(false);
        tokio::spawn(super::run(Arc::clone(&master), stop));

        let mut role = master.role.subscribe();
        tokio::time::timeout(
            Duration::from_secs(10),
            role.wait_for(|_| master.is_leader()),
        )
        .await
        .expect("the master leads")
        .expect("role channel open");

        store.fail_next.store(true, Ordering::SeqCst);
        master.write(vec![Op::put(Table::Meta, "lost", b"1".to_vec())]);
        assert!(
            master.durable().await.is_err(),
            "the failed write is reported"
        );
        // The master steps down and leads again (Solo: at once); its writes are stored again.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            master.write(vec![Op::put(Table::Meta, "kept", b"2".to_vec())]);
            if master.durable().await.is_ok()
                && store.get(Table::Meta, "kept").await.expect("read") == Some(b"2".to_vec())
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no write stored within 10 s of a failed one"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(store.get(Table::Meta, "lost").await.expect("read"), None);
    }
}
