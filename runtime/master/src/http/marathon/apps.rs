//! `/v2/apps`: list, create, update (PUT partial by default, PATCH), delete, restart, versions,
//! rollback, and the app's tasks.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use strato_runtime_types::deployment::DeploymentAction;
use strato_runtime_types::path::PathId;
use strato_runtime_types::App;

use super::app_info::{app_json, app_out, AppOut};
use super::responses;
use super::tasks;
use crate::changes::Change;
use crate::error::ApiError;
use crate::http::body;
use crate::http::query::Params;
use crate::master::Master;

/// What a path under `/v2/apps/` addresses.
#[derive(Debug, PartialEq)]
pub enum AppPath {
    App(String),
    Group(String),
    Restart(String),
    Tasks(String),
    Task(String, String),
    Versions(String),
    Version(String, String),
}

pub fn parse_path(rest: &str) -> AppPath {
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let id = |parts: &[&str]| PathId::normalise(&parts.join("/")).to_string();
    match segments.as_slice() {
        [group @ .., "*"] => AppPath::Group(id(group)),
        [app @ .., "restart"] if !app.is_empty() => AppPath::Restart(id(app)),
        [app @ .., "tasks"] if !app.is_empty() => AppPath::Tasks(id(app)),
        [app @ .., "tasks", task] if !app.is_empty() => AppPath::Task(id(app), task.to_string()),
        [app @ .., "versions"] if !app.is_empty() => AppPath::Versions(id(app)),
        [app @ .., "versions", version] if !app.is_empty() => {
            AppPath::Version(id(app), version.to_string())
        }
        all => AppPath::App(id(all)),
    }
}

pub async fn list(State(master): State<Arc<Master>>, params: Params) -> Response {
    let embed = params.embeds();
    let cmd = params.get("cmd").map(str::to_lowercase);
    let id = params.get("id").map(str::to_lowercase);
    let selector = params.get("label").map(LabelSelector::parse);
    let state = master.view();
    let apps: Vec<AppOut<'_>> = state
        .apps
        .values()
        .filter(|a| {
            cmd.as_ref()
                .is_none_or(|c| a.cmd.as_deref().unwrap_or("").to_lowercase().contains(c))
        })
        .filter(|a| id.as_ref().is_none_or(|i| a.id.to_lowercase().contains(i)))
        .filter(|a| selector.as_ref().is_none_or(|s| s.matches(a)))
        .map(|a| app_out(&state, a, &embed, false))
        .collect();
    Json(AppsOut { apps }).into_response()
}

#[derive(serde::Serialize)]
struct AppsOut<'a> {
    apps: Vec<AppOut<'a>>,
}

