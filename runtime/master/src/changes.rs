//! Changes to apps as the Marathon API makes them. Every change is a deployment: one at a time
//! per app (409 otherwise, unless `force`), recorded with the previous definitions for rollback.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};
use strato_runtime_types::deployment::{DeploymentAction, DeploymentStep};
use strato_runtime_types::normalize;
use strato_runtime_types::path::PathId;
use strato_runtime_types::time::{iso, now_millis};
use strato_runtime_types::validate::{app_from_value, Violation};
use strato_runtime_types::{App, Deployment};
use strato_scheduler::ports::assign_service_ports;

use crate::error::ApiError;
use crate::groups::Groups;
use crate::master::Master;
use crate::state::State;

/// What a mutating call answers: `{"deploymentId", "version"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentResult {
    pub deployment_id: String,
    pub version: String,
}

impl DeploymentResult {
    pub fn to_json(&self) -> Value {
        json!({"deploymentId": self.deployment_id, "version": self.version})
    }
}

/// One app's part in a deployment: its new definition, or `None` to remove it.
#[derive(Debug, Clone)]
pub struct Change {
    pub app_id: String,
    pub app: Option<App>,
    pub action: DeploymentAction,
}

impl Master {
    /// The stored version a `{"version": …}` body rolls back to, read before the state is locked
    /// (the store is asynchronous); `None` for any other body.
    pub(crate) async fn rollback_target(
        &self,
        id: &str,
        body: &Map<String, Value>,
    ) -> Result<Option<App>, ApiError> {
        let Some(version) = body.get("version").and_then(Value::as_str) else {
            return Ok(None);
        };
        if body.keys().any(|k| k != "version" && k != "id") {
            // Refused by app_from_body with the reason.
            return Ok(None);
        }
        let Ok(id) = PathId::parse(id) else {
            return Ok(None);
        };
        let id = id.to_string();
        self.app_version(&id, version)
            .await?
            .map(Some)
            .ok_or_else(|| ApiError::NotFound {
                message: format!("App '{id}' in version '{version}' does not exist"),
            })
    }

