//! Marathon groups as objects: a group exists when it was created (it may be empty) or when an
//! app lives under it; it carries `dependencies` that every app inside inherits, and its versions
//! (what the group held after each change made through `/v2/groups`) for rollback.
//!
//! Stored under `meta/groups` (the explicit groups, one record) and `meta/group-versions/<id>@<v>`
//! (one snapshot each), so HA and backups carry them as they carry apps.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use strato_runtime_types::path::PathId;

use crate::state::State;

/// The `meta` key of the explicit groups.
pub const GROUPS_KEY: &str = "groups";
/// The `meta` key prefix of group version snapshots.
pub const VERSIONS_PREFIX: &str = "group-versions/";
/// Versions kept per group (as apps keep theirs, `state::MAX_VERSIONS`).
pub const MAX_GROUP_VERSIONS: usize = crate::state::MAX_VERSIONS;

/// What a group adds to the apps inside it.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMeta {
    /// Absolute ids of apps or groups every app in this group waits for.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// The last change made to this group through `/v2/groups`.
    #[serde(default)]
    pub version: String,
}

/// Explicit groups by absolute id (never `/`).
pub type Groups = BTreeMap<String, GroupMeta>;

pub fn version_key(group_id: &str, version: &str) -> String {
    format!("{VERSIONS_PREFIX}{group_id}@{version}")
}

/// `/a/b` → `/a/b/`; `/` → `/`.
pub fn prefix(group_id: &str) -> String {
    if group_id == "/" {
        "/".into()
    } else {
        format!("{group_id}/")
    }
}

/// `/a/b/c` → `/a/b`; `/a` → `/`.
pub fn parent(id: &str) -> String {
    match id.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((parent, _)) => parent.into(),
    }
}

/// `id` is `group_id` or inside it.
pub fn is_within(id: &str, group_id: &str) -> bool {
    group_id == "/" || id == group_id || id.starts_with(&prefix(group_id))
}

/// An id as written in a group body: absolute, or relative to `base` (`..` allowed).
pub fn resolve(base: &str, id: &str) -> String {
    if id.starts_with('/') {
        PathId::normalise(id).to_string()
    } else {
        let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
        for part in id.split('/').filter(|p| !p.is_empty() && *p != ".") {
            if part == ".." {
                parts.pop();
            } else {
                parts.push(part);
            }
        }
        format!("/{}", parts.join("/"))
    }
}

/// The group exists: `/`, created explicitly, or holding an app.
pub fn exists(state: &State, id: &str) -> bool {
    id == "/"
        || state.groups.contains_key(id)
        || state.apps.keys().any(|a| a.starts_with(&prefix(id)))
}

/// The direct child groups of `id`, explicit or implied by an app's id.
pub fn children(state: &State, id: &str) -> BTreeSet<String> {
    let prefix = prefix(id);
    let mut out = BTreeSet::new();
    let ids = state.apps.keys().chain(state.groups.keys());
    for other in ids.filter(|a| a.starts_with(&prefix)) {
        let rest = &other[prefix.len()..];
        if let Some((child, _)) = rest.split_once('/') {
            out.insert(format!("{prefix}{child}"));
        } else if state.groups.contains_key(other.as_str()) {
            out.insert(other.clone());
        }
    }
    out
}

/// An app's dependencies with those its groups add: a dependency on a group is one on every app
/// inside it (among `app_ids`, the apps as they are or will be). Never the app itself.
pub fn effective_dependencies<'a>(
    groups: &Groups,
    app_id: &str,
    own: &[String],
    app_ids: impl Iterator<Item = &'a String> + Clone,
) -> Vec<String> {
    let mut targets: BTreeSet<String> = own.iter().map(|d| resolve("/", d)).collect();
    let mut group = parent(app_id);
    while group != "/" {
        if let Some(meta) = groups.get(&group) {
            targets.extend(meta.dependencies.iter().cloned());
        }
        group = parent(&group);
    }
    let mut out = BTreeSet::new();
    for target in targets {
        let mut matched = false;
        for other in app_ids.clone() {
            if other != app_id && is_within(other, &target) {
                out.insert(other.clone());
                matched = true;
            }
        }
        // A dependency on an app that does not exist (yet) stays as written: it is ready.
        if !matched && target != app_id {
            out.insert(target);
        }
    }
    out.into_iter().collect()
}

/// The dependencies of every app in `state`, groups included.
pub fn dependency_graph(state: &State) -> BTreeMap<String, Vec<String>> {
    state
        .apps
        .iter()
        .map(|(id, app)| {
            let deps =
                effective_dependencies(&state.groups, id, &app.dependencies, state.apps.keys());
            (id.clone(), deps)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_resolve_against_their_group() {
        assert_eq!(resolve("/shop", "web"), "/shop/web");
        assert_eq!(resolve("/shop/front", "../db"), "/shop/db");
        assert_eq!(resolve("/shop", "/other/x"), "/other/x");
        assert_eq!(parent("/shop/web"), "/shop");
        assert_eq!(parent("/shop"), "/");
        assert!(is_within("/shop/web", "/shop"));
        assert!(!is_within("/shopping/web", "/shop"));
    }

    #[test]
    fn a_group_dependency_is_one_on_every_app_inside_the_other_group() {
        let mut groups = Groups::new();
        groups.insert(
            "/stack/front".into(),
            GroupMeta {
                dependencies: vec!["/stack/back".into()],
                version: String::new(),
            },
        );
        let apps: Vec<String> = ["/stack/back/api", "/stack/back/db", "/stack/front/web"]
            .into_iter()
            .map(String::from)
            .collect();
        let deps = effective_dependencies(&groups, "/stack/front/web", &[], apps.iter());
        assert_eq!(deps, vec!["/stack/back/api", "/stack/back/db"]);
        let deps = effective_dependencies(&groups, "/stack/back/api", &[], apps.iter());
        assert!(deps.is_empty());
    }
}