pub async fn create(
    State(master): State<Arc<Master>>,
    params: Params,
    uri: Uri,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let body = body::object(&bytes)?;
    let raw_id = body
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let rollback = master.rollback_target(&raw_id, &body).await?;
    let mut state = master.lock();
    let change = master.app_from_body(&state, &raw_id, body, false, rollback)?;
    if state.apps.contains_key(&change.app_id) {
        return Err(ApiError::AppExists { id: change.app_id });
    }
    let app_id = change.app_id.clone();
    let result = master.deploy(&mut state, vec![change], params.flag("force", false))?;
    let app = &state.apps[&app_id];
    master.events.emit(
        "api_post_event",
        json!({"clientIp": null, "uri": uri.path(), "appDefinition": app.to_marathon_json()}),
    );
    let mut created = app_json(&state, app, &Default::default(), false);
    created["tasksStaged"] = json!(0);
    created["tasksRunning"] = json!(0);
    created["deployments"] = json!([{"id": result.deployment_id}]);
    let mut response = responses::with_deployment_header(StatusCode::CREATED, &result, created);
    if let Ok(location) = HeaderValue::from_str(&format!("/v2/apps{app_id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

pub async fn put_many(
    State(master): State<Arc<Master>>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    update_many(&master, &params, &bytes, false).await
}

pub async fn patch_many(
    State(master): State<Arc<Master>>,
    params: Params,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    update_many(&master, &params, &bytes, true).await
}

async fn update_many(
    master: &Master,
    params: &Params,
    bytes: &Bytes,
    must_exist: bool,
) -> Result<Response, ApiError> {
    let items = body::array_of_objects(bytes)?;
    let mut rollbacks = Vec::new();
    for item in &items {
        let id = item.get("id").and_then(Value::as_str).unwrap_or("");
        rollbacks.push(master.rollback_target(id, item).await?);
    }
    let mut state = master.lock();
    let mut changes = Vec::new();
    for (item, rollback) in items.into_iter().zip(rollbacks) {
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if must_exist && !state.apps.contains_key(&PathId::normalise(&id).to_string()) {
            return Err(ApiError::AppNotFound {
                id: PathId::normalise(&id).to_string(),
            });
        }
        changes.push(master.app_from_body(
            &state,
            &id,
            item,
            params.flag("partialUpdate", true),
            rollback,
        )?);
    }
    let result = master.deploy(&mut state, changes, params.flag("force", false))?;
    Ok(responses::deployment(StatusCode::OK, &result))
}

pub async fn get_path(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    if let AppPath::Version(id, version) = parse_path(&rest) {
        let app = master
            .app_version(&id, &version)
            .await?
            .ok_or_else(|| ApiError::NotFound {
                message: format!("App '{id}' in version '{version}' does not exist"),
            })?;
        return Ok(Json(app.to_marathon_json()).into_response());
    }
    let state = master.view();
    match parse_path(&rest) {
        AppPath::App(id) => {
            let app = state
                .apps
                .get(&id)
                .ok_or(ApiError::AppNotFound { id: id.clone() })?;
            Ok(Json(json!({"app": app_json(&state, app, &params.embeds(), true)})).into_response())
        }
        AppPath::Group(group) => {
            let prefix = if group == "/" {
                "/".to_string()
            } else {
                format!("{group}/")
            };
            let apps: Vec<Value> = state
                .apps
                .values()
                .filter(|a| a.id.starts_with(&prefix))
                .map(|a| app_json(&state, a, &params.embeds(), false))
                .collect();
            if apps.is_empty() && group != "/" {
                return Err(ApiError::GroupNotFound { id: group });
            }
            Ok(Json(json!({"*": apps})).into_response())
        }
        AppPath::Tasks(id) => {
            let tasks = tasks::app_tasks(&state, &id)?;
            Ok(Json(json!({"tasks": tasks})).into_response())
        }
        AppPath::Versions(id) => {
            if !state.apps.contains_key(&id) {
                return Err(ApiError::AppNotFound { id });
            }
            let mut versions = state.versions.get(&id).cloned().unwrap_or_default();
            versions.reverse();
            Ok(Json(json!({"versions": versions})).into_response())
        }
        AppPath::Restart(_) | AppPath::Version(..) | AppPath::Task(_, _) => {
            Err(ApiError::NotFound {
                message: "HTTP 405 Method Not Allowed".into(),
            })
        }
    }
}

pub async fn put_path(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
    uri: Uri,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    update_one(
        &master,
        &rest,
        &params,
        &uri,
        &bytes,
        params.flag("partialUpdate", true),
        false,
    )
    .await
}

pub async fn patch_path(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
    uri: Uri,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    update_one(&master, &rest, &params, &uri, &bytes, true, true).await
}

async fn update_one(
    master: &Master,
    rest: &str,
    params: &Params,
    uri: &Uri,
    bytes: &Bytes,
    partial: bool,
    must_exist: bool,
) -> Result<Response, ApiError> {
    let AppPath::App(id) = parse_path(rest) else {
        return Err(ApiError::NotFound {
            message: format!("URI not found: {}", uri.path()),
        });
    };
    let body = body::object(bytes)?;
    let rollback = master.rollback_target(&id, &body).await?;
    let mut state = master.lock();
    let exists = state.apps.contains_key(&id);
    if must_exist && !exists {
        return Err(ApiError::AppNotFound { id });
    }
    let change = master.app_from_body(&state, &id, body, partial, rollback)?;
    let result = master.deploy(&mut state, vec![change], params.flag("force", false))?;
    if let Some(app) = state.apps.get(&id) {
        master.events.emit(
            "api_post_event",
            json!({"clientIp": null, "uri": uri.path(), "appDefinition": app.to_marathon_json()}),
        );
    }
    let status = if exists {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut response = responses::deployment(status, &result);
    if !exists {
        if let Ok(location) = HeaderValue::from_str(&format!("/v2/apps{id}")) {
            response.headers_mut().insert(header::LOCATION, location);
        }
    }
    Ok(response)
}

pub async fn delete_path(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    match parse_path(&rest) {
        AppPath::App(id) => {
            let mut state = master.lock();
            if !state.apps.contains_key(&id) {
                return Err(ApiError::AppNotFound { id });
            }
            let change = Change {
                app_id: id,
                app: None,
                action: DeploymentAction::StopApplication,
            };
            let result = master.deploy(&mut state, vec![change], params.flag("force", true))?;
            Ok(responses::deployment(StatusCode::OK, &result))
        }
        AppPath::Tasks(id) => tasks::kill_app_tasks(&master, &id, &params).await,
        AppPath::Task(id, task_id) => tasks::kill_app_task(&master, &id, &task_id, &params).await,
        _ => Err(ApiError::NotFound {
            message: format!("URI not found: /v2/apps/{rest}"),
        }),
    }
}

pub async fn post_path(
    State(master): State<Arc<Master>>,
    Path(rest): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let AppPath::Restart(id) = parse_path(&rest) else {
        return Err(ApiError::NotFound {
            message: format!("URI not found: /v2/apps/{rest}"),
        });
    };
    let mut state = master.lock();
    let app: App = state
        .apps
        .get(&id)
        .cloned()
        .ok_or(ApiError::AppNotFound { id: id.clone() })?;
    let change = Change {
        app_id: id,
        app: Some(app),
        action: DeploymentAction::RestartApplication,
    };
    let result = master.deploy(&mut state, vec![change], params.flag("force", false))?;
    Ok(responses::deployment(StatusCode::OK, &result))
}

/// Marathon's label selector: `k`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`; commas AND.
#[derive(Debug)]
pub struct LabelSelector(Vec<(String, String, Vec<String>)>);

impl LabelSelector {
    pub fn parse(text: &str) -> LabelSelector {
        let mut terms = Vec::new();
        let mut depth = 0;
        let mut current = String::new();
        for c in text.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    terms.push(std::mem::take(&mut current));
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        terms.push(current);
        let parsed = terms
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .map(|term| {
                let set = |rest: &str| {
                    rest.trim()
                        .trim_start_matches('(')
                        .trim_end_matches(')')
                        .split(',')
                        .map(|v| v.trim().to_string())
                        .collect()
                };
                if let Some((k, v)) = term.split_once("==") {
                    (k.trim().into(), "==".into(), vec![v.trim().to_string()])
                } else if let Some((k, v)) = term.split_once("!=") {
                    (k.trim().into(), "!=".into(), vec![v.trim().to_string()])
                } else if let Some((k, rest)) = term.split_once(" notin ") {
                    (k.trim().into(), "notin".into(), set(rest))
                } else if let Some((k, rest)) = term.split_once(" in ") {
                    (k.trim().into(), "in".into(), set(rest))
                } else {
                    (term.to_string(), "exists".into(), Vec::new())
                }
            })
            .collect();
        LabelSelector(parsed)
    }

    pub fn matches(&self, app: &App) -> bool {
        self.0.iter().all(|(key, op, values)| {
            let value = app.labels.get(key);
            match op.as_str() {
                "==" | "in" => value.is_some_and(|v| values.contains(v)),
                "!=" | "notin" => value.is_none_or(|v| !values.contains(v)),
                _ => value.is_some(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_apps_are_parsed_with_nested_ids() {
        assert_eq!(parse_path("/shop/db"), AppPath::App("/shop/db".into()));
        assert_eq!(
            parse_path("//shop/db/restart"),
            AppPath::Restart("/shop/db".into())
        );
        assert_eq!(
            parse_path("a/tasks/t1"),
            AppPath::Task("/a".into(), "t1".into())
        );
        assert_eq!(parse_path("a/versions"), AppPath::Versions("/a".into()));
        assert_eq!(parse_path("shop/*"), AppPath::Group("/shop".into()));
    }

    #[test]
    fn label_selectors_combine_with_and() {
        let mut app = App::default();
        app.labels.insert("env".into(), "prod".into());
        app.labels.insert("team".into(), "a".into());
        assert!(LabelSelector::parse("env==prod,team in (a, b)").matches(&app));
        assert!(!LabelSelector::parse("env!=prod").matches(&app));
        assert!(LabelSelector::parse("team").matches(&app));
        assert!(!LabelSelector::parse("owner").matches(&app));
        assert!(LabelSelector::parse("owner notin (x)").matches(&app));
    }
}
