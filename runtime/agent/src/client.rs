//! HTTP client for the masters: tries the master that answered last, then the others in order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("no master answered {path} (last error from {master}: {message})")]
    Unreachable {
        path: String,
        master: String,
        message: String,
    },
}

pub struct MasterClient {
    http: reqwest::Client,
    masters: Vec<String>,
    current: AtomicUsize,
}

/// `10.0.0.1:5050` → `http://10.0.0.1:5050`; a URL with a scheme is kept.
pub fn base_url(master: &str) -> String {
    let m = master.trim().trim_end_matches('/');
    if m.starts_with("http://") || m.starts_with("https://") {
        m.to_string()
    } else {
        format!("http://{m}")
    }
}

impl MasterClient {
    /// With `tls`, masters are called over https as this agent, and only a server whose
    /// certificate grants the master role is believed.
    pub fn new(
        masters: Vec<String>,
        tls: Option<&strato_tls::MemberTls>,
    ) -> Result<Self, crate::error::AgentError> {
        let builder = match tls {
            Some(identity) => {
                strato_tls::member_client_builder(identity, &[strato_tls::MemberRole::Master])
                    .map_err(|e| crate::error::AgentError::Config {
                        key: "tls_cert",
                        message: e.to_string(),
                    })?
            }
            None => strato_tls::client_builder(),
        };
        let http = builder
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|source| crate::error::AgentError::HttpClient { source })?;
        let masters = masters
            .into_iter()
            .map(|m| match (tls, m.strip_prefix("http://")) {
                (Some(_), Some(rest)) => format!("https://{rest}"),
                (Some(_), None) if !m.contains("://") => format!("https://{}", m.trim()),
                _ => m,
            })
            .collect();
        Ok(Self {
            http,
            masters,
            current: AtomicUsize::new(0),
        })
    }

    /// POSTs JSON to each master in turn until one answers 2xx; returns the body (`None` for an
    /// empty body, e.g. 204).
    async fn post_raw<B: Serialize>(&self, path: &str, body: &B) -> Result<Vec<u8>, LinkError> {
        let n = self.masters.len().max(1);
        let start = self.current.load(Ordering::Relaxed);
        let mut last = (String::from("-"), String::from("no masters configured"));
        for i in 0..self.masters.len() {
            let idx = (start + i) % n;
            let master = &self.masters[idx];
            let url = format!("{}{path}", base_url(master));
            let result = self.http.post(&url).json(body).send().await;
            match result {
                Ok(resp) if resp.status().is_success() => {
                    self.current.store(idx, Ordering::Relaxed);
                    return resp.bytes().await.map(|b| b.to_vec()).map_err(|e| {
                        LinkError::Unreachable {
                            path: path.to_string(),
                            master: master.clone(),
                            message: e.to_string(),
                        }
                    });
                }
                Ok(resp) => last = (master.clone(), format!("HTTP {}", resp.status())),
                Err(e) => last = (master.clone(), crate::executor::error_chain(&e)),
            }
        }
        Err(LinkError::Unreachable {
            path: path.to_string(),
            master: last.0,
            message: last.1,
        })
    }

    pub async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, LinkError> {
        let bytes = self.post_raw(path, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| LinkError::Unreachable {
            path: path.to_string(),
            master: self.current_master(),
            message: format!("unexpected answer: {e}"),
        })
    }

    pub async fn post_ignoring_body<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<(), LinkError> {
        self.post_raw(path, body).await.map(|_| ())
    }

    pub fn current_master(&self) -> String {
        self.masters
            .get(self.current.load(Ordering::Relaxed))
            .cloned()
            .unwrap_or_default()
    }
}