    /// Builds the app a PUT/PATCH/POST body asks for. `partial` keeps absent fields of the
    /// existing app; `{"version": …}` is a rollback to that stored version, which the caller
    /// fetched with [`Master::rollback_target`].
    pub(crate) fn app_from_body(
        &self,
        state: &State,
        id: &str,
        mut body: Map<String, Value>,
        partial: bool,
        rollback: Option<App>,
    ) -> Result<Change, ApiError> {
        let id = PathId::parse(id)
            .map_err(|e| ApiError::Invalid {
                details: vec![Violation::new("/id", e)],
            })?
            .to_string();
        let existing = state.apps.get(&id);
        if let Some(version) = body
            .get("version")
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            if body.keys().any(|k| k != "version" && k != "id") {
                return Err(ApiError::Invalid {
                    details: vec![Violation::new(
                        "/version",
                        "The 'version' field may only be combined with the 'id' field.",
                    )],
                });
            }
            let app = rollback
                .filter(|app| app.version == version)
                .ok_or_else(|| ApiError::NotFound {
                    message: format!("App '{id}' in version '{version}' does not exist"),
                })?;
            let action = action_for(existing, &app);
            return Ok(Change {
                app_id: id,
                app: Some(app),
                action,
            });
        }
        body.remove("version");
        normalize::normalise(&mut body).map_err(ApiError::from)?;
        body.insert("id".into(), Value::String(id.clone()));
        let merged = match existing {
            Some(old) if partial => {
                normalize::merge(&serde_json::to_value(old).unwrap_or_default(), body)
            }
            _ => Value::Object(body),
        };
        let app = app_from_value(merged)?;
        self.allowed_container(&app)?;
        host_ports_in_range(state, &app)?;
        let cap = self.config.max_instances_per_app;
        if app.instances > cap {
            return Err(ApiError::Invalid {
                details: vec![Violation::new(
                    "/instances",
                    format!(
                        "got {}, expected between 0 and {cap} (master.toml max_instances_per_app)",
                        app.instances
                    ),
                )],
            });
        }
        let action = action_for(existing, &app);
        Ok(Change {
            app_id: id,
            app: Some(app),
            action,
        })
    }

    /// What this cluster allows of a container: `privileged`, and each `docker.parameters` key
    /// (master.toml, from cluster.yaml's `runtime`); a 422 naming the field otherwise.
    fn allowed_container(&self, app: &App) -> Result<(), ApiError> {
        let Some(docker) = app.container.as_ref().and_then(|c| c.docker.as_ref()) else {
            return Ok(());
        };
        let mut details = Vec::new();
        if docker.privileged && !self.config.allow_privileged_containers {
            details.push(Violation::new(
                "/container/docker/privileged",
                "Privileged containers are not allowed on this cluster \
                 (runtime.allow_privileged_containers in cluster.yaml)",
            ));
        }
        for (i, parameter) in docker.parameters.iter().enumerate() {
            let key = parameter
                .get("key")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !self.config.container_parameters.iter().any(|k| k == key) {
                details.push(Violation::new(
                    format!("/container/docker/parameters({i})/key"),
                    format!(
                        "Docker parameter '{key}' is not allowed on this cluster \
                         (runtime.container_parameters in cluster.yaml lists those that are)"
                    ),
                ));
            }
        }
        if details.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid { details })
        }
    }

    /// Applies changes as one deployment.
    pub(crate) fn deploy(
        &self,
        state: &mut State,
        changes: Vec<Change>,
        force: bool,
    ) -> Result<DeploymentResult, ApiError> {
        self.deploy_with(state, changes, force, None)
    }

    /// The steps `changes` (and the explicit groups becoming `groups`) would be deployed in, or
    /// the 422 a cycle gets: a group's `dryRun`. Changes nothing.
    pub(crate) fn plan_steps(
        &self,
        state: &mut State,
        changes: &[Change],
        groups: Groups,
    ) -> Result<Vec<Vec<DeploymentStep>>, ApiError> {
        let before = graph_before(state, changes);
        let old = std::mem::replace(&mut state.groups, groups);
        let steps = steps_of(state, changes, &before);
        state.groups = old;
        steps
    }

    /// [`Master::deploy`] that also makes `groups` the explicit groups (`crate::groups`), in the
    /// same commit; on an error nothing changes.
    pub(crate) fn deploy_with(
        &self,
        state: &mut State,
        changes: Vec<Change>,
        force: bool,
        groups: Option<Groups>,
    ) -> Result<DeploymentResult, ApiError> {
        let before = graph_before(state, &changes);
        let mut extra_ops = Vec::new();
        let mut old = None;
        if let Some(groups) = groups {
            extra_ops.push(strato_store::Op::put_json(
                strato_store::Table::Meta,
                crate::groups::GROUPS_KEY,
                &groups,
            )?);
            old = Some(std::mem::replace(&mut state.groups, groups));
        }
        let result = self.deploy_inner(state, changes, force, extra_ops, &before);
        if let (Err(_), Some(old)) = (&result, old) {
            state.groups = old;
        }
        result
    }

    fn deploy_inner(
        &self,
        state: &mut State,
        changes: Vec<Change>,
        force: bool,
        extra_ops: Vec<strato_store::Op>,
        before: &BTreeMap<String, Vec<String>>,
    ) -> Result<DeploymentResult, ApiError> {
        let ids: Vec<String> = changes.iter().map(|c| c.app_id.clone()).collect();
        let steps = steps_of(state, &changes, before)?;
        let conflicts = state.deployments_affecting(&ids);
        if !conflicts.is_empty() {
            if !force {
                return Err(ApiError::Locked {
                    deployments: conflicts,
                });
            }
            for id in conflicts {
                self.cancel_deployment(state, &id);
            }
        }
        let now = now_millis();
        let version = iso(state.next_version(now));
        let mut previous = BTreeMap::new();
        let mut ops = extra_ops;
        for change in &changes {
            previous.insert(
                change.app_id.clone(),
                state.apps.get(&change.app_id).cloned(),
            );
            match &change.app {
                Some(app) => {
                    let app = self.finalise(state, app.clone(), change.action, &version);
                    ops.extend(self.app_ops(state, &app)?);
                    state.converged.remove(&app.id);
                    state.apps.insert(app.id.clone(), app);
                }
                None => {
                    ops.extend(self.delete_app_ops(state, &change.app_id));
                    state.apps.remove(&change.app_id);
                    state.backoff.remove(&change.app_id);
                    state.failures.remove(&change.app_id);
                    state.waiting.remove(&change.app_id);
                    self.events
                        .emit("app_terminated_event", json!({"appId": change.app_id}));
                }
            }
        }
        let deployment = Deployment {
            id: uuid::Uuid::new_v4().to_string(),
            version: version.clone(),
            steps,
            previous,
        };
        // The apps, their versions and the deployment: one commit.
        ops.push(self.deployment_op(&deployment)?);
        self.write(ops);
        self.events.emit(
            "group_change_success",
            json!({"groupId": "/", "version": version}),
        );
        self.events
            .emit("deployment_info", deployment_info(&deployment));
        let result = DeploymentResult {
            deployment_id: deployment.id.clone(),
            version,
        };
        state.deployment_order.push(deployment.id.clone());
        state.deployments.insert(deployment.id.clone(), deployment);
        self.wake();
        Ok(result)
    }

    /// Sets version, versionInfo and service ports; a new configuration resets backoff.
    fn finalise(
        &self,
        state: &mut State,
        mut app: App,
        action: DeploymentAction,
        version: &str,
    ) -> App {
        let existing = state.apps.get(&app.id);
        app.version = version.to_string();
        match (existing, action) {
            (Some(old), DeploymentAction::ScaleApplication) => {
                app.version_info.last_config_change_at =
                    old.version_info.last_config_change_at.clone();
                app.version_info.last_scaling_at = version.to_string();
            }
            _ => {
                app.version_info.last_config_change_at = version.to_string();
                app.version_info.last_scaling_at = version.to_string();
                state.backoff.remove(&app.id);
            }
        }
        let used: BTreeSet<u32> = state
            .apps
            .values()
            .filter(|a| a.id != app.id)
            .flat_map(|a| a.service_ports())
            .collect();
        if app.is_host_networking() {
            let mut ports: Vec<u32> = app.port_definitions.iter().map(|p| p.port).collect();
            assign_service_ports(&mut ports, &used);
            for (definition, port) in app.port_definitions.iter_mut().zip(ports) {
                definition.port = port;
            }
        } else if let Some(mappings) = app
            .container
            .as_mut()
            .and_then(|c| c.port_mappings.as_mut())
        {
            let mut ports: Vec<u32> = mappings.iter().map(|m| m.service_port).collect();
            assign_service_ports(&mut ports, &used);
            for (mapping, port) in mappings.iter_mut().zip(ports) {
                mapping.service_port = port;
            }
        }
        app
    }

    /// Drops a deployment without touching apps (`force`); its changes stay in effect.
    pub(crate) fn cancel_deployment(&self, state: &mut State, id: &str) -> bool {
        if state.deployments.remove(id).is_none() {
            return false;
        }
        state.deployment_order.retain(|d| d != id);
        self.forget_deployment(id);
        self.events.emit("deployment_failed", json!({"id": id}));
        true
    }

    /// Cancels a deployment and deploys the apps as they were before it.
    pub(crate) fn rollback_deployment(
        &self,
        state: &mut State,
        id: &str,
    ) -> Result<DeploymentResult, ApiError> {
        let deployment = state
            .deployments
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::DeploymentNotFound { id: id.into() })?;
        self.cancel_deployment(state, id);
        let changes = deployment
            .previous
            .into_iter()
            .map(|(app_id, app)| {
                let action = match &app {
                    None => DeploymentAction::StopApplication,
                    Some(app) => action_for(state.apps.get(&app_id), app),
                };
                Change {
                    app_id,
                    app,
                    action,
                }
            })
            .collect();
        self.deploy(state, changes, true)
    }
}

