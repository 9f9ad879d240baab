//! One function per per-host check. Each reads [`Facts`] only and says PASS, WARN or FAIL with
//! what it measured, what it required and, when not PASS, what to do.

use crate::facts::{ClockSync, Facts, Selinux};
use crate::os;

use super::{
    names, CheckResult, EngineNeed, GlibcNeed, PortSpec, Requirements, Status, MIN_KERNEL,
    MIN_SYSTEMD,
};

const NOT_MEASURED: &str = "unknown";

pub(super) fn cpu(f: &Facts, req: &Requirements) -> CheckResult {
    let required = format!(">= {} cores", req.cpus);
    match f.cpus {
        None => CheckResult::new(
            names::CPU,
            Status::Fail,
            NOT_MEASURED,
            required,
            "could not count CPUs (nproc)",
        ),
        Some(n) if n >= req.cpus => {
            CheckResult::new(names::CPU, Status::Pass, format!("{n} cores"), required, "")
        }
        Some(n) => CheckResult::new(
            names::CPU,
            Status::Fail,
            format!("{n} cores"),
            required,
            format!(
                "{n} CPUs < {}: use a larger machine or a smaller hardware profile",
                req.cpus
            ),
        ),
    }
}

pub(super) fn memory(f: &Facts, req: &Requirements) -> CheckResult {
    let required = format!(">= {} MiB", req.memory_mib);
    let Some(effective) = f.memory.effective_mib() else {
        return CheckResult::new(
            names::MEMORY,
            Status::Fail,
            NOT_MEASURED,
            required,
            "could not read /proc/meminfo",
        );
    };
    // Say which limit bound it: a container or VM limit below the machine's RAM surprises.
    let by_cgroup = matches!(
        (f.memory.cgroup_limit_mib, f.memory.meminfo_mib),
        (Some(c), Some(m)) if c < m
    ) || (f.memory.meminfo_mib.is_none() && f.memory.cgroup_limit_mib.is_some());
    let measured = if by_cgroup {
        format!("{effective} MiB (cgroup limit)")
    } else {
        format!("{effective} MiB")
    };
    if effective >= req.memory_mib && f.memory.cgroup_unreadable {
        return CheckResult::new(
            names::MEMORY,
            Status::Warn,
            measured,
            required,
            "the cgroup memory limit could not be read (host cgroup tree mounted in a container?): only the machine's RAM was measured",
        );
    }
    if effective >= req.memory_mib {
        return CheckResult::new(names::MEMORY, Status::Pass, measured, required, "");
    }
    let message = match (by_cgroup, f.memory.meminfo_mib) {
        (true, Some(total)) => format!(
            "the cgroup memory limit ({effective} MiB) is below the requirement; the machine has {total} MiB"
        ),
        _ => format!("{effective} MiB < {} MiB", req.memory_mib),
    };
    CheckResult::new(names::MEMORY, Status::Fail, measured, required, message)
}

pub(super) fn disk(f: &Facts, req: &Requirements) -> CheckResult {
    let required = format!(">= {} MiB free", req.disk_mib);
    match &f.disk {
        None => CheckResult::new(
            names::DISK,
            Status::Fail,
            NOT_MEASURED,
            required,
            "could not measure free space (df)",
        ),
        Some(d) => {
            let measured = format!("{} MiB free on {}", d.available_mib, d.mount);
            if d.available_mib >= req.disk_mib {
                CheckResult::new(names::DISK, Status::Pass, measured, required, "")
            } else {
                CheckResult::new(
                    names::DISK,
                    Status::Fail,
                    measured,
                    required,
                    format!("free space on {} below the requirement", d.mount),
                )
            }
        }
    }
}

pub(super) fn os(f: &Facts) -> CheckResult {
    let Some(release) = &f.os_release else {
        return CheckResult::new(
            names::OS,
            Status::Fail,
            NOT_MEASURED,
            "a supported distribution",
            "could not read /etc/os-release",
        );
    };
    let measured = release.pretty_name.clone();
    match os::detect(release) {
        Err(e) => CheckResult::new(
            names::OS,
            Status::Fail,
            measured,
            "a supported distribution",
            e.to_string(),
        ),
        Ok(module) if module.supports(release) => CheckResult::new(
            names::OS,
            Status::Pass,
            measured,
            format!("{} {}", module.name(), module.supported_text()),
            "",
        ),
        Ok(module) => CheckResult::new(
            names::OS,
            Status::Fail,
            measured,
            format!("{} {}", module.name(), module.supported_text()),
            format!(
                "{} {} is not supported",
                module.name(),
                if release.version_id.is_empty() {
                    "(no VERSION_ID)"
                } else {
                    &release.version_id
                }
            ),
        ),
    }
}

