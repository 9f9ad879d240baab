//! What the operator sees while a job runs and when it ends: live per-host progress
//! (`progress`) and the summary table, dry-run plan and preflight tables (`summary`, pure text,
//! snapshot-tested).

pub mod progress;
pub mod summary;
