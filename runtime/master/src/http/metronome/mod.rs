//! DC/OS Jobs: the Metronome v1 API (docs/jobs.md), on the master's ports and, through the
//! gateway, at `/service/metronome/…`. The jobs themselves live in `crate::jobs`.

mod error;
mod jobs;
mod queue;
mod runs;
mod schedules;

use std::sync::Arc;

use axum::body::Bytes;
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use strato_runtime_types::job::{job_id_pattern, JobBodyError};

pub use error::JobsError;

use crate::http::query::Params;
use crate::jobs::JobRecord;
use crate::master::Master;
use crate::state::State as MasterState;

pub fn routes() -> Router<Arc<Master>> {
    Router::new()
        .route("/v1/jobs", get(jobs::list).post(jobs::create))
        .route(
            "/v1/jobs/{id}",
            get(jobs::show).put(jobs::replace).delete(jobs::remove),
        )
        .route("/v1/jobs/{id}/runs", get(runs::list).post(runs::start))
        .route("/v1/jobs/{id}/runs/{run}", get(runs::show))
        .route("/v1/jobs/{id}/runs/{run}/actions/stop", post(runs::stop))
        .route(
            "/v1/jobs/{id}/schedules",
            get(schedules::list).post(schedules::create),
        )
        .route(
            "/v1/jobs/{id}/schedules/{schedule}",
            get(schedules::show)
                .put(schedules::replace)
                .delete(schedules::remove),
        )
        .route("/v1/queue", get(queue::list))
}

/// What `embed` asked for.
#[derive(Debug, Default)]
pub(super) struct Embed {
    active_runs: bool,
    schedules: bool,
    history: bool,
    history_summary: bool,
}

/// `embed` values, repeated or comma-separated; an unknown one is a 400 as Metronome answers.
fn embeds(params: &Params) -> Result<Embed, JobsError> {
    let mut embed = Embed::default();
    for value in params.all("embed").into_iter().flat_map(|v| v.split(',')) {
        match value.trim() {
            "activeRuns" => embed.active_runs = true,
            "schedules" => embed.schedules = true,
            "history" => embed.history = true,
            "historySummary" => embed.history_summary = true,
            "" => {}
            _ => {
                return Err(JobsError::BadRequest {
                    message: "Unknown embed options. Valid options are: activeRuns, schedules, \
                              history, historySummary"
                        .into(),
                })
            }
        }
    }
    Ok(embed)
}

/// A job id in a path: 400 when it cannot be one (Metronome's binder).
fn valid_job_id(id: &str) -> Result<(), JobsError> {
    if job_id_pattern().is_match(id) {
        Ok(())
    } else {
        Err(JobsError::BadRequest {
            message: format!("Not a valid id: {id}"),
        })
    }
}

/// The job `id`, or Metronome's 404.
fn find_job<'a>(state: &'a MasterState, id: &str) -> Result<&'a JobRecord, JobsError> {
    state
        .jobs
        .jobs
        .get(id)
        .ok_or_else(|| JobsError::UnknownJob { id: id.to_string() })
}

fn find_job_mut<'a>(state: &'a mut MasterState, id: &str) -> Result<&'a mut JobRecord, JobsError> {
    state
        .jobs
        .jobs
        .get_mut(id)
        .ok_or_else(|| JobsError::UnknownJob { id: id.to_string() })
}

fn json_body(body: &Bytes) -> Result<Value, JobsError> {
    serde_json::from_slice(body).map_err(|e| {
        JobsError::from(JobBodyError::Json {
            details: e.to_string(),
        })
    })
}
