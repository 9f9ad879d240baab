//! Query parameters as Marathon clients send them: repeated keys (`embed`), booleans in any case
//! (`force=False` from Python).

use std::collections::BTreeSet;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;

use crate::error::ApiError;

#[derive(Debug, Default, Clone)]
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|Query(pairs)| Params(pairs))
            .map_err(|e| ApiError::BadRequest {
                message: e.body_text(),
            })
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `true`/`True`/`TRUE` are true; absent gives `default`.
    pub fn flag(&self, name: &str, default: bool) -> bool {
        self.get(name)
            .map_or(default, |v| v.eq_ignore_ascii_case("true"))
    }

    /// `embed` values without their `apps.`/`app.` prefix.
    pub fn embeds(&self) -> BTreeSet<String> {
        self.all("embed")
            .into_iter()
            .map(|e| {
                e.trim_start_matches("apps.")
                    .trim_start_matches("app.")
                    .to_string()
            })
            .collect()
    }
}
