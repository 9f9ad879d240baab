//! Choosing and connecting the provider named in `cloud.provider`, with endpoint overrides for
//! local fakes taken from the environment.
use std::sync::Arc;

use crate::aws::{Aws, AwsOptions};
use crate::azure::auth::{IdentityChain, StaticToken, TokenSource};
use crate::azure::{Azure, DEFAULT_ENDPOINT};
use crate::error::{CloudError, Result};
use crate::gcp::{Gcp, GcpOptions};
use crate::provider::CloudProvider;
use crate::spec::{ClusterSpec, Location};

/// Where each provider's API is, when not the public cloud (tests, emulators, sovereign clouds).
#[derive(Debug, Clone, Default)]
pub struct ProviderEnv {
    /// `AWS_ENDPOINT_URL` is also honoured by the AWS SDK itself; this one wins when set.
    pub aws_endpoint: Option<String>,
    /// `STRATO_AZURE_ENDPOINT`: ARM base URL.
    pub azure_endpoint: Option<String>,
    /// `STRATO_AZURE_TOKEN`: a bearer token to use instead of the credential chain.
    pub azure_token: Option<String>,
    /// `AZURE_SUBSCRIPTION_ID`: the subscription the resource group goes in.
    pub azure_subscription: Option<String>,
    /// `STRATO_GCP_ENDPOINT`: Compute Engine base URL.
    pub gcp_endpoint: Option<String>,
    /// `STRATO_GCP_ANONYMOUS=1`: send no credentials (only for a local fake).
    pub gcp_anonymous: bool,
}

impl ProviderEnv {
    pub fn from_env() -> ProviderEnv {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        ProviderEnv {
            aws_endpoint: var("STRATO_AWS_ENDPOINT"),
            azure_endpoint: var("STRATO_AZURE_ENDPOINT"),
            azure_token: var("STRATO_AZURE_TOKEN"),
            azure_subscription: var("AZURE_SUBSCRIPTION_ID"),
            gcp_endpoint: var("STRATO_GCP_ENDPOINT"),
            gcp_anonymous: var("STRATO_GCP_ANONYMOUS").is_some_and(|v| v == "1" || v == "true"),
        }
    }
}

/// The provider for `spec`, with credentials checked where the provider allows it up front.
pub async fn connect(spec: &ClusterSpec, env: &ProviderEnv) -> Result<Box<dyn CloudProvider>> {
    Ok(match &spec.location {
        Location::Aws { region } => Box::new(
            Aws::connect(
                region,
                AwsOptions {
                    endpoint: env.aws_endpoint.clone(),
                },
            )
            .await?,
        ),
        Location::Azure {
            location,
            resource_group,
        } => {
            let subscription = env.azure_subscription.clone().ok_or_else(|| {
                CloudError::Credentials("no Azure subscription: set AZURE_SUBSCRIPTION_ID (the subscription to create the machines in)".into())
            })?;
            let token: Arc<dyn TokenSource> = match &env.azure_token {
                Some(t) => Arc::new(StaticToken(t.clone())),
                None => Arc::new(IdentityChain::from_env()?),
            };
            let endpoint = env.azure_endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
            Box::new(Azure::new(
                endpoint,
                token,
                &subscription,
                resource_group,
                location,
            ))
        }
        Location::Gcp { project, zone } => Box::new(
            Gcp::connect(
                project,
                zone,
                GcpOptions {
                    endpoint: env.gcp_endpoint.clone(),
                    anonymous: env.gcp_anonymous,
                },
            )
            .await?,
        ),
    })
}
