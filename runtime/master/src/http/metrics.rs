//! `/metrics`: Prometheus text by default; JSON (Marathon's shape) when the client asks for
//! `application/json`, as marathon-python's `get_metrics` does.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use strato_proto::TaskState;

use crate::master::Master;

pub fn routes() -> Router<Arc<Master>> {
    Router::new().route("/metrics", get(metrics))
}

struct Figures {
    agents_active: usize,
    agents_inactive: usize,
    apps: usize,
    deployments: usize,
    tasks_running: usize,
    tasks_staging: usize,
    cpus_total: f64,
    cpus_used: f64,
    mem_total: f64,
    mem_used: f64,
}

fn figures(master: &Master) -> Figures {
    let state = master.view();
    let active = state.agents.values().filter(|a| a.active);
    let (cpus_total, mem_total) = active.fold((0.0, 0.0), |(c, m), a| {
        (c + a.info.resources.cpus, m + a.info.resources.mem)
    });
    let live = state.tasks.values().filter(|t| t.is_active());
    let (cpus_used, mem_used) = live.fold((0.0, 0.0), |(c, m), t| (c + t.cpus, m + t.mem));
    Figures {
        agents_active: state.agents.values().filter(|a| a.active).count(),
        agents_inactive: state.agents.values().filter(|a| !a.active).count(),
        apps: state.apps.len(),
        deployments: state.deployments.len(),
        tasks_running: state
            .tasks
            .values()
            .filter(|t| t.state == TaskState::Running)
            .count(),
        tasks_staging: state
            .tasks
            .values()
            .filter(|t| matches!(t.state, TaskState::Staging | TaskState::Starting))
            .count(),
        cpus_total,
        cpus_used,
        mem_total,
        mem_used,
    }
}

async fn metrics(State(master): State<Arc<Master>>, headers: HeaderMap) -> Response {
    let f = figures(&master);
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return Json(json!({
            "version": "4.0.0",
            "counters": {},
            "gauges": {
                "marathon.apps.active.gauge": {"value": f.apps},
                "marathon.deployments.active.gauge": {"value": f.deployments},
                "marathon.tasks.running.gauge": {"value": f.tasks_running},
                "marathon.tasks.staged.gauge": {"value": f.tasks_staging},
                "marathon.mesos.offers.used.gauge": {"value": 0},
            },
            "histograms": {}, "meters": {}, "timers": {},
        }))
        .into_response();
    }
    let text = format!(
        "# HELP strato_agents Registered agents by state.\n# TYPE strato_agents gauge\nstrato_agents{{state=\"active\"}} {}\nstrato_agents{{state=\"unreachable\"}} {}\n\
# HELP strato_apps Marathon apps.\n# TYPE strato_apps gauge\nstrato_apps {}\n\
# HELP strato_deployments Running deployments.\n# TYPE strato_deployments gauge\nstrato_deployments {}\n\
# HELP strato_tasks Active tasks by state.\n# TYPE strato_tasks gauge\nstrato_tasks{{state=\"running\"}} {}\nstrato_tasks{{state=\"staging\"}} {}\n\
# HELP strato_cpus Cpus on active agents.\n# TYPE strato_cpus gauge\nstrato_cpus{{kind=\"total\"}} {}\nstrato_cpus{{kind=\"used\"}} {}\n\
# HELP strato_mem_mebibytes Memory on active agents.\n# TYPE strato_mem_mebibytes gauge\nstrato_mem_mebibytes{{kind=\"total\"}} {}\nstrato_mem_mebibytes{{kind=\"used\"}} {}\n",
        f.agents_active, f.agents_inactive, f.apps, f.deployments, f.tasks_running, f.tasks_staging, f.cpus_total, f.cpus_used, f.mem_total, f.mem_used
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
