//! `/v2/groups`: groups as Marathon has them (`crate::groups`). `POST` creates (409 if the group
//! exists; it may be empty), `PUT` replaces (apps and nested groups left out of a listed `apps` or
//! `groups` are stopped, dependents first; `dryRun` answers the plan; `{"version": v}` rolls the
//! group back to what it held at `v`; `scaleBy`), `PATCH` merges and never removes, `DELETE`
//! stops everything inside (refused while a deployment touches it unless `force`). Versions:
//! `/v2/groups/{id}/versions[/{v}]`. `embed`: `group.groups`, `group.apps`, `group.apps.tasks`,
//! `group.apps.counts`, `group.apps.deployments`, `group.apps.lastTaskFailure`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use strato_runtime_types::deployment::DeploymentAction;
use strato_runtime_types::path::PathId;
use strato_runtime_types::time::{iso, now_millis};
use strato_runtime_types::validate::Violation;
use strato_store::{Op, StoreExt, Table};

use super::responses;
use crate::changes::{unchanged, Change};
use crate::error::ApiError;
use crate::groups::{self, Groups};
use crate::http::body;
use crate::http::query::Params;
use crate::master::Master;
use crate::state::State as MasterState;

/// What a group's JSON holds.
enum Embed {
    /// A stored version: every nested group, apps as defined (no tasks, no counts).
    Snapshot,
    /// An API answer, by `embed` (Marathon's default: `group.groups` and `group.apps`).
    Api {
        groups: bool,
        apps: bool,
        app_embeds: BTreeSet<String>,
    },
}

fn embed_of(params: &Params) -> Embed {
    let asked = params.all("embed");
    if asked.is_empty() {
        return Embed::Api {
            groups: true,
            apps: true,
            app_embeds: BTreeSet::new(),
        };
    }
    Embed::Api {
        groups: asked.contains(&"group.groups"),
        apps: asked.iter().any(|e| e.starts_with("group.apps")),
        app_embeds: asked
            .iter()
            .filter_map(|e| e.strip_prefix("group.apps."))
            .map(String::from)
            .collect(),
    }
}

