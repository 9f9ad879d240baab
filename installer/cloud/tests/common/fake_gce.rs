//! A fake Compute Engine REST API on 127.0.0.1 in the real API's shapes: inserts and deletes
//! return an `Operation` (uint64 id, `RUNNING`) that is `DONE` on the next poll of the zonal,
//! regional or global operations resource; instances are `STAGING` until first read after their
//! operation is done, then `RUNNING` with `networkIP` and `natIP`; list honours
//! `labels.KEY=VALUE` filters. It refuses what GCE refuses (a reference to a missing network or
//! subnetwork, deleting a network or subnetwork still in use) and records every call.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Default)]
struct Inner {
    base: String,
    /// Resource path (`projects/p/global/networks/n`) → resource.
    resources: BTreeMap<String, Value>,
    /// Operation path → (operation, polls left, resource path, is delete).
    ops: BTreeMap<String, (Value, u32, String, bool)>,
    next: u64,
    log: Vec<(String, String)>,
    polls: usize,
}

#[derive(Clone, Default)]
pub struct FakeGce(Arc<Mutex<Inner>>);

fn err(status: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}]}});
    (status, axum::Json(body)).into_response()
}

/// The `projects/p/...` path of a full or partial resource URL.
fn rel(link: &str) -> String {
    link.find("projects/")
        .map_or(link.to_string(), |i| link[i..].to_string())
}

impl FakeGce {
    pub async fn start() -> (FakeGce, String) {
        let fake = FakeGce::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        fake.0.lock().expect("lock").base = base.clone();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        (fake, base)
    }

    pub fn log(&self) -> Vec<(String, String)> {
        self.0.lock().expect("lock").log.clone()
    }

    pub fn clear_log(&self) {
        self.0.lock().expect("lock").log.clear();
    }

    pub fn polls(&self) -> usize {
        self.0.lock().expect("lock").polls
    }

    pub fn resources(&self) -> Vec<String> {
        self.0
            .lock()
            .expect("lock")
            .resources
            .keys()
            .cloned()
            .collect()
    }

    pub fn resource(&self, path: &str) -> Option<Value> {
        self.0.lock().expect("lock").resources.get(path).cloned()
    }
}

/// Does the label filter (`labels.k=v`, possibly several joined by AND) match?
fn matches(filter: &str, r: &Value) -> bool {
    filter
        .split(" AND ")
        .filter(|c| !c.trim().is_empty())
        .all(|c| {
            let c = c.trim().trim_matches(['(', ')']);
            match c.strip_prefix("labels.").and_then(|kv| kv.split_once('=')) {
                Some((k, v)) => r["labels"][k.trim()] == v.trim().trim_matches('"'),
                None => true,
            }
        })
}

