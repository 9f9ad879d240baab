//! Reaching a master's API from the operator's machine: an SSH login as `strato deploy` makes,
//! and a port forward to the master's plain listener on the node's own 127.0.0.1. Nothing new
//! listens, and only someone who may log in to a master gets through (`strato backup`,
//! `strato restore`, `strato status`).
use std::time::{Duration, Instant};

use anyhow::anyhow;
use strato_engine::{ConnectSpec, SshConnector};

use super::job::Loaded;
use crate::CliError;

/// A master's API through an SSH forward, open while this lives.
pub struct MasterLink {
    /// `http://127.0.0.1:<forwarded port>`.
    pub base: String,
    /// The master's address in cluster.yaml.
    pub host: String,
    _keep: Box<dyn std::any::Any + Send>,
}

/// The HTTP client for a link (plain: the forward ends on the node's loopback).
pub fn http() -> Result<reqwest::Client, CliError> {
    strato_tls::client_builder()
        .timeout(Duration::from_secs(120))
        .no_proxy()
        .build()
        .map_err(|e| CliError::Other(e.into()))
}

/// Opens a link to `master`; the error says which step failed.
pub async fn open(loaded: &Loaded, master: &strato_config::Host) -> Result<MasterLink, String> {
    let cluster = &loaded.cluster;
    let connector = SshConnector::new(loaded.base.join(".strato").join("known_hosts.json"));
    let spec = ConnectSpec {
        ssh: cluster.ssh.for_host(master),
        base_dir: loaded.base.clone(),
        deadline: Instant::now() + Duration::from_secs(30),
    };
    let session = connector
        .session(&spec)
        .await
        .map_err(|e| strato_engine::chain(&e))?;
    let forward = session
        .forward_local("127.0.0.1", strato_render::MESOS_PORT)
        .await
        .map_err(|e| strato_engine::chain(&e))?;
    Ok(MasterLink {
        base: format!("http://{}", forward.local_addr()),
        host: master.address.clone(),
        _keep: Box::new((session, forward)),
    })
}

/// The first master, in cluster.yaml's order, whose `/strato/v1/ha` answers.
pub async fn reach_a_master(
    loaded: &Loaded,
    http: &reqwest::Client,
) -> Result<MasterLink, CliError> {
    let mut failures = Vec::new();
    for master in &loaded.cluster.masters {
        let link = match open(loaded, master).await {
            Ok(link) => link,
            Err(why) => {
                failures.push(format!("{}: {why}", master.address));
                continue;
            }
        };
        match http.get(format!("{}/strato/v1/ha", link.base)).send().await {
            Ok(response) if response.status().is_success() => return Ok(link),
            Ok(response) => failures.push(format!(
                "{}: the master answered HTTP {}",
                master.address,
                response.status()
            )),
            Err(e) => failures.push(format!("{}: {}", master.address, strato_engine::chain(&e))),
        }
    }
    Err(CliError::Other(anyhow!(
        "no master answered:\n  {}",
        failures.join("\n  ")
    )))
}
