//! [`Leadership`] on etcd's election API. A master campaigns with a key on its own lease; the
//! lease is kept alive by a task that ends the term as soon as it cannot be sure the lease is
//! still held (no successful keep-alive within three quarters of the TTL), which is before etcd
//! itself can expire it and let another master win.

use std::time::{Duration, Instant};

use etcd_client::{Client, LeaderKey, ResignOptions};
use strato_store::{Leadership, StoreError, Term};
use tokio::sync::watch;

use crate::error::{retrying, store_error};
use crate::ELECTION;

pub struct EtcdLeadership {
    /// Without a request timeout: a campaign waits as long as another master leads.
    campaigner: Client,
    /// With a request timeout, for everything else.
    client: Client,
    ttl: Duration,
}

impl EtcdLeadership {
    /// `ttl`: how long a silent leader keeps leadership, whole seconds (etcd raises it to 1.5 ×
    /// its election timeout if lower).
    pub fn new(campaigner: Client, client: Client, ttl: Duration) -> EtcdLeadership {
        EtcdLeadership {
            campaigner,
            client,
            ttl,
        }
    }

    fn ttl_seconds(&self) -> i64 {
        i64::try_from(self.ttl.as_secs()).unwrap_or(2).max(1)
    }
}

/// Keeps the lease alive; sets `end` once it may have lapsed.
async fn keep_alive(mut client: Client, lease: i64, ttl: Duration, end: watch::Sender<bool>) {
    let safe_for = ttl * 3 / 4;
    let mut held_until = Instant::now() + safe_for;
    let (mut keeper, mut stream) = match client.lease_keep_alive(lease).await {
        Ok(pair) => pair,
        Err(error) => {
            tracing::warn!(%error, "cannot keep the leader lease alive");
            end.send_replace(true);
            return;
        }
    };
    let every = ttl / 4;
    loop {
        if end.is_closed() || *end.borrow() {
            return;
        }
        let sent = Instant::now();
        let renewed = tokio::time::timeout(every.max(Duration::from_millis(200)), async {
            keeper.keep_alive().await?;
            stream.message().await
        })
        .await;
        match renewed {
            Ok(Ok(Some(response))) if response.ttl() > 0 => held_until = sent + safe_for,
            Ok(Ok(Some(_))) => {
                tracing::warn!("the leader lease has expired");
                end.send_replace(true);
                return;
            }
            Ok(Ok(None)) | Ok(Err(_)) | Err(_) => {
                // Reopen the stream; the lease may still be alive on the server.
                if let Ok(pair) = client.lease_keep_alive(lease).await {
                    (keeper, stream) = pair;
                }
            }
        }
        if Instant::now() >= held_until {
            tracing::warn!("no lease keep-alive answered in time: stepping down");
            end.send_replace(true);
            return;
        }
        let next = sent + every;
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            _ = end.closed() => return,
        }
    }
}

#[async_trait::async_trait]
impl Leadership for EtcdLeadership {
    async fn campaign(&self, address: &str) -> Result<Term, StoreError> {
        let ttl = self.ttl_seconds();
        let lease = retrying(|| {
            let mut client = self.client.clone();
            async move { client.lease_grant(ttl, None).await }
        })
        .await
        .map_err(|e| store_error("lease", "-", e))?
        .id();
        let (mut term, end) = Term::new(Vec::new(), 0, lease);
        let keeper = tokio::spawn(keep_alive(self.client.clone(), lease, self.ttl, end));
        let mut campaigner = self.campaigner.clone();
        let campaign = campaigner.campaign(ELECTION, address, lease);
        let response = tokio::select! {
            response = campaign => response,
            _ = term.ended() => {
                keeper.abort();
                return Err(StoreError::QuorumLost { message: "the lease lapsed while campaigning".into() });
            }
        };
        let leader = match response {
            Ok(response) => response.leader().cloned(),
            Err(error) => {
                keeper.abort();
                let _ = self.client.clone().lease_revoke(lease).await;
                return Err(store_error("campaign", "-", error));
            }
        };
        let Some(leader) = leader else {
            keeper.abort();
            return Err(StoreError::Backend {
                operation: "campaign",
                table: "-",
                message: "etcd answered the campaign without a leader key".into(),
            });
        };
        term.key = leader.key().to_vec();
        term.revision = leader.rev();
        Ok(term)
    }

    async fn resign(&self, term: &Term) -> Result<(), StoreError> {
        let leader = LeaderKey::new()
            .with_name(ELECTION)
            .with_key(term.key.clone());
        let leader = leader_with(leader, term);
        let resigned = self
            .client
            .clone()
            .resign(Some(ResignOptions::new().with_leader(leader)))
            .await;
        // Revoking the lease removes the key even when resign could not be delivered.
        let _ = self.client.clone().lease_revoke(term.lease).await;
        resigned
            .map(|_| ())
            .map_err(|e| store_error("resign", "-", e))
    }

    async fn leader(&self) -> Result<Option<String>, StoreError> {
        let leader = retrying(|| {
            let mut client = self.client.clone();
            async move { client.leader(ELECTION).await }
        })
        .await;
        match leader {
            Ok(response) => Ok(response
                .kv()
                .map(|kv| String::from_utf8_lossy(kv.value()).into_owned())),
            Err(etcd_client::Error::GRpcStatus(status))
                if status.message().contains("no leader") =>
            {
                Ok(None)
            }
            Err(error) => Err(store_error("leader", "-", error)),
        }
    }
}

fn leader_with(leader: LeaderKey, term: &Term) -> LeaderKey {
    leader.with_rev(term.revision).with_lease(term.lease)
}
