//! The memory limit of the agent's own cgroup (v2 `memory.max` or v1 `memory.limit_in_bytes`),
//! read from files under a root so tests can use fixture trees.

use std::path::{Path, PathBuf};

/// Where the agent sits in each hierarchy, from `/proc/self/cgroup`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SelfCgroup {
    /// The unified (v2) path, from the `0::/path` line.
    pub unified: Option<String>,
    /// The v1 memory controller's path, from a `N:...memory...:/path` line.
    pub memory_v1: Option<String>,
}

/// Parses `/proc/self/cgroup` (`hierarchy-id:controllers:path` per line).
pub fn parse_self_cgroup(text: &str) -> SelfCgroup {
    let mut out = SelfCgroup::default();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            out.unified = Some(path.to_string());
        } else if controllers.split(',').any(|c| c == "memory") {
            out.memory_v1 = Some(path.to_string());
        }
    }
    out
}

/// Values at or above this mean "no limit" in v1 (the kernel reports `PAGE_COUNTER_MAX` pages).
const V1_UNLIMITED: u64 = 1 << 60;

/// Parses one limit file's content: a byte count, or `max` (v2) for no limit.
pub fn parse_limit(text: &str) -> Option<u64> {
    let text = text.trim();
    if text == "max" {
        return None;
    }
    text.parse::<u64>().ok().filter(|v| *v < V1_UNLIMITED)
}

/// The smallest memory limit on the path from the agent's cgroup up to the hierarchy root, in
/// bytes; `None` when nothing limits it. Ancestors count because their limits bind children too;
/// walking up also copes with cgroup namespaces, where `/proc/self/cgroup` names a path the
/// mounted tree does not have.
pub fn memory_limit_bytes(cgroup_root: &Path, self_cgroup: &SelfCgroup) -> Option<u64> {
    let mut limits = Vec::new();
    if let Some(path) = &self_cgroup.unified {
        limits.extend(walk_limits(cgroup_root, path, "memory.max"));
        // Hybrid layouts mount the unified tree under `unified/`.
        limits.extend(walk_limits(
            &cgroup_root.join("unified"),
            path,
            "memory.max",
        ));
    }
    if let Some(path) = &self_cgroup.memory_v1 {
        limits.extend(walk_limits(
            &cgroup_root.join("memory"),
            path,
            "memory.limit_in_bytes",
        ));
    }
    limits.into_iter().min()
}

fn walk_limits(base: &Path, cgroup_path: &str, file: &str) -> Vec<u64> {
    let mut dir = PathBuf::from(cgroup_path.trim_start_matches('/'));
    let mut found = Vec::new();
    loop {
        if let Ok(text) = std::fs::read_to_string(base.join(&dir).join(file)) {
            found.extend(parse_limit(&text));
        }
        if !dir.pop() {
            break;
        }
    }
    found
}

/// The limit for this process on this machine (`/proc/self/cgroup`, `/sys/fs/cgroup`).
pub fn own_memory_limit_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    memory_limit_bytes(Path::new("/sys/fs/cgroup"), &parse_self_cgroup(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, content: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }

    #[test]
    fn parses_v1_and_v2_lines() {
        let text = "9:name=systemd:/\n4:memory:/docker/abc\n1:cpu,cpuacct:/\n0::/system.slice/strato-agent.service\n";
        let c = parse_self_cgroup(text);
        assert_eq!(c.memory_v1.as_deref(), Some("/docker/abc"));
        assert_eq!(
            c.unified.as_deref(),
            Some("/system.slice/strato-agent.service")
        );
    }

    #[test]
    fn v2_limit_is_read_and_max_means_none() {
        let root = tempfile::tempdir().expect("tmp");
        write(
            root.path(),
            "system.slice/strato-agent.service/memory.max",
            "536870912\n",
        );
        write(root.path(), "system.slice/memory.max", "max\n");
        let c = parse_self_cgroup("0::/system.slice/strato-agent.service\n");
        assert_eq!(memory_limit_bytes(root.path(), &c), Some(536_870_912));

        write(
            root.path(),
            "system.slice/strato-agent.service/memory.max",
            "max\n",
        );
        assert_eq!(memory_limit_bytes(root.path(), &c), None);
    }

    #[test]
    fn an_ancestor_limit_binds_the_child() {
        let root = tempfile::tempdir().expect("tmp");
        write(root.path(), "a/b/memory.max", "max\n");
        write(root.path(), "a/memory.max", "1073741824\n");
        let c = parse_self_cgroup("0::/a/b\n");
        assert_eq!(memory_limit_bytes(root.path(), &c), Some(1_073_741_824));
    }

    #[test]
    fn v1_limit_is_read_and_huge_means_none() {
        let root = tempfile::tempdir().expect("tmp");
        write(
            root.path(),
            "memory/docker/abc/memory.limit_in_bytes",
            "268435456\n",
        );
        write(
            root.path(),
            "memory/memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        let c = parse_self_cgroup("4:memory:/docker/abc\n0::/\n");
        assert_eq!(memory_limit_bytes(root.path(), &c), Some(268_435_456));

        let unlimited = parse_self_cgroup("4:memory:/\n");
        assert_eq!(memory_limit_bytes(root.path(), &unlimited), None);
    }

    #[test]
    fn namespaced_path_missing_from_the_tree_falls_back_to_the_root() {
        let root = tempfile::tempdir().expect("tmp");
        write(root.path(), "memory.max", "2147483648\n");
        let c = parse_self_cgroup("0::/not/in/this/namespace\n");
        assert_eq!(memory_limit_bytes(root.path(), &c), Some(2_147_483_648));
    }
}
