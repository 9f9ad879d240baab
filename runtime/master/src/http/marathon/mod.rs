//! Marathon REST API v2 (docs/marathon-contract.md §API v2 endpoints served): apps, tasks,
//! deployments, groups, queue, info, leader, events and ping.

mod app_info;
mod apps;
mod deployments;
mod events;
mod groups;
mod info;
mod offers;
mod queue;
mod responses;
mod tasks;

use std::sync::Arc;

use axum::routing::{delete, get, post};
use axum::Router;

use crate::master::Master;

pub fn routes() -> Router<Arc<Master>> {
    Router::new()
        .route(
            "/v2/apps",
            get(apps::list)
                .post(apps::create)
                .put(apps::put_many)
                .patch(apps::patch_many),
        )
        .route(
            "/v2/apps/{*rest}",
            get(apps::get_path)
                .put(apps::put_path)
                .patch(apps::patch_path)
                .delete(apps::delete_path)
                .post(apps::post_path),
        )
        .route("/v2/tasks", get(tasks::list))
        .route("/v2/tasks/delete", post(tasks::delete_many))
        .route("/v2/deployments", get(deployments::list))
        .route("/v2/deployments/{id}", delete(deployments::delete))
        .route(
            "/v2/groups",
            get(groups::root)
                .post(groups::create)
                .put(groups::update_root)
                .patch(groups::patch_root),
        )
        .route(
            "/v2/groups/{*rest}",
            get(groups::show)
                .post(groups::create_in)
                .put(groups::update)
                .patch(groups::patch)
                .delete(groups::remove),
        )
        .route("/v2/queue", get(queue::list))
        .route("/v2/queue/{*rest}", delete(queue::reset_delay))
        .route("/v2/info", get(info::info))
        .route("/v2/leader", get(info::leader).delete(info::abdicate))
        .route("/v2/events", get(events::stream))
        .route("/ping", get(info::ping))
}
