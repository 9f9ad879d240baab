//! Azure through the Resource Manager REST API (see README: why not the 0.21 `azure_mgmt_*`
//! crates): a resource group, one network security group per role, a virtual network with one
//! subnet, and per machine a static public IP, a NIC and a VM whose custom data is the cloud-init
//! document. Every resource is tagged with the cluster's name and id.
mod arm;
pub mod auth;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use serde_json::{json, Value};

use crate::error::{CloudError, Result};
use crate::provider::{
    found_or_create, sort_machines, CloudProvider, CreateReport, DestroyReport, Machine,
    MachineState, ResourceKind,
};
use crate::topology::{MachinePlan, Plan, Protocol, Role, Target, TAG_CLUSTER_ID, TAG_ROLE};
use arm::Arm;
use auth::TokenSource;

const PROVIDER: &str = "azure";
const API_RESOURCES: &str = "2021-04-01";
const API_NETWORK: &str = "2024-03-01";
const API_COMPUTE: &str = "2024-07-01";
pub const DEFAULT_ENDPOINT: &str = "https://management.azure.com";
const RUNNING_DEADLINE: Duration = Duration::from_secs(600);

/// One resource group in one subscription.
pub struct Azure {
    arm: Arm,
    subscription: String,
    resource_group: String,
    location: String,
}

impl Azure {
    pub fn new(
        endpoint: &str,
        token: Arc<dyn TokenSource>,
        subscription: &str,
        resource_group: &str,
        location: &str,
    ) -> Azure {
        Azure {
            arm: Arm::new(endpoint, token),
            subscription: subscription.to_string(),
            resource_group: resource_group.to_string(),
            location: location.to_string(),
        }
    }

