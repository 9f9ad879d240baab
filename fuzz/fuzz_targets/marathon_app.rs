//! Marathon app JSON as `POST /v2/apps` and `PATCH` receive it: parse, normalise, validate and
//! merge must answer with violations (a 422), never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use strato_runtime_types::{normalize, validate};

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(app) = validate::parse_app(body.clone()) {
        // An update merges a partial body over the stored app, then validates again.
        let existing = serde_json::to_value(&app).expect("an app serialises");
        let merged = normalize::merge(&existing, body);
        if let Value::Object(map) = merged {
            let _ = validate::parse_app(map);
        }
    }
});
