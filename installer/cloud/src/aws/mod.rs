//! AWS with the official `aws-sdk-ec2`: a VPC, internet gateway, public subnet and route table,
//! one security group per rule target, an imported key pair, and one EC2 instance per machine.
//!
//! Credentials and region come from the standard AWS chain (environment, profiles, SSO, web
//! identity, container and instance metadata); `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_EC2` point
//! it elsewhere (moto in the tests).
mod create;
mod destroy;
mod images;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_sdk_ec2::config::{ProvideCredentials, Region};
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    Filter, Instance, InstanceStateName, ResourceType, Tag, TagSpecification,
};
use aws_sdk_ec2::Client;

use crate::error::{CloudError, Result};
use crate::provider::{
    sort_machines, CloudProvider, CreateReport, DestroyReport, Machine, MachineState,
};
use crate::topology::{Plan, Role, TAG_CLUSTER_ID, TAG_ROLE};

const PROVIDER: &str = "aws";

/// Regions EC2 offers (checked before any call: a typo otherwise surfaces as a DNS failure).
const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// Options the command line passes in (tests point `endpoint` at moto).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub endpoint: Option<String>,
}

/// EC2 in one region.
pub struct Aws {
    client: Client,
    region: String,
}

impl Aws {
    /// Load credentials from the standard chain and check there are some before doing anything.
    pub async fn connect(region: &str, options: AwsOptions) -> Result<Aws> {
        if !REGIONS.contains(&region) {
            return Err(CloudError::api(
                PROVIDER,
                "region",
                format!("{region:?} is not an AWS region (e.g. us-east-1, eu-west-1)"),
            ));
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            // Throttling (RequestLimitExceeded) is retried by the SDK with exponential backoff.
            .retry_config(RetryConfig::standard().with_max_attempts(8));
        if let Some(endpoint) = options.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let conf = loader.load().await;
        let missing = || {
            CloudError::Credentials(
                "no AWS credentials found: looked at AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws/credentials + ~/.aws/config (incl. SSO), AWS_WEB_IDENTITY_TOKEN_FILE, and the ECS/EC2 instance metadata service".into(),
            )
        };
        let provider = conf.credentials_provider().ok_or_else(missing)?;
        provider
            .provide_credentials()
            .await
            .map_err(|_| missing())?;
        Ok(Aws {
            client: Client::new(&conf),
            region: region.to_string(),
        })
    }

    /// Instances of the cluster that are not terminated (or shutting down).
    async fn instances(&self, plan: &Plan) -> Result<Vec<Instance>> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .describe_instances()
            .filters(tag_filter(TAG_CLUSTER_ID, &plan.spec.cluster_id))
            .filters(
                Filter::builder()
                    .name("instance-state-name")
                    .values("pending")
                    .values("running")
                    .values("stopping")
                    .values("stopped")
                    .build(),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| fail("list instances", e))?;
            out.extend(
                page.reservations()
                    .iter()
                    .flat_map(|r| r.instances().iter().cloned()),
            );
        }
        Ok(out)
    }
}

#[async_trait]
impl CloudProvider for Aws {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    async fn create(&self, plan: &Plan) -> Result<CreateReport> {
        create::run(self, plan).await
    }

    async fn status(&self, plan: &Plan) -> Result<Vec<Machine>> {
        let mut machines: Vec<Machine> = self
            .instances(plan)
            .await?
            .iter()
            .filter_map(machine)
            .collect();
        sort_machines(&mut machines);
        Ok(machines)
    }

    async fn destroy(&self, plan: &Plan) -> Result<DestroyReport> {
        destroy::run(self, plan).await
    }
}

/// An EC2 instance as a [`Machine`] (None when it lacks our role tag).
fn machine(instance: &Instance) -> Option<Machine> {
    let tags = tag_map(instance.tags());
    let role = Role::from_label(tags.get(TAG_ROLE)?)?;
    let state = match instance.state().and_then(|s| s.name()) {
        Some(InstanceStateName::Pending) => MachineState::Pending,
        Some(InstanceStateName::Running) => MachineState::Running,
        Some(InstanceStateName::Stopping) | Some(InstanceStateName::ShuttingDown) => {
            MachineState::Stopping
        }
        Some(InstanceStateName::Stopped) => MachineState::Stopped,
        Some(InstanceStateName::Terminated) => MachineState::Terminated,
        other => {
            MachineState::Other(other.map_or("unknown".to_string(), |s| s.as_str().to_string()))
        }
    };
    Some(Machine {
        name: tags.get("Name").cloned().unwrap_or_default(),
        role,
        id: instance.instance_id().unwrap_or_default().to_string(),
        state,
        private_ip: instance.private_ip_address().map(str::to_string),
        public_ip: instance.public_ip_address().map(str::to_string),
    })
}

fn tag_map(tags: &[Tag]) -> HashMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect()
}

fn tag_filter(key: &str, value: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{key}"))
        .values(value)
        .build()
}

/// Tags for one resource: the cluster's, the role's, and `Name` (what the console shows).
fn tag_spec(plan: &Plan, kind: ResourceType, name: &str, role: Option<Role>) -> TagSpecification {
    let mut builder = TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key("Name").value(name).build());
    for (k, v) in plan.tags(role) {
        builder = builder.tags(Tag::builder().key(k).value(v).build());
    }
    builder.build()
}

/// An SDK error as a [`CloudError`], with AWS's code and message (or the transport failure).
fn fail<E, R>(step: impl Into<String>, err: SdkError<E, R>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let step = step.into();
    match (err.code(), err.message()) {
        (Some(code), message) if is_auth(code) => CloudError::Credentials(format!(
            "AWS rejected the credentials while trying to {step} ({code}: {}); check AWS_PROFILE / AWS_ACCESS_KEY_ID and the account's permissions",
            message.unwrap_or("no detail")
        )),
        (Some(code), Some(message)) => CloudError::api(PROVIDER, step, format!("{code}: {message}")),
        (Some(code), None) => CloudError::api(PROVIDER, step, code.to_string()),
        _ => CloudError::api(PROVIDER, step, DisplayErrorContext(&err).to_string()),
    }
}

fn is_auth(code: &str) -> bool {
    matches!(
        code,
        "AuthFailure"
            | "UnauthorizedOperation"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "OptInRequired"
    )
}

/// The error code of an SDK error, for deciding whether to retry or ignore.
fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> &str {
    err.code().unwrap_or("")
}
