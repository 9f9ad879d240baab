//! Facts: what a host is (CPUs, memory, disk, OS, kernel, systemd, binaries, ports, clock,
//! addresses, identity, SELinux, `/tmp`). Gathered by one script in one exec ([`script`]) and
//! parsed by pure functions ([`parse`]), so parsing is tested on captured outputs.
//! A fact that could not be measured is `None`; preflight decides what that means.

pub mod parse;
pub mod script;

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::host::{Host, HostError};
use crate::os_release::OsRelease;
use crate::transport::ExecOptions;

pub use script::GatherSpec;

/// The kernel release (`uname -r`) and its leading numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kernel {
    pub release: String,
    pub major: u32,
    pub minor: u32,
}

/// Memory as the kernel and the cgroup see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// `MemTotal` from /proc/meminfo.
    pub meminfo_mib: Option<u64>,
    /// The tightest cgroup limit on the login's cgroup and its ancestors (v2 `memory.max`,
    /// v1 `memory.limit_in_bytes`); `None` when unlimited or unreadable.
    pub cgroup_limit_mib: Option<u64>,
    /// The cgroup filesystem does not show this process's cgroup where /proc/self/cgroup
    /// says (typically a container with the host's /sys/fs/cgroup mounted), so any cgroup
    /// limit is unknown.
    #[serde(default)]
    pub cgroup_unreadable: bool,
}

impl Memory {
    /// What processes can really use: the smaller of the two, so a VM or container limit counts.
    pub fn effective_mib(&self) -> Option<u64> {
        match (self.meminfo_mib, self.cgroup_limit_mib) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Free space on the filesystem that holds the data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    /// Where that filesystem is mounted.
    pub mount: String,
    pub available_mib: u64,
    pub total_mib: u64,
}

/// The init system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Systemd {
    /// PID 1 is systemd (not just installed: in a plain container it is not running).
    pub pid1: bool,
    /// `systemctl --version`'s number.
    pub version: Option<u32>,
}

/// Transport protocol of a listening socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// A TCP socket in LISTEN or a bound UDP socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Listener {
    pub proto: Proto,
    pub addr: IpAddr,
    pub port: u16,
}

/// Whether the clock is kept in sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSync {
    Synchronized,
    NotSynchronized,
    #[default]
    Unknown,
}

/// Clock state and where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSync {
    pub state: ClockSync,
    /// Which tool said so (`timedatectl`, `chronyc`).
    pub source: Option<String>,
    /// Time daemons that are active.
    pub active_services: Vec<String>,
}

/// What the cluster's ip-detect script printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpDetect {
    pub output: String,
    pub exit_status: Option<u32>,
}

/// SELinux state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selinux {
    /// No SELinux tooling or filesystem.
    #[default]
    NotPresent,
    Disabled,
    Permissive,
    /// With the loaded policy's name when `sestatus` reports it (`targeted`, `mls`).
    Enforcing {
        policy: Option<String>,
    },
}

/// Everything preflight needs to know about one host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub os_release: Option<OsRelease>,
    pub hostname: Option<String>,
    pub machine_id: Option<String>,
    pub arch: Option<String>,
    pub kernel: Option<Kernel>,
    pub cpus: Option<u32>,
    pub memory: Memory,
    pub disk: Option<Disk>,
    pub systemd: Option<Systemd>,
    /// Each requested binary and its path, `None` when missing.
    pub binaries: BTreeMap<String, Option<String>>,
    /// `None` when /proc/net could not be read.
    pub listeners: Option<Vec<Listener>>,
    pub time_sync: TimeSync,
    /// `docker`, `lxc`, `podman`, … when the host is a container; `None` for a VM or metal.
    pub container: Option<String>,
    /// `None` when no ip-detect script was given.
    pub ip_detect: Option<IpDetect>,
    /// Every address on the host's interfaces (`ip -o addr`).
    pub addresses: Vec<IpAddr>,
    pub selinux: Selinux,
    /// Mount options of the filesystem holding /tmp.
    pub tmp_options: Option<Vec<String>>,
    /// `/opt/strato/bin` exists: Strato is (at least partly) installed.
    pub strato_installed: bool,
    /// The C library's version, `(2, 34)`, from `getconf GNU_LIBC_VERSION` (or `ldd --version`);
    /// `None` when neither says (musl, or the tools are missing).
    #[serde(default)]
    pub glibc: Option<(u32, u32)>,
    /// `/var/lib/strato/master/etcd/member` exists: this master has been an etcd member (a
    /// cluster of 3 or more masters was started here).
    #[serde(default)]
    pub etcd_member: bool,
    /// Container engines on the host and the version their service answers with (empty when
    /// installed but not running): `docker` → `28.2.2`.
    #[serde(default)]
    pub container_engines: BTreeMap<String, String>,
    /// The host's clock (seconds since the epoch) when gathered.
    pub epoch_seconds: Option<i64>,
    /// Sections that were missing or unparseable, for diagnostics.
    pub problems: Vec<String>,
}

impl Facts {
    /// Parse the gather script's whole output. Pure.
    pub fn from_script_output(output: &str) -> Facts {
        parse::facts(&script::split_sections(output))
    }
}

impl Host {
    /// Run the gather script (one exec, privileged so cgroup and SELinux files are readable)
    /// and parse its output. A read: runs in dry-run mode too.
    pub async fn gather_facts(&self, spec: &GatherSpec) -> Result<Facts, HostError> {
        // Explicit `sh -c`: the login shell may not be POSIX (fish, csh).
        let command = format!(
            "sh -c {}",
            strato_text::shell_quote(&script::gather_script(spec))
        );
        let out = self.read(&command, ExecOptions::sudo()).await?;
        Ok(Facts::from_script_output(&out.stdout_text()))
    }
}