/// `deployment_info`'s body in the shape marathon-python's `MarathonDeploymentPlan` accepts.
fn deployment_info(deployment: &Deployment) -> Value {
    let marathon = deployment.to_marathon_json(1);
    let group = json!({"id": "/", "apps": [], "groups": [], "pods": [], "dependencies": [], "version": deployment.version});
    json!({
        "plan": {"id": deployment.id, "version": deployment.version, "steps": marathon["steps"], "original": group, "target": group},
        "currentStep": marathon["steps"][0],
    })
}

/// Start for new apps; Scale when only `instances` differs; otherwise a (rolling) restart.
pub fn action_for(existing: Option<&App>, new: &App) -> DeploymentAction {
    match existing {
        None => DeploymentAction::StartApplication,
        Some(old) if same_config(old, new) => DeploymentAction::ScaleApplication,
        Some(_) => DeploymentAction::RestartApplication,
    }
}

/// Nothing to deploy: the same definition and instance count (a group PUT leaves such apps be).
pub fn unchanged(old: &App, new: &App) -> bool {
    old.instances == new.instances && same_config(old, new)
}

fn same_config(a: &App, b: &App) -> bool {
    let strip = |app: &App| {
        let mut app = app.clone();
        app.instances = 0;
        app.version = String::new();
        app.version_info = Default::default();
        // Service ports assigned by the master are not a change the user made.
        for definition in &mut app.port_definitions {
            definition.port = 0;
        }
        app
    };
    strip(a) == strip(b)
}

