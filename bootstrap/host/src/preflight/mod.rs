//! Preflight: pure checks of one host's [`Facts`] against its role's needs
//! ([`check_host`]), and of all hosts together ([`check_cluster`]: unique IPs, hostnames,
//! machine-ids, clock skew). Each check yields PASS/WARN/FAIL with the measured and the
//! required value. A FAIL stops deploy on that host unless the operator waives the check by
//! name ([`Waivers`]), which turns it into a WARN marked as waived.
//!
//! DC/OS checked ports, binaries, systemd and SELinux but never CPU, RAM or disk
//! (docs/dcos-installer-notes.md §Preflight checks); these checks cover both.

mod checks;
mod cluster;
mod render;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::facts::{Facts, Proto};

pub use cluster::{check_cluster, HostCheck, MAX_CLOCK_SKEW_SECONDS};
pub use render::render_table;

/// Kernel older than this fails: 4.18 is EL8's, the oldest of our supported distributions.
pub const MIN_KERNEL: (u32, u32) = (4, 18);
/// systemd older than this fails: 239 is EL8's (`timedatectl show` and the unit options we use).
pub const MIN_SYSTEMD: u32 = 239;
/// Binaries the install scripts and nodes use.
pub const REQUIRED_BINARIES: &[&str] = &[
    "curl",
    "tar",
    "gzip",
    "sha256sum",
    "ip",
    "systemctl",
    "openssl",
];
/// The agents' task port range starts here unless cluster.yaml says otherwise
/// (docs/runtime-contract.md §Ports: `port_range = "31000-32000"`).
pub const DEFAULT_AGENT_PORT_RANGE_START: u16 = 31000;

/// Every check's name: what an operator writes to waive it.
pub mod names {
    pub const CPU: &str = "cpu";
    pub const MEMORY: &str = "memory";
    pub const DISK: &str = "disk";
    pub const OS: &str = "os";
    pub const KERNEL: &str = "kernel";
    pub const SYSTEMD: &str = "systemd";
    pub const BINARIES: &str = "binaries";
    pub const PORTS: &str = "ports";
    pub const TIME_SYNC: &str = "time-sync";
    pub const IP_DETECT: &str = "ip-detect";
    pub const SELINUX: &str = "selinux";
    pub const TMP_EXEC: &str = "tmp-exec";
    pub const UNIQUE_IP: &str = "unique-ip";
    pub const UNIQUE_HOSTNAME: &str = "unique-hostname";
    pub const UNIQUE_MACHINE_ID: &str = "unique-machine-id";
    pub const CLOCK_SKEW: &str = "clock-skew";
    pub const GLIBC: &str = "glibc";
    pub const CONTAINER_ENGINE: &str = "container-engine";

    /// All of them, in the order they are reported.
    pub const ALL: &[&str] = &[
        CPU,
        MEMORY,
        DISK,
        OS,
        KERNEL,
        SYSTEMD,
        BINARIES,
        PORTS,
        TIME_SYNC,
        IP_DETECT,
        SELINUX,
        TMP_EXEC,
        GLIBC,
        CONTAINER_ENGINE,
        UNIQUE_IP,
        UNIQUE_HOSTNAME,
        UNIQUE_MACHINE_ID,
        CLOCK_SKEW,
    ];
}

pub use strato_config::Role;

/// A port the role binds, which must be free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpec {
    pub proto: Proto,
    pub port: u16,
    /// Who binds it, for the message.
    pub owner: &'static str,
}

/// The ports `role`'s services bind (docs/runtime-contract.md): masters 5050 (Mesos-style
/// API), 8080 (Marathon), 53 tcp+udp (DNS); agents 5051 and the first task port.
/// The bootstrap server's port is not fixed yet: add it with [`PreflightSpec::ports`].
pub fn default_ports(role: Role, agent_port_range_start: u16) -> Vec<PortSpec> {
    let p = |proto, port, owner| PortSpec { proto, port, owner };
    match role {
        Role::Master => vec![
            p(Proto::Tcp, 5050, "strato-master"),
            p(Proto::Tcp, 8080, "marathon api"),
            p(Proto::Tcp, 53, "dns"),
            p(Proto::Udp, 53, "dns"),
        ],
        Role::Agent | Role::PublicAgent => vec![
            p(Proto::Tcp, 5051, "strato-agent"),
            p(Proto::Tcp, agent_port_range_start, "task port range"),
        ],
        Role::Bootstrap => Vec::new(),
    }
}

/// Hardware minimums for a role. The config crate's hardware profiles map onto this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirements {
    pub cpus: u32,
    pub memory_mib: u64,
    /// Free space at the data directory.
    pub disk_mib: u64,
}

/// Check names whose FAIL becomes a WARN (waived). Built only from known names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waivers(BTreeSet<String>);

