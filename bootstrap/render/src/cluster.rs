//! From `strato_config::Cluster` to `RenderInput`: the one place render reads the cluster model.
use strato_config::{Bootstrap, Cluster};

use crate::error::RenderError;
use crate::input::{GatewayInput, IpDetect, LabelledAgent, RenderInput, RenderOptions};
use crate::tree::{render_input, RenderedTree};

/// The port `strato-bootstrap` serves the tree on; nodes' default URL is `http://<bootstrap>:8090`.
pub const BOOTSTRAP_HTTP_PORT: u16 = 8090;

/// The default URL of the serve tree for a cluster: its bootstrap host over HTTPS (a
/// certificate of the cluster CA, `bootstrap/src/serving_cert.rs`) on [`BOOTSTRAP_HTTP_PORT`], or `None` for `bootstrap: local` (and cloud clusters before
/// `strato cloud create`), whose nodes are given the URL when installed.
pub fn bootstrap_url(cluster: &Cluster) -> Option<String> {
    match cluster.bootstrap.as_ref()? {
        Bootstrap::Local => None,
        Bootstrap::Host(host) if host.contains(':') => {
            Some(format!("https://[{host}]:{BOOTSTRAP_HTTP_PORT}"))
        }
        Bootstrap::Host(host) => Some(format!("https://{host}:{BOOTSTRAP_HTTP_PORT}")),
    }
}

impl RenderInput {
    /// What rendering needs from `cluster`. A script `ip_detect` takes its content from
    /// `options.ip_detect_script` (the caller reads the file; rendering does no I/O).
    pub fn from_cluster(cluster: &Cluster, options: &RenderOptions) -> RenderInput {
        let ip_detect = match &cluster.network.ip_detect {
            strato_config::IpDetect::Route => IpDetect::Route,
            strato_config::IpDetect::Interface(name) => IpDetect::Interface(name.clone()),
            strato_config::IpDetect::Script(path) => IpDetect::Script {
                path: path.display().to_string(),
                content: options.ip_detect_script.clone(),
            },
        };
        RenderInput {
            cluster_name: cluster.cluster_name.clone(),
            masters: cluster.masters.iter().map(|h| h.address.clone()).collect(),
            resolvers: cluster.network.resolvers.clone(),
            dns_domain: cluster.network.domain.clone(),
            ip_detect,
            bootstrap_url: bootstrap_url(cluster),
            labelled_agents: labelled_agents(cluster),
            task_user: cluster.runtime.task_user().to_string(),
            agent_timeout_seconds: cluster.runtime.agent_timeout_seconds(),
            allow_privileged_containers: cluster.runtime.allow_privileged_containers,
            container_parameters: cluster.runtime.container_parameters.clone(),
            gateway: GatewayInput {
                https_port: cluster.gateway.https_port,
                http_port: cluster.gateway.http_port,
                token_ttl_seconds: cluster.gateway.token_ttl_hours * 3600,
                own_cert: cluster.gateway.tls_cert.is_some(),
            },
            container_engine: cluster
                .runtime
                .container_engine
                .map(|e| e.socket().to_string()),
        }
    }
}

fn labelled_agents(cluster: &Cluster) -> Vec<LabelledAgent> {
    let agents = cluster.agents.iter().map(|h| (h, false));
    let public = cluster.public_agents.iter().map(|h| (h, true));
    agents
        .chain(public)
        .filter(|(h, _)| !h.labels.is_empty() || h.hostname.is_some())
        .map(|(h, public)| LabelledAgent {
            address: h.address.clone(),
            public,
            hostname: h.hostname.clone(),
            // A BTreeMap: already sorted by key.
            labels: h
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
        .collect()
}

/// Renders the serve tree for a (valid) cluster. Pure: touches no files, same input → same bytes.
pub fn render_tree(
    cluster: &Cluster,
    options: &RenderOptions,
) -> Result<RenderedTree, RenderError> {
    render_input(&RenderInput::from_cluster(cluster, options), options)
}
