//! GCP with the official `google-cloud-compute-v1`: a custom-mode VPC network and one subnetwork,
//! firewall rules aimed at network tags, and one instance per machine with an external address,
//! the operator's key in `ssh-keys` metadata and the cloud-init document in `user-data`.
//!
//! Credentials come from Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, the
//! gcloud ADC file, the metadata server). Networks and firewalls carry no labels in GCE, so they
//! are named after the cluster and carry its id in their description; instances are labelled.
//! Request bodies are built as the REST API's JSON and converted to the SDK's models, so they read
//! like the API documentation.
mod create;
mod destroy;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use google_cloud_compute_v1::client::{Firewalls, Instances, Networks, Subnetworks};
use google_cloud_compute_v1::model::Operation;
use google_cloud_lro::Poller;
use serde_json::Value;

use crate::error::{CloudError, Result};
use crate::provider::{
    sort_machines, CloudProvider, CreateReport, DestroyReport, Machine, MachineState,
};
use crate::topology::{Plan, Role, Target, TAG_CLUSTER, TAG_CLUSTER_ID, TAG_ROLE};

const PROVIDER: &str = "gcp";
/// Long-running operations (inserts, deletes) and the wait for RUNNING.
const OPERATION_DEADLINE: Duration = Duration::from_secs(600);

/// Options the command line passes in (tests point `endpoint` at a fake and go anonymous).
#[derive(Debug, Clone, Default)]
pub struct GcpOptions {
    pub endpoint: Option<String>,
    pub anonymous: bool,
}

/// Compute Engine in one project and zone.
pub struct Gcp {
    project: String,
    zone: String,
    region: String,
    networks: Networks,
    subnetworks: Subnetworks,
    firewalls: Firewalls,
    instances: Instances,
}

fn missing_credentials(detail: &str) -> CloudError {
    CloudError::Credentials(format!(
        "no usable Google Cloud credentials: looked at GOOGLE_APPLICATION_CREDENTIALS, the gcloud application default credentials file (`gcloud auth application-default login`) and the GCE metadata server ({detail})"
    ))
}

impl Gcp {
    pub async fn connect(project: &str, zone: &str, options: GcpOptions) -> Result<Gcp> {
        let region = zone
            .rsplit_once('-')
            .map(|(r, _)| r.to_string())
            .filter(|r| r.contains('-'))
            .ok_or_else(|| {
                CloudError::api(
                    PROVIDER,
                    "zone",
                    format!("{zone:?} is not a Compute Engine zone (e.g. europe-west1-b)"),
                )
            })?;
        let credentials = if options.anonymous {
            google_cloud_auth::credentials::anonymous::Builder::new().build()
        } else {
            google_cloud_auth::credentials::Builder::default()
                .build()
                .map_err(|e| missing_credentials(&e.to_string()))?
        };
        macro_rules! client {
            ($ty:ty) => {{
                let mut b = <$ty>::builder()
                    .with_credentials(credentials.clone())
                    .with_polling_backoff_policy(polling()?);
                if let Some(endpoint) = &options.endpoint {
                    b = b.with_endpoint(endpoint.clone());
                }
                b.build()
                    .await
                    .map_err(|e| CloudError::api(PROVIDER, "connect", e.to_string()))?
            }};
        }
        Ok(Gcp {
            project: project.to_string(),
            zone: zone.to_string(),
            region,
            networks: client!(Networks),
            subnetworks: client!(Subnetworks),
            firewalls: client!(Firewalls),
            instances: client!(Instances),
        })
    }

    fn network_link(&self, plan: &Plan) -> String {
        format!(
            "projects/{}/global/networks/{}",
            self.project, plan.network_name
        )
    }