/// A waiver that names no check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown preflight check {name:?} in waivers; known checks: {known}")]
pub struct UnknownCheck {
    pub name: String,
    pub known: String,
}

impl Waivers {
    /// Validate `names` against [`names::ALL`].
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Result<Self, UnknownCheck> {
        let mut set = BTreeSet::new();
        for n in names {
            let n = n.as_ref();
            if !names::ALL.contains(&n) {
                return Err(UnknownCheck {
                    name: n.to_string(),
                    known: names::ALL.join(", "),
                });
            }
            set.insert(n.to_string());
        }
        Ok(Waivers(set))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// Turn each waived FAIL into a WARN marked `waived`.
    pub fn apply(&self, results: &mut [CheckResult]) {
        for r in results.iter_mut() {
            if r.status == Status::Fail && self.contains(&r.name) {
                r.status = Status::Warn;
                r.waived = true;
            }
        }
    }
}

/// A check's verdict; ordered PASS < WARN < FAIL so the worst is the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        })
    }
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// One of [`names::ALL`].
    pub name: String,
    pub status: Status,
    /// What the host has (`2 cores`, `1024 MiB (cgroup limit)`).
    pub measured: String,
    /// What the role needs (`>= 4 cores`).
    pub required: String,
    /// Why, and what to do about it; empty when there is nothing to say.
    pub message: String,
    /// A FAIL turned into WARN by a waiver.
    pub waived: bool,
}

impl CheckResult {
    pub(crate) fn new(
        name: &str,
        status: Status,
        measured: impl Into<String>,
        required: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        CheckResult {
            name: name.to_string(),
            status,
            measured: measured.into(),
            required: required.into(),
            message: message.into(),
            waived: false,
        }
    }
}

/// What one host is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightSpec {
    pub role: Role,
    pub requirements: Requirements,
    /// Ports that must be free (default: [`default_ports`]).
    pub ports: Vec<PortSpec>,
    /// Binaries that must be on `PATH` (default: [`REQUIRED_BINARIES`]); gather them with the
    /// same list.
    pub required_binaries: Vec<String>,
    /// The oldest glibc a binary this host will run needs (etcd on masters of a 3+ master
    /// cluster); `None`: no glibc check.
    pub min_glibc: Option<GlibcNeed>,
    /// The container engine an agent must run (cluster.yaml's `runtime.container_engine`);
    /// `None`: not checked.
    pub container_engine: Option<EngineNeed>,
    pub waivers: Waivers,
}

/// A container engine an agent must have running, and how to install it on this host's
/// distribution (`os::PackageManager::container_engine_install`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineNeed {
    /// `docker` or `podman`.
    pub engine: String,
    /// The oldest server version accepted, `(major, minor)`.
    pub min_version: (u32, u32),
    pub install: String,
}

/// A glibc version a host must have at least, and for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlibcNeed {
    pub version: (u32, u32),
    /// Who needs it, for the message: `etcd 3.4.23 from the runtime bundle`.
    pub by: String,
}

impl PreflightSpec {
    /// Defaults for `role`: its ports with the default task port range, the standard binaries,
    /// no waivers.
    pub fn for_role(role: Role, requirements: Requirements) -> Self {
        PreflightSpec {
            role,
            requirements,
            ports: default_ports(role, DEFAULT_AGENT_PORT_RANGE_START),
            required_binaries: REQUIRED_BINARIES.iter().map(|s| s.to_string()).collect(),
            min_glibc: None,
            container_engine: None,
            waivers: Waivers::default(),
        }
    }
}

/// Every per-host check, in [`names::ALL`] order, with waivers applied. Pure.
pub fn check_host(facts: &Facts, spec: &PreflightSpec) -> Vec<CheckResult> {
    let mut results = vec![
        checks::cpu(facts, &spec.requirements),
        checks::memory(facts, &spec.requirements),
        checks::disk(facts, &spec.requirements),
        checks::os(facts),
        checks::kernel(facts),
        checks::systemd(facts),
        checks::binaries(facts, &spec.required_binaries),
        checks::ports(facts, &spec.ports),
        checks::time_sync(facts),
        checks::ip_detect(facts),
        checks::selinux(facts),
        checks::tmp_exec(facts),
    ];
    if let Some(need) = &spec.min_glibc {
        results.push(checks::glibc(facts, need));
    }
    if let Some(need) = &spec.container_engine {
        results.push(checks::container_engine(facts, need));
    }
    spec.waivers.apply(&mut results);
    results
}

/// The worst status (PASS for an empty list).
pub fn worst(results: &[CheckResult]) -> Status {
    results
        .iter()
        .map(|r| r.status)
        .max()
        .unwrap_or(Status::Pass)
}

#[cfg(test)]
mod tests;
