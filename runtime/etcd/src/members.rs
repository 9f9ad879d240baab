//! The etcd members and whether each answers (`/strato/v1/ha`, `strato postflight`).

use std::time::Duration;

use strato_store::StoreError;

use crate::connection::{connect, EtcdOptions};
use crate::error::store_error;

/// One member as the master reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberHealth {
    pub name: String,
    pub client_url: String,
    /// It answered a status request within a second.
    pub healthy: bool,
}

/// Lists the members (through any member that answers) and asks each one for its status.
pub async fn member_health(options: &EtcdOptions) -> Result<Vec<MemberHealth>, StoreError> {
    let mut client = connect(options, Some(options.request_timeout)).await?;
    let members = client
        .member_list()
        .await
        .map_err(|e| store_error("member list", "-", e))?;
    let mut out = Vec::new();
    for member in members.members() {
        let client_url = member.client_urls().first().cloned().unwrap_or_default();
        let one = EtcdOptions {
            endpoints: vec![client_url.clone()],
            tls: options.tls.clone(),
            request_timeout: Duration::from_secs(1),
        };
        let healthy = match connect(&one, Some(one.request_timeout)).await {
            Ok(mut client) => client.status().await.is_ok(),
            Err(_) => false,
        };
        out.push(MemberHealth {
            name: member.name().to_string(),
            client_url,
            healthy,
        });
    }
    Ok(out)
}
