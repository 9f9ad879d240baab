//! A master of several: state and leadership on the cluster's etcd (crate strato-etcd).

use std::sync::Arc;
use std::time::Duration;

use strato_etcd::{EtcdLeadership, EtcdOptions, EtcdStore};

use crate::agent_client::AgentClient;
use crate::config::MasterConfig;
use crate::error::MasterError;
use crate::master::{Master, MemberHealth, Members};

/// How long one etcd request may take before the store counts as unavailable: short, so a
/// write without quorum fails fast (503) instead of hanging the API.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

struct EtcdMembers(EtcdOptions);

#[async_trait::async_trait]
impl Members for EtcdMembers {
    async fn health(&self) -> Result<Vec<MemberHealth>, String> {
        strato_etcd::member_health(&self.0)
            .await
            .map(|members| {
                members
                    .into_iter()
                    .map(|m| MemberHealth {
                        name: m.name,
                        client_url: m.client_url,
                        healthy: m.healthy,
                    })
                    .collect()
            })
            .map_err(|e| e.to_string())
    }
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, MasterError> {
    std::fs::read(path).map_err(|e| MasterError::Config {
        message: format!("cannot read {}: {e}", path.display()),
    })
}

pub(crate) async fn master_on_etcd(
    config: MasterConfig,
    tls: Option<&strato_tls::MemberTls>,
    agents: Arc<dyn AgentClient>,
) -> Result<Arc<Master>, MasterError> {
    let files = config
        .etcd_tls_files()
        .map_err(|message| MasterError::Config { message })?;
    let pem = match &files {
        Some(files) => Some((read(&files.ca)?, read(&files.cert)?, read(&files.key)?)),
        None => None,
    };
    let options = EtcdOptions {
        endpoints: strato_etcd::prefer_local(&config.etcd_endpoints, &config.advertise_ip),
        tls: pem,
        request_timeout: REQUEST_TIMEOUT,
    };
    let client = strato_etcd::connect(&options, Some(REQUEST_TIMEOUT)).await?;
    let campaigner = strato_etcd::connect(&options, None).await?;
    let ttl = Duration::from_secs(config.election_ttl_seconds.max(1));
    let leadership = EtcdLeadership::new(campaigner, client.clone(), ttl);
    // The leader is believed only with a master certificate.
    let leader_http = match tls {
        Some(identity) => {
            strato_tls::member_client_builder(identity, &[strato_tls::MemberRole::Master])
                .map_err(|e| MasterError::Config {
                    message: e.to_string(),
                })?
                .timeout(Duration::from_secs(30))
                // A dead leader's address does not answer at all: give up fast and answer
                // locally (reads) or 503 (writes) rather than hang the caller.
                .connect_timeout(Duration::from_secs(1))
                .build()
                .map_err(|e| MasterError::Config {
                    message: e.to_string(),
                })?
        }
        None => strato_tls::client(),
    };
    let store = Arc::new(EtcdStore::new(client));
    let master = Master::with_leadership(
        config,
        store,
        agents,
        Arc::new(leadership),
        Some(Arc::new(EtcdMembers(options))),
        leader_http,
    )
    .await?;
    Ok(master)
}
