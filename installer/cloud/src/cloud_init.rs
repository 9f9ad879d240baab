//! The cloud-init document every machine boots with, rendered by `strato-render` from
//! `templates/cloud-init/node.yaml.tera`: it creates the login user `strato deploy` connects as,
//! with passwordless sudo and the operator's key.
use crate::error::{CloudError, Result};
use crate::topology::{Plan, Role};

/// The `#cloud-config` user data for one machine, or `None` on Flatcar, which reads Ignition, not
/// cloud-config: there the provider's own key injection (key pair, `ssh-keys` metadata, the VM's
/// admin user) prepares the login user.
pub fn user_data(plan: &Plan, role: Role) -> Result<Option<String>> {
    if plan.spec.os == "flatcar" {
        return Ok(None);
    }
    let input = strato_render::CloudInitInput {
        cluster_name: plan.spec.cluster_name.clone(),
        role: role.as_str().to_string(),
        user: plan.spec.ssh_user.clone(),
        ssh_authorized_keys: vec![plan.spec.ssh_public_key.clone()],
    };
    strato_render::render_cloud_init(&input)
        .map(Some)
        .map_err(|e| CloudError::Invalid(format!("cloud-init for {role} machines: {e}")))
}
