//! Master → agent calls (launch, kill) behind a trait, so tests can run without agents.

use std::time::Duration;

use futures_util::future::BoxFuture;
use strato_proto::{KillTask, LaunchTask, PATH_KILL_SUFFIX, PATH_TASKS};

#[derive(Debug, thiserror::Error)]
#[error("agent {agent} did not accept {operation}: {message}")]
pub struct AgentCallError {
    pub agent: String,
    pub operation: &'static str,
    pub message: String,
}

/// Where an agent listens, `http://address:port`.
pub type AgentUrl = String;

pub trait AgentClient: Send + Sync + 'static {
    fn launch(
        &self,
        agent: AgentUrl,
        task: LaunchTask,
    ) -> BoxFuture<'static, Result<(), AgentCallError>>;
    fn kill(
        &self,
        agent: AgentUrl,
        task_id: String,
        kill: KillTask,
    ) -> BoxFuture<'static, Result<(), AgentCallError>>;
}

/// The real client: JSON over HTTP with short timeouts (a slow agent must not stall reconcile).
pub struct HttpAgentClient {
    http: reqwest::Client,
    /// Every member of a cluster has TLS or none has: with it, agents are called over https
    /// with this master's certificate, and answer only if theirs grants the agent role.
    tls: bool,
}

impl HttpAgentClient {
    pub fn new() -> HttpAgentClient {
        let http = strato_tls::client_builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        HttpAgentClient { http, tls: false }
    }

    /// Calls agents over mutual TLS as `identity` (a master certificate).
    pub fn with_tls(identity: &strato_tls::MemberTls) -> Result<Self, strato_tls::TlsError> {
        let http = strato_tls::member_client_builder(identity, &[strato_tls::MemberRole::Agent])?
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| strato_tls::TlsError::Config {
                path: "<agent client>".into(),
                message: e.to_string(),
            })?;
        Ok(HttpAgentClient { http, tls: true })
    }

    fn url(&self, agent: &str, path: &str) -> String {
        match agent.strip_prefix("http://").filter(|_| self.tls) {
            Some(rest) => format!("https://{rest}{path}"),
            None => format!("{agent}{path}"),
        }
    }
}

impl Default for HttpAgentClient {
    fn default() -> Self {
        Self::new()
    }
}

async fn post<T: serde::Serialize>(
    http: reqwest::Client,
    url: String,
    body: T,
    agent: String,
    operation: &'static str,
) -> Result<(), AgentCallError> {
    let error = |message: String| AgentCallError {
        agent: agent.clone(),
        operation,
        message,
    };
    let response = http
        .post(&url)
        .json(&body)
        .send()
        .await
        .map_err(|e| error(e.to_string()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Err(error(format!("{status}: {text}")))
    }
}

impl AgentClient for HttpAgentClient {
    fn launch(
        &self,
        agent: AgentUrl,
        task: LaunchTask,
    ) -> BoxFuture<'static, Result<(), AgentCallError>> {
        let url = self.url(&agent, PATH_TASKS);
        Box::pin(post(self.http.clone(), url, task, agent, "launch"))
    }

    fn kill(
        &self,
        agent: AgentUrl,
        task_id: String,
        kill: KillTask,
    ) -> BoxFuture<'static, Result<(), AgentCallError>> {
        let url = self.url(&agent, &format!("{PATH_TASKS}/{task_id}{PATH_KILL_SUFFIX}"));
        Box::pin(post(self.http.clone(), url, kill, agent, "kill"))
    }
}
