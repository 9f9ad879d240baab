//! Resolvers, ip-detect, the DNS domain, and the runtime version and bundle.
use std::collections::HashSet;

use super::Ctx;
use crate::files::{resolve, FileState};
use crate::{field, Cluster, IpDetect};

pub(super) fn check(cluster: &Cluster, ctx: &mut Ctx) {
    let network = &cluster.network;
    let mut seen = HashSet::new();
    for (i, resolver) in network.resolvers.iter().enumerate() {
        let key = format!("network.resolvers[{i}]");
        if let Err(e) = field::resolver(resolver) {
            ctx.error(&key, e);
        } else if !seen.insert(resolver) {
            ctx.error(&key, format!("`{resolver}` is listed twice"));
        }
    }
    match &network.ip_detect {
        IpDetect::Route => {}
        IpDetect::Interface(name) => {
            if let Err(e) = field::interface(name) {
                ctx.error("network.ip_detect", e);
            }
        }
        IpDetect::Script(path) => {
            let full = resolve(path, ctx.base, ctx.files.home().as_deref());
            match ctx.files.state(&full) {
                FileState::File { .. } => {}
                FileState::Missing => ctx.error(
                    "network.ip_detect",
                    format!("ip-detect script `{}` does not exist", path.display()),
                ),
                FileState::Directory => ctx.error(
                    "network.ip_detect",
                    format!("ip-detect script `{}` is a directory", path.display()),
                ),
            }
        }
    }
    if let Err(e) = field::domain(&network.domain) {
        ctx.error("network.domain", e);
    }
    if let Some(version) = &cluster.runtime.version {
        if let Err(e) = field::version(version) {
            ctx.error("runtime.version", e);
        }
    }
    if let Some(bundle) = &cluster.runtime.bundle {
        let full = resolve(bundle, ctx.base, ctx.files.home().as_deref());
        if ctx.files.state(&full) == FileState::Missing {
            ctx.error(
                "runtime.bundle",
                format!("bundle `{}` does not exist", bundle.display()),
            );
        }
    }
}
