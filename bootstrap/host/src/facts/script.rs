//! The gather script: one POSIX `sh` script that prints every fact in a section after a
//! `@@strato@@ <name>` marker, so facts cost a single round trip. It only reads (nothing is
//! written, not even a temporary file), so it runs in dry-run mode too.

use std::collections::BTreeMap;

use strato_text::shell_quote;

/// The line that starts each section of the script's output.
pub const MARKER: &str = "@@strato@@ ";

/// What the gather step needs to know about the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatherSpec {
    /// Strato's data directory; free space is measured on the filesystem that holds it (or
    /// its nearest existing parent before the first install).
    pub data_dir: String,
    /// Binaries whose presence preflight checks (`command -v`).
    pub binaries: Vec<String>,
    /// The cluster's ip-detect script (its text); `None` skips IP detection.
    pub ip_detect: Option<String>,
}

impl GatherSpec {
    /// Facts for preflight: the data directory, [`REQUIRED_BINARIES`](crate::preflight::REQUIRED_BINARIES)
    /// and the cluster's ip-detect script.
    pub fn new(data_dir: impl Into<String>, ip_detect: Option<String>) -> Self {
        GatherSpec {
            data_dir: data_dir.into(),
            binaries: crate::preflight::REQUIRED_BINARIES
                .iter()
                .map(|b| b.to_string())
                .collect(),
            ip_detect,
        }
    }
}

/// Time daemons whose state we report, across every supported distribution.
const TIME_SERVICES: &[&str] = &[
    "chronyd",
    "chrony",
    "systemd-timesyncd",
    "ntpd",
    "ntpsec",
    "ntp",
];

/// The script for `spec`. Sections appear in this order; `end` closes the output so a
/// truncated run is detectable.
pub fn gather_script(spec: &GatherSpec) -> String {
    let binaries: Vec<String> = spec.binaries.iter().map(|b| shell_quote(b)).collect();
    let ip_detect = match &spec.ip_detect {
        // Run the operator's script with bash when present (ip-detect scripts are usually
        // bash), otherwise sh; its stderr is dropped, its exit status reported.
        Some(body) => format!(
            "if command -v bash >/dev/null 2>&1; then r=bash; else r=sh; fi\n\
             ipd=$($r -c {} 2>/dev/null); ipd_rc=$?\n\
             m ip-detect; printf '%s\\n' \"$ipd\"\nm ip-detect-rc; echo \"$ipd_rc\"\n",
            shell_quote(body)
        ),
        None => String::new(),
    };
    format!(
        r#"m() {{ printf '\n{MARKER}%s\n' "$1"; }}
m os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
m nproc; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null
m meminfo; cat /proc/meminfo 2>/dev/null
m cgroup; cat /proc/self/cgroup 2>/dev/null
m cgroup-memory
# A container with the host's cgroup tree mounted over its own sees paths that do not match
# that tree: say so rather than read some other cgroup's limit.
mine() {{ [ -r "$1/cgroup.procs" ] && ! grep -qx "$$" "$1/cgroup.procs" && echo "mismatch $1"; }}
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cg=$(sed -n 's/^0:://p' /proc/self/cgroup 2>/dev/null | head -n 1)
  d=/sys/fs/cgroup${{cg%/}}
  mine "$d"
  while :; do
    [ -r "$d/memory.max" ] && echo "v2 $d $(cat "$d/memory.max")"
    case "$d" in /sys/fs/cgroup|/sys/fs|/sys|/) break;; esac
    d=$(dirname "$d")
  done
else
  cg=
  while IFS=: read -r _ ctrl path; do
    case ",$ctrl," in *,memory,*) cg=$path;; esac
  done < /proc/self/cgroup
  # No `mine` check on v1: Docker has no cgroup namespace there, so the path above is the real one
  # in the host tree, and in a PID namespace cgroup.procs lists host PIDs that never match $$.
  d=/sys/fs/cgroup/memory${{cg%/}}
  while :; do
    [ -r "$d/memory.limit_in_bytes" ] && echo "v1 $d $(cat "$d/memory.limit_in_bytes")"
    case "$d" in /sys/fs/cgroup/memory|/sys/fs/cgroup|/sys/fs|/sys|/) break;; esac
    d=$(dirname "$d")
  done
