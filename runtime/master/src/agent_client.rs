//! Master → agent calls (launch, kill, and reading sandboxes for operators) behind a trait, so
//! tests can run without agents.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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

/// An agent's answer to a read, passed on to the operator as it came.
pub struct AgentAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
    pub body: axum::body::Body,
}

fn unsupported(agent: AgentUrl, operation: &'static str) -> AgentCallError {
    AgentCallError {
        agent,
        operation,
        message: "this agent client cannot read from agents".into(),
    }
}

/// How long a download from an agent may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);

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

    /// GET `path` with `query` on the agent's API (its files API, `/state`), any answer passed
    /// on; `Err` only when the agent did not answer.
    fn get(
        &self,
        agent: AgentUrl,
        path: String,
        query: Vec<(String, String)>,
    ) -> BoxFuture<'static, Result<AgentAnswer, AgentCallError>> {
        let _ = (path, query);
        Box::pin(async move { Err(unsupported(agent, "a read")) })
    }

    /// The agent's work dir (`/state`'s `flags.work_dir`): its sandboxes are under
    /// `<work_dir>/sandboxes/<task id>`.
    fn work_dir(&self, agent: AgentUrl) -> BoxFuture<'static, Result<String, AgentCallError>> {
        Box::pin(async move { Err(unsupported(agent, "a read")) })
    }
}

/// The real client: JSON over HTTP with short timeouts (a slow agent must not stall reconcile).
pub struct HttpAgentClient {
    http: reqwest::Client,
    /// Every member of a cluster has TLS or none has: with it, agents are called over https
    /// with this master's certificate, and answer only if theirs grants the agent role.
    tls: bool,
    /// Agent URL → its work dir, asked once: it changes only with the agent's config, and then
    /// its id (kept in the work dir) changes too.
    work_dirs: Arc<Mutex<HashMap<AgentUrl, String>>>,
}

impl HttpAgentClient {
    pub fn new() -> HttpAgentClient {
        let http = strato_tls::client_builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        HttpAgentClient {
            http,
            tls: false,
            work_dirs: Arc::default(),
        }
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
        Ok(HttpAgentClient {
            http,
            tls: true,
            work_dirs: Arc::default(),
        })
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

    fn get(
        &self,
        agent: AgentUrl,
        path: String,
        query: Vec<(String, String)>,
    ) -> BoxFuture<'static, Result<AgentAnswer, AgentCallError>> {
        let url = self.url(&agent, &path);
        let mut request = self.http.get(&url).query(&query);
        if path.ends_with("/download") {
            // A whole file: longer than the default for launch and kill calls.
            request = request.timeout(DOWNLOAD_TIMEOUT);
        }
        Box::pin(async move {
            let response = request.send().await.map_err(|e| AgentCallError {
                agent,
                operation: "a read",
                message: e.to_string(),
            })?;
            let header = |name: reqwest::header::HeaderName| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            Ok(AgentAnswer {
                status: response.status().as_u16(),
                content_type: header(reqwest::header::CONTENT_TYPE),
                content_disposition: header(reqwest::header::CONTENT_DISPOSITION),
                body: axum::body::Body::from_stream(response.bytes_stream()),
            })
        })
    }

    fn work_dir(&self, agent: AgentUrl) -> BoxFuture<'static, Result<String, AgentCallError>> {
        let known = self
            .work_dirs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&agent)
            .cloned();
        let request = self.http.get(self.url(&agent, "/state"));
        let work_dirs = Arc::clone(&self.work_dirs);
        Box::pin(async move {
            if let Some(dir) = known {
                return Ok(dir);
            }
            let error = |message: String| AgentCallError {
                agent: agent.clone(),
                operation: "/state",
                message,
            };
            let state: serde_json::Value = request
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| error(e.to_string()))?
                .json()
                .await
                .map_err(|e| error(e.to_string()))?;
            let dir = state["flags"]["work_dir"]
                .as_str()
                .ok_or_else(|| error("its /state names no flags.work_dir".into()))?
                .to_string();
            work_dirs
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(agent, dir.clone());
            Ok(dir)
        })
    }
}
