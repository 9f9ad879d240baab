//! One file per resource.

pub mod events;
pub mod health;
pub mod jobs;
pub mod serve;
