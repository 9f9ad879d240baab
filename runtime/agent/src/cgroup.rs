//! The memory limit of the agent's own cgroup (v2 `memory.max` or v1 `memory.limit_in_bytes`),
//! read from files under a root so tests can use fixture trees; and where a process's cgroups
//! are in the mounted trees, so another process can join them (COMMAND health checks join their
//! task's).

use std::path::{Path, PathBuf};

/// Where the agent sits in each hierarchy, from `/proc/self/cgroup`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SelfCgroup {
    /// The unified (v2) path, from the `0::/path` line.
    pub unified: Option<String>,
    /// The v1 memory controller's path, from a `N:...memory...:/path` line.
    pub memory_v1: Option<String>,
}

/// The `hierarchy-id:controllers:path` lines of a `/proc/<pid>/cgroup`.
fn cgroup_lines(text: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    text.lines().filter_map(|line| {
        let mut parts = line.splitn(3, ':');
        Some((parts.next()?, parts.next()?, parts.next()?))
    })
}

/// Parses `/proc/self/cgroup` (`hierarchy-id:controllers:path` per line).
pub fn parse_self_cgroup(text: &str) -> SelfCgroup {
    let mut out = SelfCgroup::default();
    for (id, controllers, path) in cgroup_lines(text) {
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

/// One mounted cgroup hierarchy, from a `/proc/self/mountinfo` line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mount {
    point: PathBuf,
    /// The cgroup the mount shows as its root (`/` unless a container mounted a subtree).
    root: String,
    /// `None` for the unified (v2) tree; else the v1 super options (controllers, `name=`).
    v1: Option<Vec<String>>,
}

fn parse_mounts(mountinfo: &str) -> Vec<Mount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let fields: Vec<&str> = before.split(' ').collect();
            let (root, point) = (fields.get(3)?, fields.get(4)?);
            let mut after = after.split(' ');
            let fstype = after.next()?;
            let options = after.nth(1).unwrap_or("");
            let v1 = match fstype {
                "cgroup2" => None,
                "cgroup" => Some(options.split(',').map(str::to_string).collect()),
                _ => return None,
            };
            Some(Mount {
                point: PathBuf::from(point),
                root: root.to_string(),
                v1,
            })
        })
        .collect()
}

/// The `cgroup.procs` file of each cgroup that `proc_cgroup` (a `/proc/<pid>/cgroup`) names, in
/// the hierarchies `mountinfo` shows mounted: writing a pid to each moves that process into the
/// same cgroups, and so under the same limits.
pub fn procs_files(proc_cgroup: &str, mountinfo: &str) -> Vec<PathBuf> {
    let mounts = parse_mounts(mountinfo);
    let mut files = Vec::new();
    for (id, controllers, path) in cgroup_lines(proc_cgroup) {
        let mount = mounts.iter().find(|m| match &m.v1 {
            None => id == "0" && controllers.is_empty(),
            Some(options) => {
                !controllers.is_empty()
                    && controllers
                        .split(',')
                        .all(|c| options.iter().any(|o| o == c))
            }
        });
        let Some(mount) = mount else { continue };
        let relative = if mount.root == "/" {
            Some(path)
        } else {
            path.strip_prefix(mount.root.as_str())
        };
        let Some(relative) = relative else { continue };
        let file = mount
            .point
            .join(relative.trim_start_matches('/'))
            .join("cgroup.procs");
        if !files.contains(&file) {
            files.push(file);
        }
    }
    files
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

    #[test]
    fn a_process_joins_the_task_cgroups_in_every_mounted_hierarchy() {
        // A hybrid host as the test nodes see it: v1 controllers and a unified tree beside them.
        let mountinfo = "\
30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
32 30 0:28 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
35 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
40 25 0:40 / /proc rw - proc proc rw
";
        let task = "\
9:name=systemd:/system.slice/strato-task-a.service
4:memory:/system.slice/strato-task-a.service
2:cpu,cpuacct:/system.slice/strato-task-a.service
1:blkio:/
0::/system.slice/strato-task-a.service
";
        let unit = "system.slice/strato-task-a.service/cgroup.procs";
        assert_eq!(
            procs_files(task, mountinfo),
            vec![
                PathBuf::from("/sys/fs/cgroup/systemd").join(unit),
                PathBuf::from("/sys/fs/cgroup/memory").join(unit),
                PathBuf::from("/sys/fs/cgroup/cpu,cpuacct").join(unit),
                PathBuf::from("/sys/fs/cgroup/unified").join(unit),
            ],
            "blkio is not mounted, so it is left alone"
        );
        // Pure v2, the tree mounted at a container's own root.
        let mountinfo = "50 40 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            procs_files("0::/docker/abc/system.slice/t.service\n", mountinfo),
            vec![PathBuf::from(
                "/sys/fs/cgroup/system.slice/t.service/cgroup.procs"
            )]
        );
    }
}