pub(super) fn kernel(f: &Facts) -> CheckResult {
    let required = format!(">= {}.{}", MIN_KERNEL.0, MIN_KERNEL.1);
    match &f.kernel {
        None => CheckResult::new(
            names::KERNEL,
            Status::Fail,
            NOT_MEASURED,
            required,
            "could not read the kernel version (uname -r)",
        ),
        Some(k) if (k.major, k.minor) >= MIN_KERNEL => {
            CheckResult::new(names::KERNEL, Status::Pass, &k.release, required, "")
        }
        Some(k) => CheckResult::new(
            names::KERNEL,
            Status::Fail,
            &k.release,
            required,
            "kernel too old",
        ),
    }
}

pub(super) fn systemd(f: &Facts) -> CheckResult {
    let required = format!("systemd >= {MIN_SYSTEMD} as PID 1");
    let s = f.systemd.clone().unwrap_or(crate::facts::Systemd {
        pid1: false,
        version: None,
    });
    let measured = match s.version {
        Some(v) => format!("systemd {v}{}", if s.pid1 { "" } else { " (not PID 1)" }),
        None if s.pid1 => "systemd (version unknown)".to_string(),
        None => "no systemd".to_string(),
    };
    let (status, message) = match (s.pid1, s.version) {
        (false, _) => (
            Status::Fail,
            "PID 1 is not systemd: Strato runs as systemd units".to_string(),
        ),
        (true, Some(v)) if v < MIN_SYSTEMD => (Status::Fail, "systemd too old".to_string()),
        (true, None) => (
            Status::Warn,
            "could not read the systemd version (systemctl --version)".to_string(),
        ),
        (true, Some(_)) => (Status::Pass, String::new()),
    };
    CheckResult::new(names::SYSTEMD, status, measured, required, message)
}

pub(super) fn binaries(f: &Facts, required: &[String]) -> CheckResult {
    let missing: Vec<&str> = required
        .iter()
        .filter(|b| !matches!(f.binaries.get(b.as_str()), Some(Some(_))))
        .map(String::as_str)
        .collect();
    let req = required.join(" ");
    if missing.is_empty() {
        return CheckResult::new(names::BINARIES, Status::Pass, "all present", req, "");
    }
    let hint = f
        .os_release
        .as_ref()
        .and_then(|r| os::detect(r).ok())
        .and_then(|m| m.install_prerequisites_command(m.prerequisite_packages()))
        .map(|cmd| format!("; install them with: {cmd}"))
        .unwrap_or_default();
    CheckResult::new(
        names::BINARIES,
        Status::Fail,
        format!("missing: {}", missing.join(" ")),
        req,
        format!("not on PATH: {}{hint}", missing.join(", ")),
    )
}

