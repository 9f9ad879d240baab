//! Semantic checks on a decoded [`Cluster`]: what a well-formed file can still get wrong (master
//! count, an address in two roles, unreachable key files…). They work on any `Cluster`, including
//! one built by the wizard or the DC/OS import, where there are no positions.
mod cloud;
mod gateway;
mod hosts;
mod network;
mod ssh;

use std::path::Path;

use crate::decode::Positions;
use crate::diagnostic::{Diagnostics, Sink};
use crate::{Cluster, Files};

/// What the checks need besides the model.
pub(crate) struct Ctx<'a> {
    pub(crate) sink: &'a mut Sink,
    pub(crate) positions: &'a Positions,
    /// Relative paths in the file are relative to this directory (the file's own).
    pub(crate) base: &'a Path,
    pub(crate) files: &'a dyn Files,
}

impl Ctx<'_> {
    pub(crate) fn error(&mut self, key: &str, message: impl Into<String>) {
        let mark = self.positions.find(key);
        self.sink.error(mark, key, message);
    }

    pub(crate) fn warn(&mut self, key: &str, message: impl Into<String>) {
        let mark = self.positions.find(key);
        self.sink.warn(mark, key, message);
    }
}

pub(crate) fn run(cluster: &Cluster, ctx: &mut Ctx) {
    hosts::check(cluster, ctx);
    ssh::check(cluster, ctx);
    network::check(cluster, ctx);
    gateway::check(cluster, ctx);
    if let Some(cloud) = &cluster.cloud {
        cloud::check(cloud, cluster, ctx);
    }
}

/// Check a model that did not come from a file (wizard answers, a DC/OS import): diagnostics name
/// `file` but carry no line. `base` is the directory relative paths are resolved against.
pub fn check_model(cluster: &Cluster, file: &str, base: &Path, files: &dyn Files) -> Diagnostics {
    let mut sink = Sink::new(file);
    let positions = Positions::default();
    run(
        cluster,
        &mut Ctx {
            sink: &mut sink,
            positions: &positions,
            base,
            files,
        },
    );
    sink.finish()
}