/// A fixed `hostPort` of a container mapping must lie in some registered agent's port range, or
/// no agent could ever run the app (checked once agents are known; a fresh cluster accepts it).
fn host_ports_in_range(state: &State, app: &App) -> Result<(), ApiError> {
    let Some(mappings) = app
        .container
        .as_ref()
        .and_then(|c| c.port_mappings.as_ref())
    else {
        return Ok(());
    };
    if state.agents.is_empty() {
        return Ok(());
    }
    let ranges: Vec<&strato_proto::PortRange> = state
        .agents
        .values()
        .flat_map(|a| a.info.resources.ports.iter())
        .collect();
    let details: Vec<Violation> = mappings
        .iter()
        .enumerate()
        .filter_map(|(i, m)| Some((i, m.host_port.filter(|p| *p != 0)?)))
        .filter(|(_, port)| {
            !ranges
                .iter()
                .any(|r| u32::from(r.begin) <= *port && *port <= u32::from(r.end))
        })
        .map(|(i, port)| {
            let offered: Vec<String> = ranges
                .iter()
                .map(|r| format!("{}-{}", r.begin, r.end))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            Violation::new(
                format!("/container/portMappings({i})/hostPort"),
                format!(
                    "hostPort {port} is outside every agent's port range ({}): no agent could \
                     run it; use 0 for one from the range",
                    offered.join(", ")
                ),
            )
        })
        .collect();
    if details.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid { details })
    }
}

fn cycle_error(cycle: &[String]) -> ApiError {
    ApiError::Invalid {
        details: vec![Violation::new(
            "/",
            format!(
                "Dependency graph has cyclic dependencies: {}",
                cycle.join(" -> ")
            ),
        )],
    }
}

/// Every app's own dependencies as they would be after `changes` (none for removed apps).
fn own_dependencies_after(state: &State, changes: &[Change]) -> BTreeMap<String, Vec<String>> {
    let mut own: BTreeMap<String, Vec<String>> = state
        .apps
        .iter()
        .map(|(id, app)| (id.clone(), app.dependencies.clone()))
        .collect();
    for change in changes {
        match &change.app {
            Some(app) => own.insert(change.app_id.clone(), app.dependencies.clone()),
            None => own.remove(&change.app_id),
        };
    }
    own
}

/// The dependencies, groups' included (`crate::groups`), of the apps after `changes`.
fn graph_after(state: &State, changes: &[Change]) -> BTreeMap<String, Vec<String>> {
    let own = own_dependencies_after(state, changes);
    own.iter()
        .map(|(id, deps)| {
            let all = crate::groups::effective_dependencies(&state.groups, id, deps, own.keys());
            (id.clone(), all)
        })
        .collect()
}

/// The dependencies stops are ordered by: those before the change, needed only when it removes
/// an app (the graph costs a pass over every app).
fn graph_before(state: &State, changes: &[Change]) -> BTreeMap<String, Vec<String>> {
    if changes.iter().any(|c| c.app.is_none()) {
        crate::groups::dependency_graph(state)
    } else {
        BTreeMap::new()
    }
}

