//! [`Client`]: the typed client of the bootstrap server's API (reqwest over rustls).

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;

use crate::event::Event;
use crate::job::{HostStatus, Job, JobRequest};
use crate::sse::SseDecoder;

/// Calling the API failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the bootstrap server at {url}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status; `message` is its `error` field.
    #[error("{url}: {status}: {message}")]
    Status {
        url: String,
        status: StatusCode,
        message: String,
    },
    #[error("cannot set up TLS for {url}: {message}")]
    Tls { url: String, message: String },
    #[error("{url}: unreadable answer")]
    Decode {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}

/// A bootstrap server at `base` (`https://127.0.0.1:PORT` through the SSH tunnel), authenticated
/// by a token. `Debug` names the server, never the token.
#[derive(Clone)]
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Client {
    /// No request is made until a method is called.
    pub fn new(base: impl Into<String>, token: impl Into<String>) -> Result<Self, ClientError> {
        Self::build(base.into(), token.into(), |_| {
            Ok(strato_tls::client_builder())
        })
    }

    /// A server at an `https://` base that must show a certificate of the bootstrap role from
    /// the cluster CA `tls` trusts; `tls` is also the client's own identity (the operator's).
    pub fn with_tls(
        base: impl Into<String>,
        token: impl Into<String>,
        tls: &strato_tls::MemberTls,
    ) -> Result<Self, ClientError> {
        Self::build(base.into(), token.into(), |url| {
            strato_tls::member_client_builder(tls, &[strato_tls::MemberRole::Bootstrap]).map_err(
                |e| ClientError::Tls {
                    url: url.to_string(),
                    message: e.to_string(),
                },
            )
        })
    }

    fn build(
        base: String,
        token: String,
        builder: impl FnOnce(&str) -> Result<reqwest::ClientBuilder, ClientError>,
    ) -> Result<Self, ClientError> {
        let base = base.trim_end_matches('/').to_string();
        let http = builder(&base)?
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|source| ClientError::Http {
                url: base.clone(),
                source,
            })?;
        Ok(Client { base, token, http })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET /health`: true when the server answers 200.
    pub async fn health(&self) -> Result<bool, ClientError> {
        let url = format!("{}/health", self.base);
        let resp = self.http.get(&url).send().await;
        match resp {
            Ok(r) => Ok(r.status().is_success()),
            Err(source) => Err(ClientError::Http { url, source }),
        }
    }

    /// `POST /v1/jobs`.
    pub async fn submit(&self, request: &JobRequest) -> Result<Job, ClientError> {
        let url = format!("{}/v1/jobs", self.base);
        let req = self.http.post(&url).json(request);
        self.json(url, req).await
    }

    /// `GET /v1/jobs`, newest first.
    pub async fn jobs(&self) -> Result<Vec<Job>, ClientError> {
        let url = format!("{}/v1/jobs", self.base);
        let req = self.http.get(&url);
        self.json(url, req).await
    }

    /// `GET /v1/jobs/{id}`.
    pub async fn job(&self, id: &str) -> Result<Job, ClientError> {
        let url = format!("{}/v1/jobs/{id}", self.base);
        let req = self.http.get(&url);
        self.json(url, req).await
    }

    /// `GET /v1/jobs/{id}/hosts`.
    pub async fn hosts(&self, id: &str) -> Result<Vec<HostStatus>, ClientError> {
        let url = format!("{}/v1/jobs/{id}/hosts", self.base);
        let req = self.http.get(&url);
        self.json(url, req).await
    }

    /// `GET /v1/jobs/{id}/events`: every event from the first, then live ones until the job ends.
    pub async fn events(&self, id: &str) -> Result<EventStream, ClientError> {
        let url = format!("{}/v1/jobs/{id}/events", self.base);
        let resp = self
            .http
            .get(&url)
            .bearer_auth(&self.token)
            .header("accept", "text/event-stream")
            .send()
            .await
            .map_err(|source| ClientError::Http {
                url: url.clone(),
                source,
            })?;
        let resp = check(&url, resp).await?;
        Ok(EventStream {
            url,
            body: Box::pin(resp.bytes_stream().map(|r| r.map(|b| b.to_vec()))),
            decoder: SseDecoder::default(),
        })
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        url: String,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|source| ClientError::Http {
                url: url.clone(),
                source,
            })?;
        let resp = check(&url, resp).await?;
        let bytes = resp.bytes().await.map_err(|source| ClientError::Http {
            url: url.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| ClientError::Decode { url, source })
    }
}

async fn check(url: &str, resp: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let text = resp.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or(text);
    Err(ClientError::Status {
        url: url.to_string(),
        status,
        message,
    })
}

type ByteStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Vec<u8>, reqwest::Error>> + Send>>;

/// An open event stream. Call [`EventStream::next`] until it returns `None` (the job ended or
/// the server closed the stream).
pub struct EventStream {
    url: String,
    body: ByteStream,
    decoder: SseDecoder,
}

impl EventStream {
    /// The next event, or `None` at the end of the stream.
    pub async fn next(&mut self) -> Option<Result<Event, ClientError>> {
        loop {
            if let Some(data) = self.decoder.next_event() {
                let parsed = serde_json::from_str(&data).map_err(|source| ClientError::Decode {
                    url: self.url.clone(),
                    source,
                });
                return Some(parsed);
            }
            match self.body.next().await? {
                Ok(chunk) => self.decoder.push(&chunk),
                Err(source) => {
                    return Some(Err(ClientError::Http {
                        url: self.url.clone(),
                        source,
                    }))
                }
            }
        }
    }
}
