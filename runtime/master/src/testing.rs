//! Unit-test helpers: a master on a memory store whose agent calls do nothing.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::json;
use strato_proto::{KillTask, LaunchTask};
use strato_runtime_types::deployment::DeploymentAction;

use crate::agent_client::{AgentCallError, AgentClient, AgentUrl};
use crate::changes::Change;
use crate::master::Master;

pub(crate) struct NoAgents;

impl AgentClient for NoAgents {
    fn launch(&self, _: AgentUrl, _: LaunchTask) -> BoxFuture<'static, Result<(), AgentCallError>> {
        Box::pin(async { Ok(()) })
    }
    fn kill(
        &self,
        _: AgentUrl,
        _: String,
        _: KillTask,
    ) -> BoxFuture<'static, Result<(), AgentCallError>> {
        Box::pin(async { Ok(()) })
    }
}

/// A single master (it leads at once) on a memory store, with default config.
pub(crate) async fn master() -> Arc<Master> {
    Master::new(
        crate::MasterConfig::default(),
        Arc::new(strato_store::MemoryStore::new()),
        Arc::new(NoAgents),
    )
    .await
    .expect("master")
}

/// `/web` (`sleep 1000`) with `instances` instances, as a change to deploy.
pub(crate) fn app(instances: u32) -> Change {
    let app = strato_runtime_types::validate::app_from_value(
        json!({"id": "/web", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": instances}),
    )
    .expect("app");
    Change {
        app_id: "/web".into(),
        app: Some(app),
        action: DeploymentAction::StartApplication,
    }
}

/// An agent `id` on 127.0.0.1:5051 with 4 CPUs, 4 GiB, 1000 MiB of disk and ports 31000-31010.
pub(crate) fn agent_info(id: &str) -> strato_proto::AgentInfo {
    strato_proto::AgentInfo {
        id: id.into(),
        hostname: format!("{id}.example"),
        address: "127.0.0.1".into(),
        port: 5051,
        resources: strato_proto::Resources {
            cpus: 4.0,
            mem: 4096.0,
            disk: 1000.0,
            ports: vec![strato_proto::PortRange {
                begin: 31000,
                end: 31010,
            }],
        },
        attributes: Default::default(),
        role: "*".into(),
        version: "test".into(),
        container_engine: None,
    }
}
