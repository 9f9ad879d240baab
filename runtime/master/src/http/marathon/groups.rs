//! `/v2/groups` (basic): the group tree derived from app ids; create, update (also `scaleBy`)
//! and delete act on the apps inside.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Map, Value};
use strato_runtime_types::deployment::DeploymentAction;
use strato_runtime_types::path::PathId;

use super::responses;
use crate::changes::Change;
use crate::error::ApiError;
use crate::http::body;
use crate::http::query::Params;
use crate::master::Master;
use crate::state::State as MasterState;

fn group_json(state: &MasterState, id: &str) -> Value {
    let prefix = if id == "/" {
        "/".to_string()
    } else {
        format!("{id}/")
    };
    let mut apps = Vec::new();
    let mut children = BTreeSet::new();
    for app in state.apps.values().filter(|a| a.id.starts_with(&prefix)) {
        let rest = &app.id[prefix.len()..];
        match rest.split_once('/') {
            None => apps.push(app.to_marathon_json()),
            Some((child, _)) => {
                children.insert(format!("{prefix}{child}"));
            }
        }
    }
    let version = state
        .apps
        .values()
        .filter(|a| a.id.starts_with(&prefix))
        .map(|a| a.version.clone())
        .max()
        .unwrap_or_default();
    json!({
        "id": id,
        "apps": apps,
        "groups": children.iter().map(|c| group_json(state, c)).collect::<Vec<_>>(),
        "pods": [],
        "dependencies": [],
        "version": version,
    })
}

fn group_exists(state: &MasterState, id: &str) -> bool {
    id == "/" || state.apps.keys().any(|a| a.starts_with(&format!("{id}/")))
}

pub async fn root(State(master): State<Arc<Master>>) -> Json<Value> {
    Json(group_json(&master.view(), "/"))
}

pub async fn show(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = PathId::normalise(&rest).to_string();
    let state = master.view();
    if !group_exists(&state, &id) {
        return Err(ApiError::GroupNotFound { id });
    }
    Ok(Json(group_json(&state, &id)))
}

/// Every app definition in a group body, with ids made absolute.
fn apps_in(group_id: &str, group: &Map<String, Value>, out: &mut Vec<Map<String, Value>>) {
    let id = group
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| group_id.to_string(), |g| absolute(group_id, g));
    for app in group
        .get("apps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(mut app) = app.as_object().cloned() {
            let app_id = app
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            app.insert("id".into(), Value::String(absolute(&id, &app_id)));
            out.push(app);
        }
    }
    for child in group
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(child) = child.as_object() {
            apps_in(&id, child, out);
        }
    }
}

fn absolute(base: &str, id: &str) -> String {
    if id.starts_with('/') {
        PathId::normalise(id).to_string()
    } else {
        PathId::normalise(&format!("{base}/{id}")).to_string()
    }
}

async fn apply(
    master: &Master,
    group_id: &str,
    bytes: &Bytes,
    params: &Params,
    create: bool,
) -> Result<Response, ApiError> {
    let body = body::object(bytes)?;
    let mut nested = Vec::new();
    apps_in(group_id, &body, &mut nested);
    let mut rollbacks = std::collections::BTreeMap::new();
    for app in &nested {
        let id = app.get("id").and_then(Value::as_str).unwrap_or("");
        if let Some(found) = master.rollback_target(id, app).await? {
            rollbacks.insert(id.to_string(), found);
        }
    }
    let mut state = master.lock();
    if create && group_exists(&state, group_id) && group_id != "/" {
        return Err(ApiError::AppExists {
            id: group_id.into(),
        });
    }
    let mut changes = Vec::new();
    if let Some(factor) = body.get("scaleBy").and_then(Value::as_f64) {
        let prefix = format!("{}/", group_id.trim_end_matches('/'));
        for app in state.apps.values().filter(|a| a.id.starts_with(&prefix)) {
            let mut scaled = app.clone();
            scaled.instances = (f64::from(app.instances) * factor).ceil() as u32;
            changes.push(Change {
                app_id: app.id.clone(),
                app: Some(scaled),
                action: DeploymentAction::ScaleApplication,
            });
        }
    } else {
        for app in nested {
            let id = app
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let rollback = rollbacks.remove(&id);
            changes.push(master.app_from_body(&state, &id, app, !create, rollback)?);
        }
    }
    let result = master.deploy(&mut state, changes, params.flag("force", false))?;
    Ok(responses::deployment(
        if create {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &result,
    ))
}

pub async fn create(
    State(master): State<Arc<Master>>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let id = body::object(&bytes)?
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| "/".to_string(), |g| PathId::normalise(g).to_string());
    apply(&master, &id, &bytes, &params, true).await
}

pub async fn update_root(
    State(master): State<Arc<Master>>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    apply(&master, "/", &bytes, &params, false).await
}

pub async fn update(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    apply(
        &master,
        &PathId::normalise(&rest).to_string(),
        &bytes,
        &params,
        false,
    )
    .await
}

pub async fn remove(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let id = PathId::normalise(&rest).to_string();
    let mut state = master.lock();
    if !group_exists(&state, &id) || id == "/" {
        return Err(ApiError::GroupNotFound { id });
    }
    let prefix = format!("{id}/");
    let changes: Vec<Change> = state
        .apps
        .keys()
        .filter(|a| a.starts_with(&prefix))
        .map(|a| Change {
            app_id: a.clone(),
            app: None,
            action: DeploymentAction::StopApplication,
        })
        .collect();
    let result = master.deploy(&mut state, changes, params.flag("force", true))?;
    Ok(responses::deployment(StatusCode::OK, &result))
}
