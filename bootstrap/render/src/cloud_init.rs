//! cloud-init user-data for cloud machines: prepares the login user `strato deploy` connects as.
use serde::Serialize;
use tera::Context;

use crate::engine::{engine, render};
use crate::error::RenderError;

/// What a machine's user-data needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloudInitInput {
    pub cluster_name: String,
    /// `bootstrap`, `master`, `agent` or `public_agent`; recorded in /etc/strato-node.
    pub role: String,
    /// The SSH login user (cluster.yaml `ssh.user`), given passwordless sudo.
    pub user: String,
    /// Public keys (`ssh-ed25519 AAAA… comment`) allowed to log in as `user`.
    pub ssh_authorized_keys: Vec<String>,
}

/// Renders `#cloud-config` user-data. Fedora CoreOS and Flatcar read Ignition instead; the cloud
/// provider code must not pass this to them.
pub fn render_cloud_init(input: &CloudInitInput) -> Result<String, RenderError> {
    let invalid = |key, message: String| Err(RenderError::InvalidValue { key, message });
    let user_ok = !input.user.is_empty()
        && input
            .user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !user_ok {
        return invalid("ssh.user", format!("{:?} is not a login name", input.user));
    }
    if input.ssh_authorized_keys.is_empty() {
        return invalid("cloud.ssh_public_key", "no public key to authorize".into());
    }
    if let Some(key) = input
        .ssh_authorized_keys
        .iter()
        .find(|k| k.contains('\n') || !k.starts_with("ssh-") && !k.starts_with("ecdsa-"))
    {
        return invalid(
            "cloud.ssh_public_key",
            format!("{key:?} is not one OpenSSH public key line"),
        );
    }
    let tera = engine()?;
    let context = Context::from_serialize(input).expect("CloudInitInput is a plain struct");
    render(&tera, "cloud-init/node.yaml.tera", &context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CloudInitInput {
        CloudInitInput {
            cluster_name: "demo".into(),
            role: "master".into(),
            user: "centos".into(),
            ssh_authorized_keys: vec![
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample op@laptop".into()
            ],
        }
    }

    #[test]
    fn cloud_init_is_yaml_that_authorizes_the_key_for_the_user() {
        let text = render_cloud_init(&input()).expect("renders");
        assert!(text.starts_with("#cloud-config\n"));
        let doc: serde_json::Value = serde_yaml_like(&text);
        assert_eq!(doc["users"][1]["name"], "centos");
        assert_eq!(
            doc["users"][1]["ssh_authorized_keys"][0],
            input().ssh_authorized_keys[0]
        );
        assert_eq!(doc["users"][1]["sudo"], "ALL=(ALL) NOPASSWD:ALL");
    }

    #[test]
    fn cloud_init_refuses_a_multi_line_key() {
        let mut bad = input();
        bad.ssh_authorized_keys = vec!["ssh-ed25519 AAAA\nruncmd: [reboot]".into()];
        let err = render_cloud_init(&bad).expect_err("refused");
        assert!(err.to_string().contains("cloud.ssh_public_key"), "{err}");
    }

    /// Parses the YAML through yaml_serde (dev-dependency) into JSON values for easy indexing.
    fn serde_yaml_like(text: &str) -> serde_json::Value {
        yaml_serde::from_str(text).expect("valid YAML")
    }
}