fi
m disk
d={data_dir}
while [ ! -e "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done
df -Pk "$d" 2>/dev/null
m kernel; uname -r
m arch; uname -m
m pid1; cat /proc/1/comm 2>/dev/null
m systemd-version; systemctl --version 2>/dev/null | head -n 1
m binaries
for b in {binaries}; do
  if p=$(command -v "$b" 2>/dev/null); then echo "found $b $p"; else echo "missing $b"; fi
done
m listening
for f in tcp tcp6 udp udp6; do [ -r /proc/net/$f ] && sed "s/^/$f /" /proc/net/$f; done
m timedatectl; timedatectl show -p NTPSynchronized --value 2>/dev/null
m chronyc; command -v chronyc >/dev/null 2>&1 && chronyc -n tracking 2>/dev/null
m time-services
for s in {time_services}; do echo "$s $(systemctl is-active "$s" 2>/dev/null)"; done
m container
v=$(systemd-detect-virt --container 2>/dev/null)
if [ -n "$v" ]; then echo "$v"
elif [ -r /run/systemd/container ]; then cat /run/systemd/container
elif [ -f /.dockerenv ]; then echo docker
else echo none; fi
{ip_detect}m addresses; ip -o addr show 2>/dev/null
m hostname; hostname 2>/dev/null || cat /proc/sys/kernel/hostname
m machine-id; cat /etc/machine-id 2>/dev/null
m selinux
if command -v getenforce >/dev/null 2>&1; then getenforce 2>/dev/null
elif [ -r /sys/fs/selinux/enforce ]; then
  if [ "$(cat /sys/fs/selinux/enforce)" = 1 ]; then echo Enforcing; else echo Permissive; fi
fi
m sestatus; command -v sestatus >/dev/null 2>&1 && sestatus 2>/dev/null
m tmp-options; findmnt -n -o OPTIONS --target /tmp 2>/dev/null
m strato-installed; [ -d /opt/strato/bin ] && echo yes || echo no
m glibc; getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version 2>/dev/null | head -n 1
m etcd-member; [ -d /var/lib/strato/master/etcd/member ] && echo yes || echo no
m container-engines
command -v docker >/dev/null 2>&1 && echo "docker $(docker version --format '{{{{.Server.Version}}}}' 2>/dev/null)"
command -v podman >/dev/null 2>&1 && echo "podman $(podman version --format '{{{{.Version}}}}' 2>/dev/null)"
m epoch; date +%s
m end
"#,
        data_dir = shell_quote(&spec.data_dir),
        binaries = binaries.join(" "),
        time_services = TIME_SERVICES.join(" "),
    )
}

/// Split the script's output into sections by name. Text before the first marker is ignored;
/// each section's text has its trailing newlines removed.
pub fn split_sections(output: &str) -> BTreeMap<String, String> {
    let mut sections = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in output.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix(MARKER) {
            if let Some((n, text)) = current.take() {
                sections.insert(n, text.trim_end_matches('\n').to_string());
            }
            current = Some((name.trim().to_string(), String::new()));
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
        }
    }
    if let Some((n, text)) = current {
        sections.insert(n, text.trim_end_matches('\n').to_string());
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_split_on_markers_and_keep_inner_blank_lines() {
        let out = format!("junk\n\n{MARKER}a\none\n\ntwo\n\n{MARKER}b\n\n{MARKER}end\n");
        let s = split_sections(&out);
        assert_eq!(s["a"], "one\n\ntwo");
        assert_eq!(s["b"], "");
        assert!(s.contains_key("end"));
    }

    #[cfg(unix)]
    #[test]
    fn script_is_valid_posix_sh() {
        let spec = GatherSpec {
            data_dir: "/var/lib/strato it's".into(),
            binaries: vec!["curl".into()],
            ip_detect: Some("#!/bin/sh\necho 10.0.0.1\n".into()),
        };
        let status = std::process::Command::new("sh")
            .arg("-n")
            .arg("-c")
            .arg(gather_script(&spec))
            .status()
            .expect("sh");
        assert!(status.success());
    }
}