/// The deployment's steps from the dependencies after `changes` (computed once, for the cycle
/// check and the order), or the 422 a cycle gets.
fn steps_of(
    state: &State,
    changes: &[Change],
    before: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<Vec<DeploymentStep>>, ApiError> {
    let after = graph_after(state, changes);
    match dependency_cycle(&after) {
        Some(cycle) => Err(cycle_error(&cycle)),
        None => Ok(ordered_steps(changes, &after, before)),
    }
}

/// A dependency cycle in `graph`, as the ids along it (first repeated at the end); Marathon
/// refuses such a group with a 422.
fn dependency_cycle(graph: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    // Iterative depth-first search with colours: 1 = on the current path, 2 = finished.
    let mut colour: BTreeMap<&str, u8> = BTreeMap::new();
    for start in graph.keys() {
        if colour.contains_key(start.as_str()) {
            continue;
        }
        let mut path: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
        colour.insert(start, 1);
        while let Some((node, next)) = path.last_mut() {
            let deps = graph.get(*node).map(Vec::as_slice).unwrap_or_default();
            if let Some(dep) = deps.get(*next) {
                *next += 1;
                match colour.get(dep.as_str()) {
                    Some(1) => {
                        let from = path.iter().position(|(n, _)| *n == dep.as_str())?;
                        let mut cycle: Vec<String> =
                            path[from..].iter().map(|(n, _)| n.to_string()).collect();
                        cycle.push(dep.clone());
                        return Some(cycle);
                    }
                    Some(_) => {}
                    None if graph.contains_key(dep.as_str()) => {
                        colour.insert(dep, 1);
                        path.push((dep.as_str(), 0));
                    }
                    None => {}
                }
            } else {
                colour.insert(node, 2);
                path.pop();
            }
        }
    }
    None
}

/// Steps in dependency order (groups' dependencies included): removals first, an app removed
/// after the removed apps that depend on it; then an app after the apps it depends on.
fn ordered_steps(
    changes: &[Change],
    after: &BTreeMap<String, Vec<String>>,
    before: &BTreeMap<String, Vec<String>>,
) -> Vec<Vec<DeploymentStep>> {
    let removed: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.app.is_none())
        .map(|c| c.app_id.as_str())
        .collect();
    let kept: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.app.is_some())
        .map(|c| c.app_id.as_str())
        .collect();
    // Longest chain within this deployment; cycles are cut by the iteration bound. A removal's
    // level counts the removed apps that depend on it (they stop first).
    let mut level: BTreeMap<&str, usize> = BTreeMap::new();
    let mut stop_level: BTreeMap<&str, usize> = BTreeMap::new();
    for _ in 0..changes.len() {
        for change in changes {
            let id = change.app_id.as_str();
            if change.app.is_some() {
                let mine = after
                    .get(id)
                    .into_iter()
                    .flatten()
                    .filter(|d| kept.contains(d.as_str()))
                    .map(|d| level.get(d.as_str()).copied().unwrap_or(0) + 1)
                    .max()
                    .unwrap_or(0);
                level.insert(id, mine);
            } else {
                let mine = removed
                    .iter()
                    .filter(|other| {
                        before
                            .get(**other)
                            .is_some_and(|deps| deps.iter().any(|d| d == id))
                    })
                    .map(|other| stop_level.get(other).copied().unwrap_or(0) + 1)
                    .max()
                    .unwrap_or(0);
                stop_level.insert(id, mine);
            }
        }
    }
    let stops = stop_level.values().copied().max().map_or(0, |m| m + 1);
    let max = level.values().copied().max().unwrap_or(0);
    let mut steps: Vec<Vec<DeploymentStep>> = vec![Vec::new(); stops + max + 1];
    for change in changes {
        let id = change.app_id.as_str();
        let step = if change.app.is_none() {
            stop_level[id]
        } else {
            stops + level[id]
        };
        steps[step].push(DeploymentStep {
            action: change.action,
            app_id: change.app_id.clone(),
        });
    }
    steps.retain(|s| !s.is_empty());
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str, deps: &[&str]) -> App {
        App {
            id: id.into(),
            cmd: Some("sleep 1".into()),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            ..App::default()
        }
    }

    #[test]
    fn scaling_is_not_a_config_change_but_a_new_command_is() {
        let old = app("/a", &[]);
        let scaled = App {
            instances: 5,
            version: "v2".into(),
            ..old.clone()
        };
        assert_eq!(
            action_for(Some(&old), &scaled),
            DeploymentAction::ScaleApplication
        );
        let changed = App {
            cmd: Some("sleep 2".into()),
            ..old.clone()
        };
        assert_eq!(
            action_for(Some(&old), &changed),
            DeploymentAction::RestartApplication
        );
        assert_eq!(action_for(None, &old), DeploymentAction::StartApplication);
    }

    #[test]
    fn steps_follow_dependency_chains() {
        let change = |a: App| Change {
            app_id: a.id.clone(),
            app: Some(a),
            action: DeploymentAction::StartApplication,
        };
        let changes = [
            change(app("/web", &["/api"])),
            change(app("/api", &["db"])),
            change(app("/db", &[])),
        ];
        let after = graph_after(&State::default(), &changes);
        let steps = ordered_steps(&changes, &after, &BTreeMap::new());
        let order: Vec<Vec<&str>> = steps
            .iter()
            .map(|s| s.iter().map(|a| a.app_id.as_str()).collect())
            .collect();
        assert_eq!(order, vec![vec!["/db"], vec!["/api"], vec!["/web"]]);
    }
}
