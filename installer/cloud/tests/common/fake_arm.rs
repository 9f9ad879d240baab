//! A fake Azure Resource Manager on 127.0.0.1 that answers in ARM's shapes: PUT returns 201 with
//! `provisioningState: Updating` and an `Azure-AsyncOperation` URL that reports `InProgress` once,
//! then `Succeeded`; DELETE returns 202 (status URL, or `Location` for resource groups). It refuses
//! what ARM refuses (a reference to a resource that does not exist, deleting something still
//! referenced, a missing resource group, a bad token) and records every call.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub const TOKEN: &str = "fake-arm-token";

#[derive(Default)]
struct Inner {
    base: String,
    /// Lower-cased resource path → resource.
    resources: BTreeMap<String, Value>,
    /// Operation id → (polls left, path, is delete).
    ops: BTreeMap<u64, (u32, String, bool)>,
    next: u64,
    /// (method, path) of every call except operation polls.
    log: Vec<(String, String)>,
    polls: usize,
    /// Answer this many coming requests with 429 Too Many Requests (ARM throttling).
    throttle: usize,
}

#[derive(Clone, Default)]
pub struct FakeArm(Arc<Mutex<Inner>>);

fn err(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// `/subscriptions/s/resourceGroups/rg` of any path below it.
fn rg_of(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    (parts.len() >= 5 && parts[3].eq_ignore_ascii_case("resourcegroups"))
        .then(|| parts[..5].join("/").to_lowercase())
}

/// `Microsoft.Network/networkInterfaces` of a resource path.
fn type_of(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    match parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("providers"))
    {
        Some(i) if parts.len() > i + 2 => format!("{}/{}", parts[i + 1], parts[i + 2]),
        _ => "Microsoft.Resources/resourceGroups".into(),
    }
}

/// Every `"id"` a resource body refers to (subnet, NSG, public IP, NIC), lower-cased.
fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                if k == "id" {
                    if let Some(s) = val.as_str() {
                        out.push(s.to_lowercase());
                    }
                } else {
                    references(val, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| references(x, out)),
        _ => {}
    }
}

