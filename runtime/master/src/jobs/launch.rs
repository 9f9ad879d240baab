//! A run that needs a task, as the scheduler sees it: an app of one instance under a reserved id
//! (`/.jobs/<job>/<run>`, which no Marathon app id can be), so placement, resources,
//! constraints, containers and artifacts work for jobs exactly as for apps.

use std::collections::BTreeMap;

use serde_json::Value;
use strato_runtime_types::app::{Container, Docker, Fetch, VersionInfo};
use strato_runtime_types::time::iso;
use strato_runtime_types::App;

use super::run::RunRecord;
use crate::state::State;

const PREFIX: &str = "/.jobs/";

/// The plan's id of a run.
pub fn app_id(job_id: &str, run_id: &str) -> String {
    format!("{PREFIX}{job_id}/{run_id}")
}

/// `(job, run)` of a plan id made by [`app_id`].
pub fn parse_app_id(id: &str) -> Option<(&str, &str)> {
    id.strip_prefix(PREFIX)?.split_once('/')
}

/// The run as an app of one instance.
pub fn run_app(run: &RunRecord) -> App {
    let spec = &run.spec;
    let version = iso(run.created_at);
    let container = spec.docker.as_ref().map(|docker| Container {
        docker: Some(Docker {
            image: docker.image.clone(),
            force_pull_image: false,
            privileged: false,
            parameters: Vec::new(),
        }),
        volumes: spec
            .volumes
            .iter()
            .map(|v| {
                serde_json::json!({"containerPath": v.container_path, "hostPath": v.host_path,
                                   "mode": v.mode})
            })
            .collect(),
        ..Container::default()
    });
    App {
        id: app_id(&run.job_id, &run.id),
        cmd: spec.cmd.clone(),
        args: spec.args.clone(),
        user: spec.user.clone(),
        instances: 1,
        cpus: spec.cpus,
        mem: spec.mem,
        disk: spec.disk,
        constraints: spec
            .placement
            .constraints
            .iter()
            .map(strato_runtime_types::job::JobConstraint::to_marathon)
            .collect(),
        env: spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.clone())))
            .collect::<BTreeMap<_, _>>(),
        fetch: spec
            .artifacts
            .iter()
            .map(|a| Fetch {
                uri: a.uri.clone(),
                extract: a.extract,
                executable: a.executable,
                cache: a.cache,
                dest_path: None,
            })
            .collect(),
        port_definitions: Vec::new(),
        container,
        version: version.clone(),
        version_info: VersionInfo {
            last_scaling_at: version.clone(),
            last_config_change_at: version,
        },
        ..App::default()
    }
}

/// Runs whose next attempt may launch now: not finished, not stopping, no live task, past
/// their retry delay.
pub fn pending_apps(state: &State, now: u64) -> Vec<App> {
    state
        .jobs
        .all_runs()
        .filter(|run| wants_launch(run, now))
        .map(run_app)
        .collect()
}

pub fn wants_launch(run: &RunRecord, now: u64) -> bool {
    !run.status.is_done()
        && !run.stopping
        && run.live_task().is_none()
        && run.launch_not_before <= now
}
