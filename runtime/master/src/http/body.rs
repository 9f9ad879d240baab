//! Request bodies parsed by hand, so bad JSON gets Marathon's 400 body instead of axum's text.

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::error::ApiError;

pub fn json(bytes: &Bytes) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidJson {
            details: "No content to map due to end-of-input".into(),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::InvalidJson {
        details: e.to_string(),
    })
}

pub fn object(bytes: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match json(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::InvalidJson {
            details: "expected a JSON object".into(),
        }),
    }
}

pub fn array_of_objects(bytes: &Bytes) -> Result<Vec<Map<String, Value>>, ApiError> {
    match json(bytes)? {
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(map) => Ok(map),
                _ => Err(ApiError::InvalidJson {
                    details: "expected an array of JSON objects".into(),
                }),
            })
            .collect(),
        _ => Err(ApiError::InvalidJson {
            details: "expected a JSON array".into(),
        }),
    }
}