    fn rg_path(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription, self.resource_group
        )
    }

    fn path(&self, kind: &str, name: &str) -> String {
        format!("{}/providers/{kind}/{name}", self.rg_path())
    }

    fn tags(plan: &Plan, role: Option<Role>) -> Value {
        Value::Object(
            plan.tags(role)
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    }

    /// Find or create one resource: GET, and PUT only when it is missing. Returns the resource
    /// and whether it was made now.
    async fn ensure(
        &self,
        report: &mut CreateReport,
        kind: ResourceKind,
        name: &str,
        path: &str,
        api: &str,
        body: Value,
    ) -> Result<(Value, bool)> {
        let step = format!("create {} {name}", kind.as_str());
        let found = self.arm.get(&step, path, api).await?;
        let put = || self.arm.put(&step, path, api, &body);
        let (value, made) = found_or_create(found, put).await?;
        report.note(kind, name, value["id"].as_str().unwrap_or(path), made);
        Ok((value, made))
    }

    async fn ensure_resource_group(&self, report: &mut CreateReport, plan: &Plan) -> Result<()> {
        let body = json!({"location": self.location, "tags": Self::tags(plan, None)});
        let (rg, path) = (&self.resource_group, self.rg_path());
        let kind = ResourceKind::ResourceGroup;
        self.ensure(report, kind, rg, &path, API_RESOURCES, body)
            .await?;
        Ok(())
    }

    /// The network security group of one role; returns its id.
    async fn ensure_nsg(
        &self,
        report: &mut CreateReport,
        plan: &Plan,
        role: Role,
    ) -> Result<String> {
        let name = Self::nsg_name(plan, role);
        let body = json!({"location": self.location, "tags": Self::tags(plan, None), "properties": {"securityRules": security_rules(plan, role)}});
        let path = self.path("Microsoft.Network/networkSecurityGroups", &name);
        let kind = ResourceKind::Firewall;
        let (nsg, _) = self
            .ensure(report, kind, &name, &path, API_NETWORK, body)
            .await?;
        Ok(nsg["id"].as_str().unwrap_or_default().to_string())
    }

    /// The virtual network with its one subnet; returns the subnet's id.
    async fn ensure_network(&self, report: &mut CreateReport, plan: &Plan) -> Result<String> {
        let body = json!({"location": self.location, "tags": Self::tags(plan, None), "properties": {
            "addressSpace": {"addressPrefixes": [plan.spec.network_cidr]},
            "subnets": [{"name": plan.subnet_name, "properties": {"addressPrefix": plan.subnet_cidr}}],
        }});
        let (name, kind) = (&plan.network_name, ResourceKind::Network);
        let path = self.path("Microsoft.Network/virtualNetworks", name);
        self.ensure(report, kind, name, &path, API_NETWORK, body)
            .await?;
        Ok(format!("{path}/subnets/{}", plan.subnet_name))
    }

    /// A machine's static public address; returns the resource.
    async fn ensure_public_ip(
        &self,
        report: &mut CreateReport,
        plan: &Plan,
        m: &MachinePlan,
    ) -> Result<Value> {
        let name = format!("{}-ip", m.name);
        let body = json!({"location": self.location, "tags": Self::tags(plan, Some(m.role)), "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}});
        let path = self.path("Microsoft.Network/publicIPAddresses", &name);
        let kind = ResourceKind::PublicIp;
        Ok(self
            .ensure(report, kind, &name, &path, API_NETWORK, body)
            .await?
            .0)
    }

    /// A machine's network interface in the subnet, behind its role's NSG; returns the resource.
    async fn ensure_nic(
        &self,
        report: &mut CreateReport,
        plan: &Plan,
        m: &MachinePlan,
        (nsg_id, subnet_id, pip): (&str, &str, &Value),
    ) -> Result<Value> {
        let name = format!("{}-nic", m.name);
        let body = json!({"location": self.location, "tags": Self::tags(plan, Some(m.role)), "properties": {
            "networkSecurityGroup": {"id": nsg_id},
            "ipConfigurations": [{"name": "ipconfig1", "properties": {
                "subnet": {"id": subnet_id}, "privateIPAllocationMethod": "Dynamic", "publicIPAddress": {"id": pip["id"]},
            }}],
        }});
        let path = self.path("Microsoft.Network/networkInterfaces", &name);
        let kind = ResourceKind::NetworkInterface;
        Ok(self
            .ensure(report, kind, &name, &path, API_NETWORK, body)
            .await?
            .0)
    }

    /// The VM; true when it was made now.
    async fn ensure_vm(
        &self,
        report: &mut CreateReport,
        plan: &Plan,
        m: &MachinePlan,
        (image, nic): (&Value, &Value),
    ) -> Result<bool> {
        let body = vm_body(plan, m, image, nic, &self.location)?;
        let path = self.path("Microsoft.Compute/virtualMachines", &m.name);
        let kind = ResourceKind::Machine;
        Ok(self
            .ensure(report, kind, &m.name, &path, API_COMPUTE, body)
            .await?
            .1)
    }

    /// The VM PUT finishes at provisioning; wait for the power state too.
    async fn wait_running(&self, launched: &[String]) -> Result<()> {
        let start = Instant::now();
        for name in launched {
            while self.power_state(name).await? != MachineState::Running {
                if start.elapsed() > RUNNING_DEADLINE {
                    return Err(CloudError::Timeout {
                        provider: PROVIDER,
                        step: format!("wait for {name} to run"),
                        seconds: RUNNING_DEADLINE.as_secs(),
                    });
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
        Ok(())
    }

    fn nsg_name(plan: &Plan, role: Role) -> String {
        format!("{}-{}-nsg", plan.spec.cluster_name, role.label())
    }

    /// The cluster's VMs in the resource group, by tag.
    async fn vms(&self, plan: &Plan) -> Result<Vec<Value>> {
        let all = self
            .arm
            .list(
                "list virtual machines",
                &format!(
                    "{}/providers/Microsoft.Compute/virtualMachines",
                    self.rg_path()
                ),
                API_COMPUTE,
            )
            .await?;
        Ok(all
            .into_iter()
            .filter(|vm| vm["tags"][TAG_CLUSTER_ID] == plan.spec.cluster_id.as_str())
            .collect())
    }

    async fn power_state(&self, name: &str) -> Result<MachineState> {
        let path = format!(
            "{}/instanceView",
            self.path("Microsoft.Compute/virtualMachines", name)
        );
        let view = self
            .arm
            .get(&format!("get state of {name}"), &path, API_COMPUTE)
            .await?
            .unwrap_or(Value::Null);
        let codes: Vec<&str> = view["statuses"]
            .as_array()
            .map(|s| s.iter().filter_map(|s| s["code"].as_str()).collect())
            .unwrap_or_default();
        Ok(
            match codes.iter().find_map(|c| c.strip_prefix("PowerState/")) {
                Some("running") => MachineState::Running,
                Some("starting") => MachineState::Pending,
                Some("stopping" | "deallocating") => MachineState::Stopping,
                Some("stopped" | "deallocated") => MachineState::Stopped,
                Some(other) => MachineState::Other(other.to_string()),
                None => MachineState::Pending,
            },
        )
    }

    async fn machine(&self, vm: &Value) -> Result<Option<Machine>> {
        let Some(role) = vm["tags"][TAG_ROLE].as_str().and_then(Role::from_label) else {
            return Ok(None);
        };
        let name = vm["name"].as_str().unwrap_or_default().to_string();
        let nic = self
            .arm
            .get(
                "get network interface",
                &self.path(
                    "Microsoft.Network/networkInterfaces",
                    &format!("{name}-nic"),
                ),
                API_NETWORK,
            )
            .await?;
        let pip = self
            .arm
            .get(
                "get public ip",
                &self.path("Microsoft.Network/publicIPAddresses", &format!("{name}-ip")),
                API_NETWORK,
            )
            .await?;
        let private_ip = nic.as_ref().and_then(|n| {
            n["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
                .as_str()
                .map(str::to_string)
        });
        let public_ip = pip
            .as_ref()
            .and_then(|p| p["properties"]["ipAddress"].as_str().map(str::to_string));
        Ok(Some(Machine {
            state: self.power_state(&name).await?,
            name,
            role,
            id: vm["id"].as_str().unwrap_or_default().to_string(),
            private_ip,
            public_ip,
        }))
    }
}

impl Azure {
    /// Everything tagged with the cluster's id, dependents first (`DELETE_ORDER`).
    async fn delete_tagged(&self, plan: &Plan, report: &mut DestroyReport) -> Result<()> {
        let filter = format!(
            "{}/resources?$filter=tagName eq '{TAG_CLUSTER_ID}' and tagValue eq '{}'",
            self.rg_path(),
            plan.spec.cluster_id
        );
        let step = "list the cluster's resources";
        let mut tagged = self.arm.list(step, &filter, API_RESOURCES).await?;
        tagged.sort_by_key(|r| {
            let t = r["type"].as_str().unwrap_or_default().to_ascii_lowercase();
            let rank = DELETE_ORDER.iter().position(|(k, _)| *k == t);
            rank.unwrap_or(DELETE_ORDER.len())
        });
        for r in &tagged {
            let id = r["id"].as_str().unwrap_or_default();
            let name = r["name"].as_str().unwrap_or(id);
            let t = r["type"].as_str().unwrap_or_default();
            let api = DELETE_ORDER.iter().find(|(k, _)| k.eq_ignore_ascii_case(t));
            let api = api.map_or(API_RESOURCES, |(_, api)| api);
            let path = id.strip_prefix(DEFAULT_ENDPOINT).unwrap_or(id);
            let result = self.arm.delete(&format!("delete {name}"), path, api).await;
            report.record(kind_of(t), name, id, result);
        }
        Ok(())
    }

    /// The resource group goes last, and only when this cluster made it.
    async fn delete_resource_group(&self, plan: &Plan, report: &mut DestroyReport) -> Result<()> {
        let path = self.rg_path();
        let rg = self
            .arm
            .get("get resource group", &path, API_RESOURCES)
            .await?;
        if rg.is_some_and(|rg| rg["tags"][TAG_CLUSTER_ID] == plan.spec.cluster_id.as_str()) {
            let step = format!("delete resource group {}", self.resource_group);
            let result = self.arm.delete(&step, &path, API_RESOURCES).await;
            let kind = ResourceKind::ResourceGroup;
            report.record(kind, &self.resource_group, &path, result);
        }
        Ok(())
    }
}

/// Marketplace images per OS family: (publisher, offer, sku).
const IMAGES: &[(&str, &str, &str, &str)] = &[
    ("rocky-9", "resf", "rockylinux-x86_64", "9-base"),
    ("alma-9", "almalinux", "almalinux-x86_64", "9-gen2"),
    ("rhel-9", "RedHat", "RHEL", "9-lvm-gen2"),
    ("centos-7", "OpenLogic", "CentOS", "7_9-gen2"),
    ("debian-12", "Debian", "debian-12", "12-gen2"),
    (
        "ubuntu-22.04",
        "Canonical",
        "0001-com-ubuntu-server-jammy",
        "22_04-lts-gen2",
    ),
    ("ubuntu-24.04", "Canonical", "ubuntu-24_04-lts", "server"),
    (
        "flatcar",
        "kinvolk",
        "flatcar-container-linux-free",
        "stable-gen2",
    ),
];

/// `cloud.image` is a resource id (`/subscriptions/...`) or a URN `publisher:offer:sku:version`.
fn image_reference(plan: &Plan) -> Result<Value> {
    if let Some(image) = &plan.spec.image {
        if image.starts_with("/subscriptions/") {
            return Ok(json!({"id": image}));
        }
        let parts: Vec<&str> = image.split(':').collect();
        if let [publisher, offer, sku, version] = parts[..] {
            return Ok(
                json!({"publisher": publisher, "offer": offer, "sku": sku, "version": version}),
            );
        }
        return Err(CloudError::api(
            PROVIDER,
            "choose image",
            format!("{image:?}: expected publisher:offer:sku:version or an image resource id"),
        ));
    }
    IMAGES
        .iter()
        .find(|i| i.0 == plan.spec.os)
        .map(|(_, publisher, offer, sku)| json!({"publisher": publisher, "offer": offer, "sku": sku, "version": "latest"}))
        .ok_or_else(|| {
            let known: Vec<_> = IMAGES.iter().map(|i| i.0).collect();
            CloudError::api(PROVIDER, "choose image", format!("no image for os {:?}; use one of {} or set cloud.image", plan.spec.os, known.join(", ")))
        })
}

/// Publishers whose images are sold through the Marketplace with a purchase plan: the VM must name
/// the plan (and the subscription must have accepted its terms once, `az vm image terms accept`).
const PLAN_PUBLISHERS: &[&str] = &["resf", "almalinux", "kinvolk"];

/// The VM's `plan` block for a Marketplace image, `None` for first-party and custom images.
fn purchase_plan(image: &Value) -> Option<Value> {
    let publisher = image["publisher"].as_str()?;
    PLAN_PUBLISHERS
        .iter()
        .any(|p| p.eq_ignore_ascii_case(publisher))
        .then(|| json!({"name": image["sku"], "product": image["offer"], "publisher": publisher}))
}

/// The VM's body: size, image, disk, the operator's key and the cloud-init document.
fn vm_body(plan: &Plan, m: &MachinePlan, image: &Value, nic: &Value, loc: &str) -> Result<Value> {
    let user = &plan.spec.ssh_user;
    let custom_data = crate::cloud_init::user_data(plan, m.role)?
        .map(|u| base64::engine::general_purpose::STANDARD.encode(u));
    let mut vm_body = json!({"location": loc, "tags": Azure::tags(plan, Some(m.role)), "properties": {
        "hardwareProfile": {"vmSize": m.instance_type},
        "storageProfile": {"imageReference": image, "osDisk": {
            "createOption": "FromImage", "diskSizeGB": m.disk_gib, "deleteOption": "Delete",
            "managedDisk": {"storageAccountType": "Premium_LRS"},
        }},
        "osProfile": {"computerName": m.name, "adminUsername": user, "customData": custom_data, "linuxConfiguration": {
            "disablePasswordAuthentication": true,
            "ssh": {"publicKeys": [{"path": format!("/home/{user}/.ssh/authorized_keys"), "keyData": plan.spec.ssh_public_key}]},
        }},
        "networkProfile": {"networkInterfaces": [{"id": nic["id"], "properties": {"primary": true, "deleteOption": "Delete"}}]},
    }});
    if let Some(purchase) = purchase_plan(image) {
        vm_body["plan"] = purchase;
    }
    if custom_data.is_none() {
        // Flatcar: no cloud-config; ARM refuses a null customData.
        vm_body["properties"]["osProfile"]
            .as_object_mut()
            .map(|o| o.remove("customData"));
    }
    Ok(vm_body)
}

fn security_rules(plan: &Plan, role: Role) -> Vec<Value> {
    plan.rules
        .iter()
        .filter(|r| r.target == Target::AllNodes || r.target == Target::Role(role))
        .map(|r| {
            let ports: Vec<String> = if r.ports.is_empty() {
                vec!["*".into()]
            } else {
                r.ports.iter().map(|(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") }).collect()
            };
            let protocol = match r.protocol {
                Protocol::Tcp => "Tcp",
                Protocol::Udp => "Udp",
                Protocol::Icmp => "Icmp",
                Protocol::All => "*",
            };
            json!({"name": r.name, "properties": {
                "priority": r.priority, "direction": "Inbound", "access": "Allow", "protocol": protocol,
                "sourceAddressPrefixes": r.sources, "sourcePortRange": "*",
                "destinationAddressPrefix": "*", "destinationPortRanges": ports,
            }})
        })
        .collect()
}

/// Order in which destroy deletes resource types: dependents first.
const DELETE_ORDER: &[(&str, &str)] = &[
    ("microsoft.compute/virtualmachines", API_COMPUTE),
    ("microsoft.compute/disks", API_COMPUTE),
    ("microsoft.network/networkinterfaces", API_NETWORK),
    ("microsoft.network/publicipaddresses", API_NETWORK),
    ("microsoft.network/virtualnetworks", API_NETWORK),
    ("microsoft.network/networksecuritygroups", API_NETWORK),
];

fn kind_of(resource_type: &str) -> ResourceKind {
    match resource_type.to_ascii_lowercase().as_str() {
        "microsoft.compute/virtualmachines" => ResourceKind::Machine,
        "microsoft.network/networkinterfaces" => ResourceKind::NetworkInterface,
        "microsoft.network/publicipaddresses" => ResourceKind::PublicIp,
        "microsoft.network/virtualnetworks" => ResourceKind::Network,
        "microsoft.network/networksecuritygroups" => ResourceKind::Firewall,
        _ => ResourceKind::Machine,
    }
}

#[async_trait]
impl CloudProvider for Azure {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    async fn create(&self, plan: &Plan) -> Result<CreateReport> {
        let mut report = CreateReport::default();
        let image = image_reference(plan)?;
        self.ensure_resource_group(&mut report, plan).await?;
        let mut nsgs = Vec::new();
        for role in Role::ALL {
            nsgs.push((role, self.ensure_nsg(&mut report, plan, role).await?));
        }
        let subnet_id = self.ensure_network(&mut report, plan).await?;
        let mut launched = Vec::new();
        for m in &plan.machines {
            let pip = self.ensure_public_ip(&mut report, plan, m).await?;
            let nsg_id = nsgs
                .iter()
                .find(|(r, _)| *r == m.role)
                .map(|(_, id)| id.as_str());
            let net = (nsg_id.unwrap_or_default(), subnet_id.as_str(), &pip);
            let nic = self.ensure_nic(&mut report, plan, m, net).await?;
            if self.ensure_vm(&mut report, plan, m, (&image, &nic)).await? {
                launched.push(m.name.clone());
            }
        }
        self.wait_running(&launched).await?;
        report.machines = self.status(plan).await?;
        Ok(report)
    }

    async fn status(&self, plan: &Plan) -> Result<Vec<Machine>> {
        let mut machines = Vec::new();
        for vm in self.vms(plan).await? {
            machines.extend(self.machine(&vm).await?);
        }
        sort_machines(&mut machines);
        Ok(machines)
    }

    async fn destroy(&self, plan: &Plan) -> Result<DestroyReport> {
        let mut report = DestroyReport::default();
        self.delete_tagged(plan, &mut report).await?;
        self.delete_resource_group(plan, &mut report).await?;
        Ok(report)
    }
}