    /// The cluster's instances in the zone, by label.
    async fn list_instances(&self, plan: &Plan) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .instances
                .list()
                .set_project(&self.project)
                .set_zone(&self.zone)
                .set_or_clear_page_token(token.clone())
                .send()
                .await
                .map_err(|e| fail("list instances", e))?;
            // Filtered here rather than with the API's `filter`: its syntax for hyphenated label
            // keys is not something to bet teardown on.
            out.extend(
                page.items
                    .iter()
                    .map(to_json)
                    .filter(|i| i["labels"][TAG_CLUSTER_ID] == plan.spec.cluster_id.as_str()),
            );
            token = page.next_page_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Wait until every named instance reports RUNNING.
    async fn wait_running(&self, names: &[String]) -> Result<()> {
        let start = Instant::now();
        let mut delay = Duration::from_millis(200);
        for name in names {
            loop {
                let inst = self
                    .instances
                    .get()
                    .set_project(&self.project)
                    .set_zone(&self.zone)
                    .set_instance(name)
                    .send()
                    .await;
                let inst = inst.map_err(|e| fail(format!("get instance {name}"), e))?;
                if to_json(&inst)["status"] == "RUNNING" {
                    break;
                }
                if start.elapsed() > OPERATION_DEADLINE {
                    return Err(CloudError::Timeout {
                        provider: PROVIDER,
                        step: format!("wait for {name} to run"),
                        seconds: OPERATION_DEADLINE.as_secs(),
                    });
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
        Ok(())
    }
}

/// Operations usually finish in seconds: look early, then back off to 10 s.
fn polling() -> Result<google_cloud_gax::exponential_backoff::ExponentialBackoff> {
    google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder::new()
        .with_initial_delay(Duration::from_millis(250))
        .with_maximum_delay(Duration::from_secs(10))
        .build()
        .map_err(|e| CloudError::api(PROVIDER, "connect", e.to_string()))
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn model<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| CloudError::api(PROVIDER, format!("build {what} request"), e.to_string()))
}

fn fail(step: impl Into<String>, err: google_cloud_compute_v1::Error) -> CloudError {
    let step = step.into();
    if err.is_authentication() || matches!(err.http_status_code(), Some(401)) {
        return missing_credentials(&err.to_string());
    }
    let message = err.status().map_or_else(
        || err.to_string(),
        |s| format!("{:?}: {}", s.code, s.message),
    );
    CloudError::api(PROVIDER, step, message)
}

/// A GET's answer: the resource, `None` when it does not exist, or the failure of `step`.
fn exists<T>(got: Result<T, google_cloud_compute_v1::Error>, step: &str) -> Result<Option<T>> {
    match got {
        Ok(found) => Ok(Some(found)),
        Err(e) if e.http_status_code() == Some(404) => Ok(None),
        Err(e) => Err(fail(step, e)),
    }
}

/// Wait for a long-running operation, with a deadline; an operation that ends in error fails.
async fn finish<P>(step: String, poller: P) -> Result<()>
where
    P: Poller<Operation, Operation>,
{
    match tokio::time::timeout(OPERATION_DEADLINE, poller.until_done()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(fail(step, e)),
        Err(_) => Err(CloudError::Timeout {
            provider: PROVIDER,
            step,
            seconds: OPERATION_DEADLINE.as_secs(),
        }),
    }
}

/// `strato-cluster=<name> strato-cluster-id=<id>`: the tag of resources that take no labels.
fn description(plan: &Plan) -> String {
    format!(
        "{TAG_CLUSTER}={} {TAG_CLUSTER_ID}={}",
        plan.spec.cluster_name, plan.spec.cluster_id
    )
}

fn ours(plan: &Plan, resource: &Value) -> bool {
    resource["description"]
        .as_str()
        .is_some_and(|d| d.contains(&format!("{TAG_CLUSTER_ID}={}", plan.spec.cluster_id)))
}

/// Network tag that firewall rules target.
fn network_tag(plan: &Plan, target: Target) -> String {
    match target {
        Target::AllNodes => plan.spec.cluster_name.clone(),
        Target::Role(role) => format!("{}-{}", plan.spec.cluster_name, role.label()),
    }
}

/// Public images per OS family: (image project, family).
const IMAGES: &[(&str, &str, &str)] = &[
    ("rocky-9", "rocky-linux-cloud", "rocky-linux-9"),
    ("alma-9", "almalinux-cloud", "almalinux-9"),
    ("rhel-9", "rhel-cloud", "rhel-9"),
    ("centos-stream-9", "centos-cloud", "centos-stream-9"),
    ("centos-7", "centos-cloud", "centos-7"),
    ("debian-12", "debian-cloud", "debian-12"),
    ("ubuntu-22.04", "ubuntu-os-cloud", "ubuntu-2204-lts"),
    ("ubuntu-24.04", "ubuntu-os-cloud", "ubuntu-2404-lts-amd64"),
    ("flatcar", "kinvolk-public", "flatcar-stable"),
];

fn source_image(plan: &Plan) -> Result<String> {
    if let Some(image) = &plan.spec.image {
        return Ok(image.clone());
    }
    IMAGES
        .iter()
        .find(|i| i.0 == plan.spec.os)
        .map(|(_, project, family)| format!("projects/{project}/global/images/family/{family}"))
        .ok_or_else(|| {
            let known: Vec<_> = IMAGES.iter().map(|i| i.0).collect();
            CloudError::api(
                PROVIDER,
                "choose image",
                format!(
                    "no image family for os {:?}; use one of {} or set cloud.image",
                    plan.spec.os,
                    known.join(", ")
                ),
            )
        })
}

#[async_trait]
impl CloudProvider for Gcp {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    async fn create(&self, plan: &Plan) -> Result<CreateReport> {
        create::run(self, plan).await
    }

    async fn status(&self, plan: &Plan) -> Result<Vec<Machine>> {
        let mut machines: Vec<Machine> = self
            .list_instances(plan)
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

/// An instance (as REST JSON) as a [`Machine`].
fn machine(inst: &Value) -> Option<Machine> {
    let role = Role::from_label(inst["labels"][TAG_ROLE].as_str()?)?;
    let state = match inst["status"].as_str().unwrap_or("") {
        "PROVISIONING" | "STAGING" => MachineState::Pending,
        "RUNNING" => MachineState::Running,
        "STOPPING" | "SUSPENDING" => MachineState::Stopping,
        "STOPPED" | "SUSPENDED" => MachineState::Stopped,
        "TERMINATED" => MachineState::Stopped,
        other => MachineState::Other(other.to_lowercase()),
    };
    let nic = &inst["networkInterfaces"][0];
    Some(Machine {
        name: inst["name"].as_str().unwrap_or_default().to_string(),
        role,
        id: inst["selfLink"]
            .as_str()
            .or(inst["id"].as_str())
            .unwrap_or_default()
            .to_string(),
        state,
        private_ip: nic["networkIP"].as_str().map(str::to_string),
        public_ip: nic["accessConfigs"][0]["natIP"]
            .as_str()
            .map(str::to_string),
    })
}
