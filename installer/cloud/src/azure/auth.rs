//! Bearer tokens for Azure Resource Manager, from the official `azure_identity` credentials.
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;

use crate::error::{CloudError, Result};

const SCOPE: &str = "https://management.azure.com/.default";

/// Something that hands out ARM bearer tokens (a seam, so tests use a fixed one).
#[async_trait]
pub trait TokenSource: Send + Sync {
    async fn token(&self) -> Result<String>;
}

/// A fixed token (fake servers in tests; `STRATO_AZURE_TOKEN`).
pub struct StaticToken(pub String);

#[async_trait]
impl TokenSource for StaticToken {
    async fn token(&self) -> Result<String> {
        Ok(self.0.clone())
    }
}

/// The standard chain, in the order Azure's own tools use: a service principal secret from the
/// environment, workload identity (federated token file), then the developer's `az` / `azd` login.
pub struct IdentityChain {
    credential: Arc<dyn TokenCredential>,
    source: &'static str,
}

pub const LOOKED_AT: &str = "AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE (workload identity), and the Azure CLI / Azure Developer CLI login (`az login`)";

impl IdentityChain {
    pub fn from_env() -> Result<IdentityChain> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let unusable = |e: azure_core::Error| {
            CloudError::Credentials(format!(
                "no usable Azure credentials: looked at {LOOKED_AT} ({e})"
            ))
        };
        if let (Some(tenant), Some(client), Some(secret)) = (
            var("AZURE_TENANT_ID"),
            var("AZURE_CLIENT_ID"),
            var("AZURE_CLIENT_SECRET"),
        ) {
            let credential =
                azure_identity::ClientSecretCredential::new(&tenant, client, secret.into(), None)
                    .map_err(unusable)?;
            return Ok(IdentityChain {
                credential,
                source: "AZURE_CLIENT_SECRET",
            });
        }
        if var("AZURE_FEDERATED_TOKEN_FILE").is_some() {
            let credential =
                azure_identity::WorkloadIdentityCredential::new(None).map_err(unusable)?;
            return Ok(IdentityChain {
                credential,
                source: "AZURE_FEDERATED_TOKEN_FILE",
            });
        }
        let credential = azure_identity::DeveloperToolsCredential::new(None).map_err(unusable)?;
        Ok(IdentityChain {
            credential,
            source: "az login",
        })
    }
}

#[async_trait]
impl TokenSource for IdentityChain {
    async fn token(&self) -> Result<String> {
        let token = self
            .credential
            .get_token(&[SCOPE], None)
            .await
            .map_err(|e| {
                CloudError::Credentials(format!(
                    "no usable Azure credentials: looked at {LOOKED_AT}; {} failed: {e}",
                    self.source
                ))
            })?;
        Ok(token.token.secret().to_string())
    }
}