async fn handle(State(fake): State<FakeGce>, method: Method, uri: Uri, body: Bytes) -> Response {
    let Some(path) = uri.path().strip_prefix("/compute/v1/").map(str::to_string) else {
        return err(
            StatusCode::NOT_FOUND,
            "notFound",
            &format!("unknown path {}", uri.path()),
        );
    };
    let query: BTreeMap<String, String> = uri
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), percent_decode(v)))
                .collect()
        })
        .unwrap_or_default();
    let mut s = fake.0.lock().expect("lock");
    let base = s.base.clone();
    let parts: Vec<&str> = path.split('/').collect();

    // Operations: global, regional, zonal.
    if parts.len() >= 2 && parts[parts.len() - 2] == "operations" {
        s.polls += 1;
        let Some((mut op, left, target, delete)) = s.ops.get(&path).cloned() else {
            return err(
                StatusCode::NOT_FOUND,
                "notFound",
                &format!("The resource '{path}' was not found"),
            );
        };
        if left > 0 {
            s.ops.insert(path, (op.clone(), left - 1, target, delete));
            return axum::Json(op).into_response();
        }
        if delete {
            s.resources.remove(&target);
        } else if let Some(r) = s.resources.get_mut(&target) {
            r["fakeOperationDone"] = json!(true);
        }
        op["status"] = json!("DONE");
        op["progress"] = json!(100);
        return axum::Json(op).into_response();
    }
    s.log.push((method.to_string(), path.clone()));

    // projects/p/{global|regions/r|zones/z}/{collection}[/{name}]
    let scope_len = if parts.get(2) == Some(&"global") {
        3
    } else {
        4
    };
    let scope = parts[..scope_len.min(parts.len())].join("/");
    let is_collection = parts.len() == scope_len + 1;
    match method {
        Method::GET if is_collection => {
            let filter = query.get("filter").cloned().unwrap_or_default();
            let items: Vec<Value> = s
                .resources
                .iter()
                .filter(|(k, r)| k.starts_with(&format!("{path}/")) && matches(&filter, r))
                .map(|(_, r)| r.clone())
                .collect();
            axum::Json(json!({"kind": "compute#list", "id": path, "items": items, "selfLink": format!("{base}/compute/v1/{path}")})).into_response()
        }
        Method::GET => {
            let Some(r) = s.resources.get_mut(&path) else {
                return err(
                    StatusCode::NOT_FOUND,
                    "notFound",
                    &format!("The resource '{path}' was not found"),
                );
            };
            if r["kind"] == "compute#instance" && r["fakeOperationDone"] == true {
                r["status"] = json!("RUNNING");
            }
            let mut out = r.clone();
            out.as_object_mut().map(|o| o.remove("fakeOperationDone"));
            axum::Json(out).into_response()
        }
        Method::POST if is_collection => {
            let mut r: Value = match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => return err(StatusCode::BAD_REQUEST, "invalid", &e.to_string()),
            };
            let Some(name) = r["name"].as_str().map(str::to_string) else {
                return err(
                    StatusCode::BAD_REQUEST,
                    "required",
                    "Required field 'resource.name' not specified",
                );
            };
            let target = format!("{path}/{name}");
            if s.resources.contains_key(&target) {
                return err(
                    StatusCode::CONFLICT,
                    "alreadyExists",
                    &format!("The resource '{target}' already exists"),
                );
            }
            let collection = parts[parts.len() - 1];
            let mut wanted: Vec<String> = Vec::new();
            for key in ["network", "subnetwork"] {
                if let Some(l) = r[key].as_str() {
                    wanted.push(rel(l));
                }
            }
            for nic in r["networkInterfaces"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                if let Some(l) = nic["subnetwork"].as_str() {
                    wanted.push(rel(l));
                }
            }
            if let Some(missing) = wanted.iter().find(|w| !s.resources.contains_key(*w)) {
                return err(
                    StatusCode::NOT_FOUND,
                    "notFound",
                    &format!("The resource '{missing}' was not found"),
                );
            }
            s.next += 1;
            let n = s.next;
            r["id"] = json!(format!("{}", 7_000_000_000_000_000_000u64 + n));
            r["selfLink"] = json!(format!("{base}/compute/v1/{target}"));
            r["creationTimestamp"] = json!("2026-11-25T16:00:00.000-08:00");
            if collection == "instances" {
                r["kind"] = json!("compute#instance");
                r["status"] = json!("STAGING");
                r["networkInterfaces"][0]["networkIP"] = json!(format!("10.0.1.{}", 1 + n));
                r["networkInterfaces"][0]["accessConfigs"][0]["natIP"] =
                    json!(format!("192.0.2.{}", 100 + n));
            }
            s.resources.insert(target.clone(), r);
            operation(&mut s, &scope, &target, "insert", false)
        }
        Method::DELETE => {
            if !s.resources.contains_key(&path) {
                return err(
                    StatusCode::NOT_FOUND,
                    "notFound",
                    &format!("The resource '{path}' was not found"),
                );
            }
            let used_by = s.resources.iter().find(|(k, r)| {
                *k != &path && {
                    let mut links = vec![
                        r["network"].as_str().map(rel),
                        r["subnetwork"].as_str().map(rel),
                    ];
                    links.extend(
                        r["networkInterfaces"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                            .iter()
                            .map(|n| n["subnetwork"].as_str().map(rel)),
                    );
                    links.into_iter().flatten().any(|l| l == path)
                }
            });
            if let Some((user, _)) = used_by {
                return err(
                    StatusCode::BAD_REQUEST,
                    "resourceInUseByAnotherResource",
                    &format!("The resource '{path}' is already being used by '{user}'"),
                );
            }
            operation(&mut s, &scope, &path, "delete", true)
        }
        _ => err(
            StatusCode::METHOD_NOT_ALLOWED,
            "badRequest",
            "method not allowed",
        ),
    }
}

fn operation(s: &mut Inner, scope: &str, target: &str, kind: &str, delete: bool) -> Response {
    s.next += 1;
    let name = format!("operation-{}-{kind}", s.next);
    let op_path = format!("{scope}/operations/{name}");
    let mut op = json!({
        "kind": "compute#operation", "id": format!("{}", 5_000_000_000_000_000_000u64 + s.next), "name": name,
        "operationType": kind, "status": "RUNNING", "progress": 0,
        "targetLink": format!("{}/compute/v1/{target}", s.base), "selfLink": format!("{}/compute/v1/{op_path}", s.base),
    });
    if scope.contains("/zones/") {
        op["zone"] = json!(format!("{}/compute/v1/{}", s.base, scope));
    } else if scope.contains("/regions/") {
        op["region"] = json!(format!("{}/compute/v1/{}", s.base, scope));
    }
    s.ops
        .insert(op_path, (op.clone(), 1, target.to_string(), delete));
    axum::Json(op).into_response()
}

fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
