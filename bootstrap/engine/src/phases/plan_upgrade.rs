//! Plan the upgrade: read each node's installed versions from the node (`/opt/strato/current`
//! and `/opt/strato/previous`, never assumed), say what will change on it, and check the skew
//! rules across the cluster before any node changes:
//! - every node runs one version, or a previous upgrade to this same target stopped midway
//!   (some nodes on the target, the rest on one other version: resuming);
//! - no downgrade without `--allow-downgrade`, no skipped minor version without `--allow-skip`
//!   (a major step must land on its `.0` minor, or skip needs allowing too);
//! - a rollback needs every node to have a previous version.
//!
//! A node installed before versions were recorded says `unknown`: it is upgraded, and the skew
//! rules cannot judge it.

use async_trait::async_trait;
use strato_host::ExecOptions;

use crate::ctx::{HostCtx, JobCtx};
use crate::error::{EngineError, PhaseError};
use crate::phase::{HostFailure, Outcome, Phase};

const TITLE: &str = "Plan the upgrade";
/// Where a node records the version it runs and the one it ran before.
pub const CURRENT_VERSION: &str = "/opt/strato/current/VERSION";
pub const PREVIOUS_VERSION: &str = "/opt/strato/previous/VERSION";

/// What a node has installed, as read from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeVersions {
    /// `None`: installed before versions were recorded.
    pub current: Option<String>,
    pub previous: Option<String>,
}

/// What an upgrade installs: the version of the runtime bundle in the serve tree (or, for a dry
/// run, the one the CLI names: the new bundle is not served yet).
pub fn target_version(ctx: &JobCtx) -> Result<String, EngineError> {
    if let Some(version) = &ctx.options.target_version {
        return Ok(version.clone());
    }
    let manifest = ctx.serve.manifest()?;
    let bundle = manifest
        .files
        .iter()
        .find(|f| f.path.starts_with("bundle/"))
        .ok_or_else(|| EngineError::ServeTree {
            path: ctx.serve.dir.clone(),
            message: "the serve tree has no runtime bundle: pass --bundle".into(),
        })?;
    let path = ctx.serve.dir.join(&bundle.path);
    strato_bundle::read_manifest(&path)
        .map(|m| m.version)
        .map_err(|e| EngineError::ServeTree {
            path,
            message: e.to_string(),
        })
}

/// Why going from `from` to `to` needs an explicit allowance, if it does.
pub fn skew(from: &str, to: &str, allow_downgrade: bool, allow_skip: bool) -> Option<String> {
    let (Ok(a), Ok(b)) = (semver::Version::parse(from), semver::Version::parse(to)) else {
        return None;
    };
    if b < a && !allow_downgrade {
        return Some(format!(
            "{to} is older than {from}: a downgrade needs --allow-downgrade"
        ));
    }
    let skips = (b.major == a.major && b.minor > a.minor + 1)
        || (b.major == a.major + 1 && b.minor > 0)
        || b.major > a.major + 1;
    if b > a && skips && !allow_skip {
        return Some(format!(
            "{from} → {to} skips a minor version: upgrade through each one in turn, or pass \
             --allow-skip"
        ));
    }
    None
}

pub struct PlanUpgrade;

#[async_trait]
impl Phase for PlanUpgrade {
    fn title(&self) -> &str {
        TITLE
    }

    fn stops_job(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let name = host.name().to_string();
        let h = host.host()?;
        let out = h
            .read(
                &format!(
                    "cat {CURRENT_VERSION} 2>/dev/null; echo '--'; cat {PREVIOUS_VERSION} 2>/dev/null"
                ),
                ExecOptions::default(),
            )
            .await?
            .stdout_text();
        let (current, previous) = out.split_once("--").unwrap_or((&out, ""));
        let clean = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let versions = NodeVersions {
            current: clean(current),
            previous: clean(previous),
        };
        let runs = versions.current.clone().unwrap_or_else(|| "unknown".into());
        host.status.version = versions.current.clone();
        host.versions = Some(versions.clone());
        if ctx.options.rollback {
            let Some(previous) = &versions.previous else {
                return Err(PhaseError::failed(
                    &name,
                    format!("runs {runs} and has no previous version to roll back to"),
                ));
            };
            return Ok(Outcome::unchanged(format!(
                "runs {runs}; rolls back to {previous}"
            )));
        }
        let target = target_version(ctx).map_err(|e| PhaseError::failed(&name, e.to_string()))?;
        Ok(Outcome::unchanged(
            if versions.current.as_deref() == Some(&target) {
                format!("runs {target}: its version is current")
            } else {
                format!("runs {runs}; upgrades to {target}")
            },
        ))
    }

    async fn finish(&self, ctx: &JobCtx, hosts: &[&HostCtx]) -> Vec<HostFailure> {
        if ctx.options.rollback {
            return Vec::new();
        }
        let Ok(target) = target_version(ctx) else {
            return Vec::new();
        };
        let mut others: Vec<&str> = hosts
            .iter()
            .filter_map(|h| h.versions.as_ref()?.current.as_deref())
            .filter(|v| *v != target)
            .collect();
        others.sort_unstable();
        others.dedup();
        let problem = match others.as_slice() {
            [] => None,
            [from] => skew(
                from,
                &target,
                ctx.options.allow_downgrade,
                ctx.options.allow_skip,
            ),
            many => Some(format!(
                "nodes run {} besides {target}: every node must run one version before an \
                 upgrade starts (finish or roll back the last one first)",
                many.join(", ")
            )),
        };
        match problem {
            Some(message) => hosts
                .iter()
                .map(|h| HostFailure {
                    host: h.name().to_string(),
                    message: message.clone(),
                })
                .collect(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::skew;

    #[test]
    fn skew_rules_refuse_downgrades_and_skipped_minors_unless_allowed() {
        assert_eq!(skew("1.2.0", "1.3.0", false, false), None);
        assert_eq!(skew("1.2.0", "1.2.5", false, false), None);
        assert_eq!(skew("1.9.3", "2.0.0", false, false), None);
        assert!(
            skew("1.3.0", "1.2.0", false, false).is_some_and(|m| m.contains("--allow-downgrade"))
        );
        assert_eq!(skew("1.3.0", "1.2.0", true, false), None);
        assert!(skew("1.2.0", "1.4.0", false, false).is_some_and(|m| m.contains("--allow-skip")));
        assert!(skew("1.2.0", "2.1.0", false, false).is_some());
        assert!(skew("1.2.0", "3.0.0", false, false).is_some());
        assert_eq!(skew("1.2.0", "1.4.0", false, true), None);
        // A pre-release sorts before its release.
        assert!(skew("1.3.0", "1.3.0-rc.1", false, false).is_some());
        // Versions that are not semver are not judged.
        assert_eq!(skew("dev", "1.0.0", false, false), None);
    }
}