pub(super) fn ports(f: &Facts, ports: &[PortSpec]) -> CheckResult {
    let required = if ports.is_empty() {
        "none".to_string()
    } else {
        ports
            .iter()
            .map(|p| format!("{}/{}", p.port, p.proto))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let Some(listeners) = &f.listeners else {
        return CheckResult::new(
            names::PORTS,
            Status::Warn,
            NOT_MEASURED,
            required + " free",
            "could not read /proc/net: ports not checked",
        );
    };
    let mut busy = Vec::new();
    let mut hints = Vec::new();
    for p in ports {
        for l in listeners
            .iter()
            .filter(|l| l.proto == p.proto && l.port == p.port)
        {
            busy.push(format!(
                "{}/{} on {} ({})",
                p.port, p.proto, l.addr, p.owner
            ));
            if p.port == 53 && l.addr.to_string().starts_with("127.0.0.5") {
                hints.push("systemd-resolved's stub listener holds port 53: set DNSStubListener=no in /etc/systemd/resolved.conf");
            }
        }
    }
    let required = required + " free";
    if busy.is_empty() {
        return CheckResult::new(names::PORTS, Status::Pass, "free", required, "");
    }
    let measured = format!("in use: {}", busy.join(", "));
    if f.strato_installed {
        return CheckResult::new(
            names::PORTS,
            Status::Warn,
            measured,
            required,
            "Strato is already installed here; its own services probably hold these ports",
        );
    }
    hints.dedup();
    let mut message = "stop the services holding these ports".to_string();
    for h in hints {
        message.push_str("; ");
        message.push_str(h);
    }
    CheckResult::new(names::PORTS, Status::Fail, measured, required, message)
}

pub(super) fn time_sync(f: &Facts) -> CheckResult {
    let t = &f.time_sync;
    let source = t.source.as_deref().unwrap_or("no timedatectl or chronyc");
    let services = if t.active_services.is_empty() {
        String::new()
    } else {
        format!(", {} active", t.active_services.join(" "))
    };
    let required = "synchronised";
    match (t.state, &f.container) {
        (ClockSync::Synchronized, _) => CheckResult::new(
            names::TIME_SYNC,
            Status::Pass,
            format!("synchronised ({source}{services})"),
            required,
            "",
        ),
        // A container shares the host kernel's clock and cannot run a time daemon itself.
        (ClockSync::NotSynchronized, Some(c)) => CheckResult::new(
            names::TIME_SYNC,
            Status::Warn,
            format!("not synchronised ({source}{services})"),
            required,
            format!("running in a {c} container: the clock is the container host's; keep that host in sync"),
        ),
        (ClockSync::NotSynchronized, None) => CheckResult::new(
            names::TIME_SYNC,
            Status::Fail,
            format!("not synchronised ({source}{services})"),
            required,
            "enable a time daemon (chronyd or systemd-timesyncd) and wait for it to sync",
        ),
        (ClockSync::Unknown, _) => CheckResult::new(
            names::TIME_SYNC,
            Status::Warn,
            NOT_MEASURED,
            required,
            "could not tell whether the clock is synchronised (no timedatectl or chronyc answer)",
        ),
    }
}

pub(super) fn ip_detect(f: &Facts) -> CheckResult {
    let required = "one address on this host";
    let Some(d) = &f.ip_detect else {
        return CheckResult::new(
            names::IP_DETECT,
            Status::Warn,
            "not run",
            required,
            "no ip-detect script was given",
        );
    };
    let lines: Vec<&str> = d
        .output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let fail = |measured: String, message: String| {
        CheckResult::new(names::IP_DETECT, Status::Fail, measured, required, message)
    };
    if d.exit_status != Some(0) {
        let status = d
            .exit_status
            .map_or("unknown".to_string(), |s| s.to_string());
        return fail(
            format!("exit status {status}"),
            "the ip-detect script failed".into(),
        );
    }
    let [line] = lines.as_slice() else {
        return fail(
            format!("{} lines", lines.len()),
            format!(
                "ip-detect must print exactly one address, printed: {:?}",
                d.output
            ),
        );
    };
    let Ok(ip) = line.parse::<std::net::IpAddr>() else {
        return fail(line.to_string(), format!("{line:?} is not an IP address"));
    };
    if !f.addresses.contains(&ip) {
        return fail(
            ip.to_string(),
            format!("{ip} is not an address of this host's interfaces (ip -o addr)"),
        );
    }
    CheckResult::new(names::IP_DETECT, Status::Pass, ip.to_string(), required, "")
}

/// SELinux: disabled, permissive or absent pass. Enforcing with the `targeted` policy is a
/// WARN, not a FAIL: Strato's units run from /opt as `unconfined_service_t` under that policy
/// (DC/OS 1.12+ accepted the same setup), but tasks have not been tested under enforcement, so
/// the operator should know. Enforcing `mls` confines every process and is a FAIL.
pub(super) fn selinux(f: &Facts) -> CheckResult {
    let required = "not enforcing, or targeted policy";
    let (status, measured, message) = match &f.selinux {
        Selinux::NotPresent => (Status::Pass, "not present".to_string(), String::new()),
        Selinux::Disabled => (Status::Pass, "disabled".to_string(), String::new()),
        Selinux::Permissive => (Status::Pass, "permissive".to_string(), String::new()),
        Selinux::Enforcing { policy } => match policy.as_deref() {
            Some("targeted") => (
                Status::Warn,
                "enforcing (targeted)".to_string(),
                "services run unconfined under the targeted policy; if tasks hit permission errors, check `ausearch -m avc`".to_string(),
            ),
            Some(other) => (
                Status::Fail,
                format!("enforcing ({other})"),
                format!("the {other} policy confines every process; use targeted or permissive"),
            ),
            None => (
                Status::Warn,
                "enforcing (policy unknown)".to_string(),
                "could not read the loaded policy (sestatus); targeted is expected".to_string(),
            ),
        },
    };
    CheckResult::new(names::SELINUX, status, measured, required, message)
}

pub(super) fn tmp_exec(f: &Facts) -> CheckResult {
    let required = "/tmp without noexec";
    match &f.tmp_options {
        None => CheckResult::new(
            names::TMP_EXEC,
            Status::Warn,
            NOT_MEASURED,
            required,
            "could not read /tmp's mount options (findmnt)",
        ),
        Some(opts) if opts.iter().any(|o| o == "noexec") => CheckResult::new(
            names::TMP_EXEC,
            Status::Fail,
            "noexec",
            required,
            "/tmp is mounted noexec: install scripts and tasks run files from it; remount it exec",
        ),
        Some(_) => CheckResult::new(names::TMP_EXEC, Status::Pass, "exec", required, ""),
    }
}

pub(super) fn glibc(f: &Facts, need: &GlibcNeed) -> CheckResult {
    let (major, minor) = need.version;
    let required = format!(">= glibc {major}.{minor} ({})", need.by);
    match f.glibc {
        None => CheckResult::new(
            names::GLIBC,
            Status::Fail,
            NOT_MEASURED,
            required,
            "could not read the glibc version (getconf GNU_LIBC_VERSION, ldd --version)",
        ),
        Some(found) if found >= need.version => CheckResult::new(
            names::GLIBC,
            Status::Pass,
            format!("glibc {}.{}", found.0, found.1),
            required,
            "",
        ),
        Some(found) => CheckResult::new(
            names::GLIBC,
            Status::Fail,
            format!("glibc {}.{}", found.0, found.1),
            required,
            format!(
                "glibc {}.{} is older than the {major}.{minor} {} needs: use a newer \
                 distribution, or bundle a static etcd (README.md, \"Three masters\")",
                found.0, found.1, need.by
            ),
        ),
    }
}

pub(super) fn container_engine(f: &Facts, need: &EngineNeed) -> CheckResult {
    let (major, minor) = need.min_version;
    let required = format!("{} >= {major}.{minor}, running", need.engine);
    let name = names::CONTAINER_ENGINE;
    match f.container_engines.get(&need.engine).map(String::as_str) {
        None => CheckResult::new(
            name,
            Status::Fail,
            "not installed",
            required,
            format!(
                "runtime.container_engine is {}: {}",
                need.engine, need.install
            ),
        ),
        Some("") => CheckResult::new(
            name,
            Status::Fail,
            "installed, not answering",
            required,
            format!(
                "{} is installed but its service does not answer: {}",
                need.engine, need.install
            ),
        ),
        Some(version) => {
            let parsed: Vec<u32> = version
                .split(['.', '-', '+'])
                .take(2)
                .filter_map(|p| p.parse().ok())
                .collect();
            let found = (
                parsed.first().copied().unwrap_or(0),
                parsed.get(1).copied().unwrap_or(0),
            );
            let status = if found >= need.min_version {
                Status::Pass
            } else {
                Status::Fail
            };
            let message = if status == Status::Pass {
                String::new()
            } else {
                format!("{} {version} is too old: {}", need.engine, need.install)
            };
            CheckResult::new(
                name,
                status,
                format!("{} {version}", need.engine),
                required,
                message,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Proto;

    #[test]
    fn udp_and_tcp_are_distinct_for_ports() {
        let f = Facts {
            listeners: Some(vec![crate::facts::Listener {
                proto: Proto::Udp,
                addr: "0.0.0.0".parse().expect("ip"),
                port: 5050,
            }]),
            ..Facts::default()
        };
        let spec = [PortSpec {
            proto: Proto::Tcp,
            port: 5050,
            owner: "strato-master",
        }];
        assert_eq!(ports(&f, &spec).status, Status::Pass);
    }
}
