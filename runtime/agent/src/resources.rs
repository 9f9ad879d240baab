//! What the node offers: CPUs, memory (the smaller of `/proc/meminfo` and the agent's cgroup
//! limit), free disk of the work dir, and the configured port range.

use std::path::Path;

use strato_proto::{PortRange, Resources};

const MIB: u64 = 1024 * 1024;

/// `MemTotal` from `/proc/meminfo` text, in bytes.
pub fn parse_meminfo_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut fields = line.split_whitespace().skip(1);
    let value: u64 = fields.next()?.parse().ok()?;
    let unit = fields.next().unwrap_or("B");
    let factor = match unit {
        "kB" | "KB" | "KiB" => 1024,
        "mB" | "MB" | "MiB" => MIB,
        _ => 1,
    };
    Some(value * factor)
}

/// Memory in MiB: the smaller of physical memory and the cgroup limit, when either is known.
pub fn memory_mib(meminfo_total: Option<u64>, cgroup_limit: Option<u64>) -> f64 {
    let bytes = match (meminfo_total, cgroup_limit) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => 0,
    };
    (bytes / MIB) as f64
}

/// Free space (for unprivileged users) of the filesystem holding `dir`, in MiB.
pub fn free_disk_mib(dir: &Path) -> f64 {
    match nix::sys::statvfs::statvfs(dir) {
        Ok(s) => {
            // The field types differ between libc targets (u32 on some 32-bit ones).
            #[allow(clippy::unnecessary_cast)]
            let bytes = (s.blocks_available() as u64).saturating_mul(s.fragment_size() as u64);
            (bytes / MIB) as f64
        }
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot read free disk space");
            0.0
        }
    }
}

/// CPUs this process may use (honours affinity masks and, on recent std, cgroup CPU quotas).
pub fn cpu_count() -> f64 {
    std::thread::available_parallelism()
        .map(|n| n.get() as f64)
        .unwrap_or(1.0)
}

/// Measures this node now.
pub fn detect(work_dir: &Path, ports: PortRange) -> Resources {
    let meminfo = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| parse_meminfo_total(&t));
    Resources {
        cpus: cpu_count(),
        mem: memory_mib(meminfo, crate::cgroup::own_memory_limit_bytes()),
        disk: free_disk_mib(work_dir),
        ports: vec![ports],
    }
}

/// The configured hostname, or the machine's when the config leaves it empty.
/// The agent's Mesos hostname, which tasks report as their `host`: the configured one, else the
/// address it advertises, as DC/OS sets it from ip-detect, so clients that connect to
/// `host:port` (marathon-lb, scripts) need no DNS for node names.
pub fn hostname(configured: &str, advertise_ip: &str) -> String {
    if !configured.trim().is_empty() {
        return configured.trim().to_string();
    }
    advertise_ip.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO: &str = "MemTotal:       24684084 kB\nMemFree:        23041152 kB\n";

    #[test]
    fn meminfo_total_in_bytes() {
        assert_eq!(parse_meminfo_total(MEMINFO), Some(24_684_084 * 1024));
        assert_eq!(parse_meminfo_total("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn memory_is_the_smaller_of_meminfo_and_cgroup() {
        let total = parse_meminfo_total(MEMINFO);
        assert_eq!(memory_mib(total, Some(512 * MIB)), 512.0);
        assert_eq!(memory_mib(total, None), (24_684_084 / 1024) as f64);
        assert_eq!(memory_mib(Some(1024 * MIB), Some(4096 * MIB)), 1024.0);
    }

    #[test]
    fn detect_reports_this_machine() {
        let dir = tempfile::tempdir().expect("tmp");
        let r = detect(
            dir.path(),
            PortRange {
                begin: 31000,
                end: 32000,
            },
        );
        assert!(r.cpus >= 1.0);
        assert!(r.mem > 0.0);
        assert!(r.disk > 0.0);
        assert_eq!(r.ports.len(), 1);
    }

    #[test]
    fn configured_hostname_wins() {
        assert_eq!(hostname(" node-7 ", "10.0.0.7"), "node-7");
        assert_eq!(hostname("", "10.0.0.7"), "10.0.0.7");
    }
}
