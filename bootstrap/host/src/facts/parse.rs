//! Pure parsers from the gather script's sections to [`Facts`]. Each takes the section text and
//! returns the fact or `None`; [`facts`] records a problem for every section it could not use.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{
    ClockSync, Disk, Facts, IpDetect, Kernel, Listener, Memory, Proto, Selinux, Systemd, TimeSync,
};
use crate::os_release::OsRelease;

/// cgroup v1 reports "unlimited" as a huge page-rounded number; anything above 2^60 is that.
const UNLIMITED_BYTES: u64 = 1 << 60;

/// Build [`Facts`] from sections (see [`super::script`]).
pub fn facts(sections: &BTreeMap<String, String>) -> Facts {
    let mut problems = Vec::new();
    let mut need = |name: &str| -> Option<&str> {
        match sections.get(name).map(|s| s.trim()) {
            Some(s) if !s.is_empty() => Some(s),
            _ => {
                problems.push(format!("{name}: no output"));
                None
            }
        }
    };
    let os_release = need("os-release").map(OsRelease::parse);
    let cpus = need("nproc").and_then(|s| s.parse().ok());
    let meminfo_mib = need("meminfo").and_then(meminfo_total_mib);
    let kernel = need("kernel").and_then(kernel);
    let arch = need("arch").map(str::to_string);
    let disk = need("disk").and_then(df);
    let hostname = need("hostname").map(str::to_string);
    let machine_id = need("machine-id").map(str::to_string);
    let epoch_seconds = need("epoch").and_then(|s| s.parse().ok());
    if !sections.contains_key("end") {
        problems.push("output ended early (no end marker)".to_string());
    }
    let section = |name: &str| sections.get(name).map(String::as_str).unwrap_or("");
    let os_release = match os_release {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            problems.push(e.to_string());
            None
        }
        None => None,
    };
    let listeners = sections.get("listening").and_then(|s| listeners(s));
    if listeners.is_none() {
        problems.push("listening: /proc/net unreadable".to_string());
    }
    Facts {
        os_release,
        hostname,
        machine_id,
        arch,
        kernel,
        cpus,
        memory: Memory {
            meminfo_mib,
            cgroup_limit_mib: cgroup_limit_mib(section("cgroup-memory")),
            cgroup_unreadable: cgroup_mismatch(section("cgroup-memory")),
        },
        disk,
        systemd: Some(systemd(section("pid1"), section("systemd-version"))),
        binaries: binaries(section("binaries")),
        listeners,
        time_sync: time_sync(
            section("timedatectl"),
            section("chronyc"),
            section("time-services"),
        ),
        container: container(section("container")),
        ip_detect: sections.get("ip-detect").map(|out| IpDetect {
            output: out.trim().to_string(),
            exit_status: section("ip-detect-rc").trim().parse().ok(),
        }),
        addresses: addresses(section("addresses")),
        selinux: selinux(section("selinux"), section("sestatus")),
        tmp_options: mount_options(section("tmp-options")),
        strato_installed: section("strato-installed").trim() == "yes",
        glibc: glibc(section("glibc")),
        etcd_member: section("etcd-member").trim() == "yes",
        container_engines: container_engines(section("container-engines")),
        epoch_seconds,
        problems,
    }
}

/// Lines `docker 28.2.2` / `podman ` (installed, not answering) → engine → version.
pub fn container_engines(section: &str) -> BTreeMap<String, String> {
    section
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let engine = words.next()?;
            let version = words.next().unwrap_or_default();
            Some((engine.to_string(), version.to_string()))
        })
        .collect()
}

/// `MemTotal:  24684312 kB` → MiB.
pub fn meminfo_total_mib(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// Lines `v2|v1 <dir> <value>` → the smallest real limit in MiB. Nothing when the tree does
/// not match this process ([`cgroup_mismatch`]).
pub fn cgroup_limit_mib(section: &str) -> Option<u64> {
    if cgroup_mismatch(section) {
        return None;
    }
    section
        .lines()
        .filter(|l| l.starts_with("v1 ") || l.starts_with("v2 "))
        .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok())
        .filter(|&b| b < UNLIMITED_BYTES)
        .min()
        .map(|b| b / (1024 * 1024))
}

/// The script's `mismatch <dir>` line: the mounted cgroup tree is not this process's.
pub fn cgroup_mismatch(section: &str) -> bool {
    section.lines().any(|l| l.starts_with("mismatch "))
}

/// `df -Pk` output → space on the filesystem in its second line.
pub fn df(section: &str) -> Option<Disk> {
    let line = section.lines().nth(1)?;
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 6 {
        return None;
    }
    Some(Disk {
        total_mib: f[1].parse::<u64>().ok()? / 1024,
        available_mib: f[3].parse::<u64>().ok()? / 1024,
        mount: f[5..].join(" "),
    })
}

/// `6.1.0-28-amd64` → 6.1.
pub fn kernel(release: &str) -> Option<Kernel> {
    let mut nums = release
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    let major = nums.next()?.parse().ok()?;
    let minor = nums.next()?.parse().ok()?;
    Some(Kernel {
        release: release.trim().to_string(),
        major,
        minor,
    })
}

