//! A small Azure Resource Manager REST client: GET/PUT/DELETE/list with bearer tokens, throttling
//! retries, and long-running operations followed the way ARM documents them (the
//! `Azure-AsyncOperation` status URL, else `Location`, else the resource's `provisioningState`).
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::auth::TokenSource;
use super::PROVIDER;
use crate::error::{CloudError, Result};

/// How long one long-running operation may take.
const LRO_DEADLINE: Duration = Duration::from_secs(900);
/// Throttling (429) and transient conflicts (409 while another operation runs) are retried.
const RETRY_DEADLINE: Duration = Duration::from_secs(300);

pub struct Arm {
    http: reqwest::Client,
    endpoint: String,
    token: Arc<dyn TokenSource>,
}

fn is_terminal(state: &str) -> bool {
    matches!(
        state.to_ascii_lowercase().as_str(),
        "succeeded" | "failed" | "canceled" | "cancelled"
    )
}

fn retry_after(resp: &reqwest::Response, default: Duration) -> Duration {
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(default, |s| Duration::from_secs(s.min(60)))
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl Arm {
    pub fn new(endpoint: &str, token: Arc<dyn TokenSource>) -> Arm {
        Arm {
            http: strato_tls::client(),
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token,
        }
    }

    fn url(&self, path: &str, api: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{sep}api-version={api}", self.endpoint)
    }

    /// One request, retried on 429 / 409-conflict / 5xx until [`RETRY_DEADLINE`].
    async fn send(
        &self,
        step: &str,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<reqwest::Response> {
        // Status URLs come from response headers: never send the token anywhere but ARM.
        if !url.starts_with(&self.endpoint) {
            return Err(CloudError::api(
                PROVIDER,
                step,
                format!("refusing to follow {url}: not under {}", self.endpoint),
            ));
        }
        let start = Instant::now();
        let mut wait = Duration::from_secs(1);
        loop {
            let token = self.token.token().await?;
            let mut req = self.http.request(method.clone(), url).bearer_auth(token);
            if let Some(body) = body {
                req = req.json(body);
            }
            let resp = req.send().await.map_err(|e| {
                CloudError::api(
                    PROVIDER,
                    step,
                    format!("cannot reach {}: {e}", self.endpoint),
                )
            })?;
            let status = resp.status();
            let retry = status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::CONFLICT
                || status.is_server_error();
            if retry && start.elapsed() < RETRY_DEADLINE {
                tokio::time::sleep(retry_after(&resp, wait)).await;
                wait = (wait * 2).min(Duration::from_secs(30));
                continue;
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                let detail = error_message(resp).await;
                return Err(CloudError::Credentials(format!(
                    "Azure refused the credentials while trying to {step} ({detail}); check the subscription id and the role assignment of the identity from {}",
                    super::auth::LOOKED_AT
                )));
            }
            return Ok(resp);
        }
    }

    /// The resource, or `None` when it does not exist.
    pub async fn get(&self, step: &str, path: &str, api: &str) -> Result<Option<Value>> {
        let resp = self
            .send(step, Method::GET, &self.url(path, api), None)
            .await?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(json(step, resp).await?)),
            _ => Err(CloudError::api(PROVIDER, step, error_message(resp).await)),
        }
    }

    /// Every item of a list, following `nextLink`.
    pub async fn list(&self, step: &str, path: &str, api: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut url = self.url(path, api);
        loop {
            let resp = self.send(step, Method::GET, &url, None).await?;
            if resp.status() == StatusCode::NOT_FOUND {
                return Ok(out);
            }
            if !resp.status().is_success() {
                return Err(CloudError::api(PROVIDER, step, error_message(resp).await));
            }
            let page = json(step, resp).await?;
            out.extend(page["value"].as_array().cloned().unwrap_or_default());
            match page["nextLink"].as_str() {
                Some(next) if !next.is_empty() => url = next.to_string(),
                _ => return Ok(out),
            }
        }
    }

    /// Create or update, and wait until ARM says it is done.
    pub async fn put(&self, step: &str, path: &str, api: &str, body: &Value) -> Result<Value> {
        let resp = self
            .send(step, Method::PUT, &self.url(path, api), Some(body))
            .await?;
        if !resp.status().is_success() {
            return Err(CloudError::api(PROVIDER, step, error_message(resp).await));
        }
        let async_op = header(&resp, "azure-asyncoperation");
        let pause = retry_after(&resp, Duration::from_secs(2));
        let mut resource = json(step, resp).await?;
        if let Some(op) = async_op {
            self.poll_status(step, &op, pause).await?;
            resource = self.get(step, path, api).await?.unwrap_or(resource);
        }
        // No status URL (or a resource still settling): poll the resource itself.
        let start = Instant::now();
        while let Some(state) = resource["properties"]["provisioningState"]
            .as_str()
            .filter(|s| !is_terminal(s))
        {
            if start.elapsed() > LRO_DEADLINE {
                return Err(CloudError::Timeout {
                    provider: PROVIDER,
                    step: format!("{step} (still {state})"),
                    seconds: LRO_DEADLINE.as_secs(),
                });
            }
            tokio::time::sleep(pause).await;
            resource = self.get(step, path, api).await?.unwrap_or(resource);
        }
        match resource["properties"]["provisioningState"].as_str() {
            Some(state) if !state.eq_ignore_ascii_case("succeeded") => Err(CloudError::api(
                PROVIDER,
                step,
                format!("provisioning {state}"),
            )),
            _ => Ok(resource),
        }
    }

    /// Delete and wait until it is gone. Already gone is fine.
    pub async fn delete(&self, step: &str, path: &str, api: &str) -> Result<()> {
        let resp = self
            .send(step, Method::DELETE, &self.url(path, api), None)
            .await?;
        let status = resp.status();
        if status == StatusCode::NOT_FOUND
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::OK
        {
            return Ok(());
        }
        if status != StatusCode::ACCEPTED {
            return Err(CloudError::api(PROVIDER, step, error_message(resp).await));
        }
        let pause = retry_after(&resp, Duration::from_secs(2));
        if let Some(op) = header(&resp, "azure-asyncoperation") {
            return self.poll_status(step, &op, pause).await;
        }
        let Some(location) = header(&resp, "location") else {
            return Ok(());
        };
        let start = Instant::now();
        loop {
            tokio::time::sleep(pause).await;
            let resp = self.send(step, Method::GET, &location, None).await?;
            match resp.status() {
                StatusCode::ACCEPTED => {}
                s if s.is_success() || s == StatusCode::NOT_FOUND => return Ok(()),
                _ => return Err(CloudError::api(PROVIDER, step, error_message(resp).await)),
            }
            if start.elapsed() > LRO_DEADLINE {
                return Err(CloudError::Timeout {
                    provider: PROVIDER,
                    step: step.to_string(),
                    seconds: LRO_DEADLINE.as_secs(),
                });
            }
        }
    }

    /// Poll an `Azure-AsyncOperation` URL until its `status` is terminal.
    async fn poll_status(&self, step: &str, url: &str, pause: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            tokio::time::sleep(pause).await;
            let resp = self.send(step, Method::GET, url, None).await?;
            if !resp.status().is_success() {
                return Err(CloudError::api(PROVIDER, step, error_message(resp).await));
            }
            let body = json(step, resp).await?;
            let status = body["status"].as_str().unwrap_or("InProgress");
            if status.eq_ignore_ascii_case("succeeded") {
                return Ok(());
            }
            if is_terminal(status) {
                let why = body["error"]["message"].as_str().unwrap_or("no detail");
                return Err(CloudError::api(
                    PROVIDER,
                    step,
                    format!("operation {status}: {why}"),
                ));
            }
            if start.elapsed() > LRO_DEADLINE {
                return Err(CloudError::Timeout {
                    provider: PROVIDER,
                    step: step.to_string(),
                    seconds: LRO_DEADLINE.as_secs(),
                });
            }
        }
    }
}

async fn json(step: &str, resp: reqwest::Response) -> Result<Value> {
    let text = resp
        .text()
        .await
        .map_err(|e| CloudError::api(PROVIDER, step, e.to_string()))?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text)
        .map_err(|e| CloudError::api(PROVIDER, step, format!("unexpected answer: {e}")))
}

/// ARM's `{"error": {"code", "message"}}`, or the HTTP status.
async fn error_message(resp: reqwest::Response) -> String {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    match (
        body["error"]["code"].as_str(),
        body["error"]["message"].as_str(),
    ) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        _ => format!("HTTP {status}"),
    }
}