impl FakeArm {
    pub async fn start() -> (FakeArm, String) {
        let fake = FakeArm::default();
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

    /// Throttle the next `n` requests.
    pub fn throttle(&self, n: usize) {
        self.0.lock().expect("lock").throttle = n;
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
        self.0
            .lock()
            .expect("lock")
            .resources
            .get(&path.to_lowercase())
            .cloned()
    }
}

async fn handle(
    State(fake): State<FakeArm>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {TOKEN}"))
    {
        return err(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        );
    }
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let mut s = fake.0.lock().expect("lock");
    if s.throttle > 0 {
        s.throttle -= 1;
        s.log.push(("429".into(), path));
        let mut resp = err(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Rate limit exceeded",
        );
        resp.headers_mut()
            .insert("retry-after", "0".parse().expect("header"));
        return resp;
    }
    if let Some(id) = path.strip_prefix("/operations/") {
        s.polls += 1;
        let id: u64 = id.parse().unwrap_or(0);
        let Some((left, target, delete)) = s.ops.get(&id).cloned() else {
            return err(
                StatusCode::NOT_FOUND,
                "OperationNotFound",
                "no such operation",
            );
        };
        if left > 0 {
            s.ops.insert(id, (left - 1, target, delete));
            return if query.contains("kind=location") {
                StatusCode::ACCEPTED.into_response()
            } else {
                axum::Json(json!({"status": "InProgress"})).into_response()
            };
        }
        s.ops.remove(&id);
        if delete {
            let prefix = format!("{target}/");
            s.resources
                .retain(|k, _| k != &target && !k.starts_with(&prefix));
        } else if let Some(r) = s.resources.get_mut(&target) {
            r["properties"]["provisioningState"] = json!("Succeeded");
        }
        return if query.contains("kind=location") {
            StatusCode::OK.into_response()
        } else {
            axum::Json(json!({"status": "Succeeded"})).into_response()
        };
    }
    s.log.push((method.to_string(), path.clone()));
    let key = path.to_lowercase();
    let base = s.base.clone();
    match method {
        Method::GET if key.ends_with("/resources") => {
            let want = query
                .split("tagValue%20eq%20%27")
                .nth(1)
                .and_then(|v| v.split("%27").next())
                .unwrap_or("")
                .to_string();
            let rg = key.trim_end_matches("/resources").to_string();
            let value: Vec<Value> = s
                .resources
                .iter()
                .filter(|(k, r)| k.starts_with(&format!("{rg}/providers/")) && r["tags"]["strato-cluster-id"] == want.as_str())
                .map(|(_, r)| json!({"id": r["id"], "name": r["name"], "type": r["type"], "tags": r["tags"]}))
                .collect();
            axum::Json(json!({"value": value})).into_response()
        }
        Method::GET if key.ends_with("/providers/microsoft.compute/virtualmachines") => {
            if !s.resources.contains_key(&rg_of(&key).unwrap_or_default()) {
                return err(
                    StatusCode::NOT_FOUND,
                    "ResourceGroupNotFound",
                    "Resource group could not be found.",
                );
            }
            let value: Vec<Value> = s
                .resources
                .iter()
                .filter(|(k, _)| {
                    k.starts_with(&format!("{key}/")) && !k[key.len() + 1..].contains('/')
                })
                .map(|(_, r)| r.clone())
                .collect();
            axum::Json(json!({"value": value})).into_response()
        }
        Method::GET if key.ends_with("/instanceview") => {
            let vm = key.trim_end_matches("/instanceview");
            match s.resources.get(vm) {
                Some(_) => axum::Json(json!({"statuses": [
                    {"code": "ProvisioningState/succeeded", "level": "Info"},
                    {"code": "PowerState/running", "level": "Info", "displayStatus": "VM running"},
                ]}))
                .into_response(),
                None => err(StatusCode::NOT_FOUND, "ResourceNotFound", "not found"),
            }
        }
        Method::GET => match s.resources.get(&key) {
            Some(r) => axum::Json(r.clone()).into_response(),
            None => err(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                &format!("The Resource '{path}' was not found."),
            ),
        },
        Method::PUT => {
            let mut body: Value = match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => {
                    return err(
                        StatusCode::BAD_REQUEST,
                        "InvalidRequestContent",
                        &e.to_string(),
                    )
                }
            };
            let rg = rg_of(&key).unwrap_or_default();
            let is_rg = rg == key;
            if !is_rg && !s.resources.contains_key(&rg) {
                return err(
                    StatusCode::NOT_FOUND,
                    "ResourceGroupNotFound",
                    "Resource group could not be found.",
                );
            }
            let mut refs = Vec::new();
            references(&body, &mut refs);
            let vnet_of_subnet = |r: &str| r.split("/subnets/").next().unwrap_or(r).to_string();
            if let Some(missing) = refs
                .iter()
                .find(|r| !s.resources.contains_key(&vnet_of_subnet(r)))
            {
                return err(
                    StatusCode::BAD_REQUEST,
                    "InvalidResourceReference",
                    &format!("Resource {missing} referenced by resource {path} was not found."),
                );
            }
            let name = path.rsplit('/').next().unwrap_or_default().to_string();
            body["id"] = json!(path);
            body["name"] = json!(name);
            body["type"] = json!(type_of(&path));
            let n = s.resources.len() as u64;
            let t = type_of(&path).to_lowercase();
            if t == "microsoft.network/publicipaddresses" {
                body["properties"]["ipAddress"] = json!(format!("198.51.100.{}", 10 + n));
            }
            if t == "microsoft.network/networkinterfaces" {
                body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] =
                    json!(format!("10.0.1.{}", 4 + n));
            }
            if t == "microsoft.network/virtualnetworks" {
                if let Some(subnets) = body["properties"]["subnets"].as_array_mut() {
                    for sn in subnets {
                        sn["id"] = json!(format!(
                            "{path}/subnets/{}",
                            sn["name"].as_str().unwrap_or_default()
                        ));
                    }
                }
            }
            if is_rg {
                body["properties"] = json!({"provisioningState": "Succeeded"});
                s.resources.insert(key, body.clone());
                return (StatusCode::CREATED, axum::Json(body)).into_response();
            }
            body["properties"]["provisioningState"] = json!("Updating");
            s.resources.insert(key.clone(), body.clone());
            s.next += 1;
            let id = s.next;
            s.ops.insert(id, (1, key, false));
            let mut resp = (StatusCode::CREATED, axum::Json(body)).into_response();
            resp.headers_mut().insert(
                "azure-asyncoperation",
                format!("{base}/operations/{id}").parse().expect("header"),
            );
            resp.headers_mut()
                .insert("retry-after", "0".parse().expect("header"));
            resp
        }
        Method::DELETE => {
            if !s.resources.contains_key(&key) {
                return StatusCode::NO_CONTENT.into_response();
            }
            let is_rg = rg_of(&key).as_deref() == Some(key.as_str());
            if !is_rg {
                let id_prefix = |r: &String| r == &key || r.starts_with(&format!("{key}/"));
                let user = s.resources.iter().find(|(k, r)| {
                    *k != &key && {
                        let mut refs = Vec::new();
                        references(&r["properties"], &mut refs);
                        refs.iter().any(id_prefix)
                    }
                });
                if let Some((user, _)) = user {
                    return err(
                        StatusCode::BAD_REQUEST,
                        "InUseResourceCannotBeDeleted",
                        &format!("{path} is in use by {user} and cannot be deleted."),
                    );
                }
            }
            s.next += 1;
            let id = s.next;
            s.ops.insert(id, (1, key, true));
            let mut resp = StatusCode::ACCEPTED.into_response();
            if is_rg {
                resp.headers_mut().insert(
                    "location",
                    format!("{base}/operations/{id}?kind=location")
                        .parse()
                        .expect("header"),
                );
            } else {
                resp.headers_mut().insert(
                    "azure-asyncoperation",
                    format!("{base}/operations/{id}").parse().expect("header"),
                );
            }
            resp.headers_mut()
                .insert("retry-after", "0".parse().expect("header"));
            resp
        }
        _ => err(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "method not allowed",
        ),
    }
}