/// PID 1's name and `systemctl --version`'s first line (`systemd 252 (252.38-1~deb12u1)`).
pub fn systemd(pid1: &str, version: &str) -> Systemd {
    let version = version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok());
    Systemd {
        pid1: pid1.trim() == "systemd",
        version,
    }
}

/// `found <name> <path>` / `missing <name>` lines.
pub fn binaries(section: &str) -> BTreeMap<String, Option<String>> {
    section
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ' ');
            match (f.next()?, f.next()?, f.next()) {
                ("found", name, Some(path)) => Some((name.to_string(), Some(path.to_string()))),
                ("missing", name, _) => Some((name.to_string(), None)),
                _ => None,
            }
        })
        .collect()
}

/// /proc/net/{tcp,tcp6,udp,udp6} lines, each prefixed with its file name. TCP sockets count
/// in LISTEN (`0A`), UDP sockets when bound (`07`, unconnected).
pub fn listeners(section: &str) -> Option<Vec<Listener>> {
    let mut out = Vec::new();
    let mut saw_table = false;
    for line in section.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 {
            continue;
        }
        let (proto, state) = match f[0] {
            "tcp" | "tcp6" => (Proto::Tcp, "0A"),
            "udp" | "udp6" => (Proto::Udp, "07"),
            _ => continue,
        };
        saw_table = true;
        if f[1] == "sl" || f[4] != state {
            continue;
        }
        if let Some((addr, port)) = hex_socket(f[2]) {
            out.push(Listener { proto, addr, port });
        }
    }
    out.sort();
    out.dedup();
    saw_table.then_some(out)
}

/// `0100007F:1F90` → 127.0.0.1:8080. Addresses are 32-bit words in host (little-endian) order.
fn hex_socket(s: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..addr.len() / 8)
        .map(|i| u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).map(u32::swap_bytes))
        .collect::<Result<_, _>>()
        .ok()?;
    let ip = match words.as_slice() {
        [a] => IpAddr::V4(Ipv4Addr::from(*a)),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (i, w) in [a, b, c, d].iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((ip, port))
}

/// `timedatectl show -p NTPSynchronized --value` (`yes`/`no`), else `chronyc tracking`'s leap
/// status, plus the list of active time daemons.
pub fn time_sync(timedatectl: &str, chronyc: &str, services: &str) -> TimeSync {
    let active_services = services
        .lines()
        .filter_map(|l| {
            let (name, state) = l.split_once(' ')?;
            (state.trim() == "active").then(|| name.to_string())
        })
        .collect();
    let (state, source) = match timedatectl.trim() {
        "yes" => (ClockSync::Synchronized, Some("timedatectl")),
        "no" => (ClockSync::NotSynchronized, Some("timedatectl")),
        _ => match chronyc
            .lines()
            .find(|l| l.starts_with("Leap status"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim())
        {
            Some("Normal" | "Insert second" | "Delete second") => {
                (ClockSync::Synchronized, Some("chronyc"))
            }
            Some(_) => (ClockSync::NotSynchronized, Some("chronyc")),
            None => (ClockSync::Unknown, None),
        },
    };
    TimeSync {
        state,
        source: source.map(str::to_string),
        active_services,
    }
}

/// `systemd-detect-virt --container` style name; `none` (or nothing) means not a container.
pub fn container(section: &str) -> Option<String> {
    match section.trim() {
        "" | "none" => None,
        name => Some(name.to_string()),
    }
}

/// `ip -o addr show` → every address (the part before `/prefix`).
pub fn addresses(section: &str) -> Vec<IpAddr> {
    section
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            f.find(|w| *w == "inet" || *w == "inet6")?;
            f.next()?.split('/').next()?.parse().ok()
        })
        .collect()
}

/// `getenforce` output and `sestatus` (for the policy name).
pub fn selinux(getenforce: &str, sestatus: &str) -> Selinux {
    match getenforce.trim() {
        "Enforcing" => Selinux::Enforcing {
            policy: sestatus
                .lines()
                .find(|l| l.starts_with("Loaded policy name:"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string()),
        },
        "Permissive" => Selinux::Permissive,
        "Disabled" => Selinux::Disabled,
        _ => Selinux::NotPresent,
    }
}

/// `findmnt -o OPTIONS` → the comma-separated options.
pub fn mount_options(section: &str) -> Option<Vec<String>> {
    let line = section.lines().next()?.trim();
    (!line.is_empty()).then(|| line.split(',').map(str::to_string).collect())
}

/// The glibc version in `getconf GNU_LIBC_VERSION` (`glibc 2.28`) or the first line of
/// `ldd --version` (`ldd (Debian GLIBC 2.36-9+deb12u4) 2.36`): the last `MAJOR.MINOR` word.
pub fn glibc(text: &str) -> Option<(u32, u32)> {
    let line = text.lines().next()?;
    if !line.to_ascii_lowercase().contains("glibc") && !line.contains("GNU libc") {
        return None;
    }
    line.split_whitespace().rev().find_map(|word| {
        let mut parts = word.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some((major, minor))
    })
}

#[cfg(test)]
mod tests;