fn group_json(state: &MasterState, id: &str, embed: &Embed) -> Value {
    let (with_groups, with_apps) = match embed {
        Embed::Snapshot => (true, true),
        Embed::Api { groups, apps, .. } => (*groups, *apps),
    };
    let direct = state.apps.values().filter(|a| groups::parent(&a.id) == id);
    let apps: Vec<Value> = if with_apps {
        direct
            .map(|app| match embed {
                Embed::Snapshot => app.to_marathon_json(),
                Embed::Api { app_embeds, .. } => {
                    super::app_info::app_json(state, app, app_embeds, false)
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let nested: Vec<Value> = if with_groups {
        groups::children(state, id)
            .iter()
            .map(|child| group_json(state, child, embed))
            .collect()
    } else {
        Vec::new()
    };
    let meta = state.groups.get(id);
    let version = meta
        .map(|m| m.version.clone())
        .filter(|v| !v.is_empty())
        .or_else(|| {
            state
                .apps
                .values()
                .filter(|a| groups::is_within(&a.id, id))
                .map(|a| a.version.clone())
                .max()
        })
        .unwrap_or_default();
    json!({
        "id": id,
        "apps": apps,
        "groups": nested,
        "pods": [],
        "dependencies": meta.map(|m| m.dependencies.clone()).unwrap_or_default(),
        "version": version,
    })
}

/// `a/b`, `a/b/versions`, `a/b/versions/<v>`.
enum GroupPath {
    Group(String),
    Versions(String),
    Version(String, String),
}

fn parse_path(rest: &str) -> GroupPath {
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let id = |parts: &[&str]| PathId::normalise(&parts.join("/")).to_string();
    match parts.as_slice() {
        [group @ .., "versions"] => GroupPath::Versions(id(group)),
        [group @ .., "versions", version] => GroupPath::Version(id(group), version.to_string()),
        _ => GroupPath::Group(id(&parts)),
    }
}

pub async fn root(State(master): State<Arc<Master>>, params: Params) -> Json<Value> {
    Json(group_json(&master.view(), "/", &embed_of(&params)))
}

pub async fn show(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let state = master.view();
    match parse_path(&rest) {
        GroupPath::Group(id) => {
            if !groups::exists(&state, &id) {
                return Err(ApiError::GroupNotFound { id });
            }
            Ok(Json(group_json(&state, &id, &embed_of(&params))).into_response())
        }
        GroupPath::Versions(id) => {
            if !groups::exists(&state, &id) && !state.group_versions.contains_key(&id) {
                return Err(ApiError::GroupNotFound { id });
            }
            let mut versions = state.group_versions.get(&id).cloned().unwrap_or_default();
            versions.reverse();
            Ok(Json(json!(versions)).into_response())
        }
        GroupPath::Version(id, version) => {
            drop(state);
            Ok(Json(group_version(&master, &id, &version).await?).into_response())
        }
    }
}

/// A stored version of a group (what it held after a change made at `version`).
async fn group_version(master: &Master, id: &str, version: &str) -> Result<Value, ApiError> {
    if master.is_leader() {
        master.durable().await?;
    }
    master
        .store
        .get_json::<Value>(Table::Meta, &groups::version_key(id, version))
        .await?
        .ok_or_else(|| ApiError::NotFound {
            message: format!("Group '{id}' in version '{version}' does not exist"),
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Create,
    Replace,
    Patch,
}

/// What a group body asks for, with every id made absolute.
#[derive(Default)]
struct Wanted {
    apps: Vec<Map<String, Value>>,
    /// Groups named in the body, with their dependencies when the body gives them.
    groups: BTreeMap<String, Option<Vec<String>>>,
    /// Groups whose `apps` the body lists (apps left out are removed on a replace).
    apps_listed: BTreeSet<String>,
    /// Groups whose `groups` the body lists (nested groups left out are removed on a replace).
    groups_listed: BTreeSet<String>,
}

fn collect(
    id: &str,
    group: &Map<String, Value>,
    at: &str,
    wanted: &mut Wanted,
) -> Result<(), ApiError> {
    let dependencies = match group.get("dependencies") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => Some(
            list.iter()
                .map(|d| {
                    d.as_str()
                        .map(|d| groups::resolve(id, d))
                        .ok_or_else(|| invalid(&format!("{at}/dependencies"), "expected strings"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err(invalid(&format!("{at}/dependencies"), "expected an array")),
    };
    if id != "/" {
        wanted.groups.insert(id.to_string(), dependencies);
    } else if dependencies.as_ref().is_some_and(|d| !d.is_empty()) {
        return Err(invalid(
            &format!("{at}/dependencies"),
            "the root group has no dependencies",
        ));
    }
    match group.get("apps") {
        None | Some(Value::Null) => {}
        Some(Value::Array(apps)) => {
            wanted.apps_listed.insert(id.to_string());
            for (i, app) in apps.iter().enumerate() {
                let here = format!("{at}/apps({i})");
                let mut app = app
                    .as_object()
                    .cloned()
                    .ok_or_else(|| invalid(&here, "expected an app definition"))?;
                let given = app.get("id").and_then(Value::as_str).unwrap_or("");
                if given.is_empty() {
                    return Err(invalid(&format!("{here}/id"), "is required"));
                }
                let app_id = groups::resolve(id, given);
                if groups::parent(&app_id) != id {
                    return Err(invalid(
                        &format!("{here}/id"),
                        &format!("App {app_id} is not a direct child of group {id}"),
                    ));
                }
                app.insert("id".into(), Value::String(app_id));
                wanted.apps.push(app);
            }
        }
        Some(_) => return Err(invalid(&format!("{at}/apps"), "expected an array")),
    }
    match group.get("groups") {
        None | Some(Value::Null) => {}
        Some(Value::Array(children)) => {
            wanted.groups_listed.insert(id.to_string());
            for (i, child) in children.iter().enumerate() {
                let here = format!("{at}/groups({i})");
                let child = child
                    .as_object()
                    .ok_or_else(|| invalid(&here, "expected a group"))?;
                let given = child.get("id").and_then(Value::as_str).unwrap_or("");
                if given.is_empty() {
                    return Err(invalid(&format!("{here}/id"), "is required"));
                }
                let child_id = groups::resolve(id, given);
                if groups::parent(&child_id) != id {
                    return Err(invalid(
                        &format!("{here}/id"),
                        &format!("Group {child_id} is not a direct child of group {id}"),
                    ));
                }
                collect(&child_id, child, &here, wanted)?;
            }
        }
        Some(_) => return Err(invalid(&format!("{at}/groups"), "expected an array")),
    }
    Ok(())
}

fn invalid(path: &str, message: &str) -> ApiError {
    ApiError::Invalid {
        details: vec![Violation::new(
            if path.is_empty() { "/" } else { path },
            message,
        )],
    }
}

/// A version's snapshot as a replace body: apps without their version fields.
fn snapshot_as_body(mut snapshot: Value) -> Map<String, Value> {
    fn strip(group: &mut Value) {
        if let Some(apps) = group.get_mut("apps").and_then(Value::as_array_mut) {
            for app in apps.iter_mut().filter_map(Value::as_object_mut) {
                app.remove("version");
                app.remove("versionInfo");
            }
        }
        if let Some(children) = group.get_mut("groups").and_then(Value::as_array_mut) {
            children.iter_mut().for_each(strip);
        }
    }
    strip(&mut snapshot);
    snapshot.as_object().cloned().unwrap_or_default()
}

/// The app changes and the explicit groups after a body is applied to `group_id`.
fn plan(
    master: &Master,
    state: &MasterState,
    group_id: &str,
    wanted: Wanted,
    mode: Mode,
) -> Result<(Vec<Change>, Groups), ApiError> {
    let mut changes = Vec::new();
    let mut listed = BTreeSet::new();
    for app in wanted.apps {
        let id = app
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        listed.insert(id.clone());
        let change = master.app_from_body(state, &id, app, mode == Mode::Patch, None)?;
        let same = match (state.apps.get(&id), &change.app) {
            (Some(old), Some(new)) => unchanged(old, new),
            _ => false,
        };
        if !same {
            changes.push(change);
        }
    }
    let mut groups = state.groups.clone();
    if mode != Mode::Patch {
        // Apps left out of a listed `apps`, and nested groups left out of a listed `groups`
        // (with everything inside them), go.
        let mut gone_groups: BTreeSet<String> = BTreeSet::new();
        for listed_group in &wanted.groups_listed {
            for child in groups::children(state, listed_group) {
                if !wanted.groups.contains_key(&child) {
                    gone_groups.insert(child);
                }
            }
        }
        for app in state.apps.keys() {
            let left_out =
                wanted.apps_listed.contains(&groups::parent(app)) && !listed.contains(app);
            let in_gone = gone_groups.iter().any(|g| groups::is_within(app, g));
            if (left_out || in_gone) && !listed.contains(app) {
                changes.push(Change {
                    app_id: app.clone(),
                    app: None,
                    action: DeploymentAction::StopApplication,
                });
            }
        }
        groups.retain(|id, _| !gone_groups.iter().any(|g| groups::is_within(id, g)));
    }
    for (id, dependencies) in wanted.groups {
        let entry = groups.entry(id).or_default();
        if let Some(dependencies) = dependencies {
            entry.dependencies = dependencies;
        }
    }
    if group_id != "/" {
        groups.entry(group_id.to_string()).or_default();
    }
    Ok((changes, groups))
}

async fn apply(
    master: &Master,
    group_id: &str,
    bytes: &Bytes,
    params: &Params,
    mode: Mode,
) -> Result<Response, ApiError> {
    let mut body = body::object(bytes)?;
    let mut mode = mode;
    // `{"version": v}` (with at most the id): the group as it was at v, replacing what it holds.
    if body.contains_key("version") && body.keys().all(|k| k == "version" || k == "id") {
        let version = body
            .get("version")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("/version", "expected a version string"))?
            .to_string();
        body = snapshot_as_body(group_version(master, group_id, &version).await?);
        mode = Mode::Replace;
    }
    let mut state = master.lock();
    if mode == Mode::Create && group_id != "/" && groups::exists(&state, group_id) {
        return Err(ApiError::GroupExists {
            id: group_id.into(),
        });
    }
    if mode == Mode::Patch && !groups::exists(&state, group_id) {
        return Err(ApiError::GroupNotFound {
            id: group_id.into(),
        });
    }
    let (changes, new_groups) = if let Some(factor) = body.get("scaleBy") {
        let factor = factor
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .ok_or_else(|| invalid("/scaleBy", "expected a number of 0 or more"))?;
        let changes = state
            .apps
            .values()
            .filter(|a| groups::is_within(&a.id, group_id))
            .map(|app| {
                let mut scaled = app.clone();
                scaled.instances = (f64::from(app.instances) * factor).ceil() as u32;
                Change {
                    app_id: app.id.clone(),
                    app: Some(scaled),
                    action: DeploymentAction::ScaleApplication,
                }
            })
            .collect();
        (changes, state.groups.clone())
    } else {
        let mut wanted = Wanted::default();
        collect(group_id, &body, "", &mut wanted)?;
        plan(master, &state, group_id, wanted, mode)?
    };

    if params.flag("dryRun", false) {
        let steps = master.plan_steps(&mut state, &changes, new_groups)?;
        let steps: Vec<Value> = steps
            .iter()
            .map(|step| {
                json!({"actions": step.iter().map(|s| json!({"action": s.action.as_str(), "app": s.app_id})).collect::<Vec<_>>()})
            })
            .collect();
        let original = group_json(&state, group_id, &Embed::Snapshot);
        return Ok(Json(json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "version": iso(now_millis()),
            "original": original,
            "steps": steps,
        }))
        .into_response());
    }

    let result = master.deploy_with(
        &mut state,
        changes,
        params.flag("force", false),
        Some(new_groups),
    )?;
    record_version(master, &mut state, group_id, &result.version)?;
    Ok(responses::deployment(
        if mode == Mode::Create {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &result,
    ))
}

/// Stamps the group with the change's version and keeps what it holds now as that version.
fn record_version(
    master: &Master,
    state: &mut MasterState,
    group_id: &str,
    version: &str,
) -> Result<(), ApiError> {
    if let Some(meta) = state.groups.get_mut(group_id) {
        meta.version = version.to_string();
    }
    let snapshot = group_json(state, group_id, &Embed::Snapshot);
    let mut ops = vec![
        Op::put_json(Table::Meta, groups::GROUPS_KEY, &state.groups)?,
        Op::put_json(
            Table::Meta,
            groups::version_key(group_id, version),
            &snapshot,
        )?,
    ];
    let versions = state
        .group_versions
        .entry(group_id.to_string())
        .or_default();
    versions.push(version.to_string());
    while versions.len() > groups::MAX_GROUP_VERSIONS {
        let oldest = versions.remove(0);
        ops.push(Op::delete(
            Table::Meta,
            groups::version_key(group_id, &oldest),
        ));
    }
    master.write(ops);
    Ok(())
}

/// The id a `POST` creates: the body's, relative to the path's group.
fn created_id(base: &str, bytes: &Bytes) -> Result<String, ApiError> {
    let body = body::object(bytes)?;
    let given = body.get("id").and_then(Value::as_str).unwrap_or("");
    if given.is_empty() && base == "/" {
        return Err(invalid("/id", "is required"));
    }
    Ok(if given.is_empty() {
        base.to_string()
    } else {
        groups::resolve(base, given)
    })
}

pub async fn create(
    State(master): State<Arc<Master>>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let id = created_id("/", &bytes)?;
    apply(&master, &id, &bytes, &params, Mode::Create).await
}

pub async fn create_in(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let base = PathId::normalise(&rest).to_string();
    let id = created_id(&base, &bytes)?;
    // The body's id is relative to the path: make it the group's own id for `collect`.
    let mut body = body::object(&bytes)?;
    body.insert("id".into(), Value::String(id.clone()));
    let bytes = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    apply(&master, &id, &bytes, &params, Mode::Create).await
}

pub async fn update_root(
    State(master): State<Arc<Master>>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    apply(&master, "/", &bytes, &params, Mode::Replace).await
}

pub async fn update(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    match parse_path(&rest) {
        // The older rollback form marathon-python's rollback_group uses.
        GroupPath::Version(id, version) => {
            let body = Bytes::from(json!({ "version": version }).to_string());
            apply(&master, &id, &body, &params, Mode::Replace).await
        }
        GroupPath::Group(id) | GroupPath::Versions(id) => {
            apply(&master, &id, &bytes, &params, Mode::Replace).await
        }
    }
}

pub async fn patch_root(
    State(master): State<Arc<Master>>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    apply(&master, "/", &bytes, &params, Mode::Patch).await
}

pub async fn patch(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let id = PathId::normalise(&rest).to_string();
    apply(&master, &id, &bytes, &params, Mode::Patch).await
}

pub async fn remove(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let id = PathId::normalise(&rest).to_string();
    let mut state = master.lock();
    if id == "/" || !groups::exists(&state, &id) {
        return Err(ApiError::GroupNotFound { id });
    }
    let changes: Vec<Change> = state
        .apps
        .keys()
        .filter(|a| groups::is_within(a, &id))
        .map(|a| Change {
            app_id: a.clone(),
            app: None,
            action: DeploymentAction::StopApplication,
        })
        .collect();
    let mut new_groups = state.groups.clone();
    new_groups.retain(|g, _| !groups::is_within(g, &id));
    // Marathon refuses to delete a group a deployment is changing unless forced.
    let result = master.deploy_with(
        &mut state,
        changes,
        params.flag("force", false),
        Some(new_groups),
    )?;
    Ok(responses::deployment(StatusCode::OK, &result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_paths_parse() {
        assert!(matches!(parse_path("shop"), GroupPath::Group(id) if id == "/shop"));
        assert!(matches!(parse_path("shop/versions"), GroupPath::Versions(id) if id == "/shop"));
        assert!(matches!(
            parse_path("a/b/versions/2026-01-01T00:00:00.000Z"),
            GroupPath::Version(id, v) if id == "/a/b" && v == "2026-01-01T00:00:00.000Z"
        ));
    }

    #[test]
    fn a_body_names_apps_and_groups_with_absolute_ids() {
        let body = json!({
            "id": "/stack",
            "dependencies": [],
            "apps": [{"id": "web", "cmd": "x"}],
            "groups": [{"id": "back", "dependencies": ["../db"], "apps": [{"id": "api", "cmd": "y"}]}]
        });
        let mut wanted = Wanted::default();
        collect("/stack", body.as_object().expect("object"), "", &mut wanted).expect("valid");
        let ids: Vec<&str> = wanted
            .apps
            .iter()
            .filter_map(|a| a.get("id").and_then(Value::as_str))
            .collect();
        assert_eq!(ids, vec!["/stack/web", "/stack/back/api"]);
        assert_eq!(
            wanted.groups.get("/stack/back"),
            Some(&Some(vec!["/stack/db".to_string()]))
        );
        assert!(wanted.apps_listed.contains("/stack") && wanted.groups_listed.contains("/stack"));

        let outside = json!({"apps": [{"id": "/elsewhere/web", "cmd": "x"}]});
        let refused = collect(
            "/stack",
            outside.as_object().expect("object"),
            "",
            &mut Wanted::default(),
        );
        assert!(matches!(refused, Err(ApiError::Invalid { .. })));
    }
}
