//! Parsers on outputs captured from real hosts.

use super::*;

#[test]
fn meminfo_total_is_read_in_mib() {
    let text = "MemTotal:       24684312 kB\nMemFree:        22225000 kB\n";
    assert_eq!(meminfo_total_mib(text), Some(24105));
    assert_eq!(meminfo_total_mib("MemFree: 1 kB\n"), None);
}

#[test]
fn cgroup_limit_takes_the_tightest_real_limit() {
    // cgroup v2 inside `docker run --memory 1g`, walking up to the root.
    let v2 = "v2 /sys/fs/cgroup/system.slice/docker-1.scope/init.scope max\n\
              v2 /sys/fs/cgroup/system.slice/docker-1.scope 1073741824\n\
              v2 /sys/fs/cgroup/system.slice max\n";
    assert_eq!(cgroup_limit_mib(v2), Some(1024));
    // cgroup v1 with no limit: the page-rounded i64::MAX sentinel.
    let v1 = "v1 /sys/fs/cgroup/memory/process_api/31f1 9223372036854771712\n\
              v1 /sys/fs/cgroup/memory 9223372036854771712\n";
    assert_eq!(cgroup_limit_mib(v1), None);
    assert_eq!(cgroup_limit_mib(""), None);
    // The host's tree mounted in a container: the path from /proc/self/cgroup is not ours.
    let foreign = "mismatch /sys/fs/cgroup/init.scope\nv2 /sys/fs/cgroup/system.slice 536870912\n";
    assert_eq!(cgroup_limit_mib(foreign), None);
    assert!(cgroup_mismatch(foreign));
}

#[test]
fn effective_memory_is_the_smaller_of_meminfo_and_cgroup() {
    let m = Memory {
        meminfo_mib: Some(16_000),
        cgroup_limit_mib: Some(1024),
        cgroup_unreadable: false,
    };
    assert_eq!(m.effective_mib(), Some(1024));
    let m = Memory {
        meminfo_mib: Some(2048),
        cgroup_limit_mib: None,
        cgroup_unreadable: false,
    };
    assert_eq!(m.effective_mib(), Some(2048));
}

#[test]
fn df_reads_available_and_mount() {
    let text = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                /dev/vda         264212084 18883928  76401960      20% /\n";
    assert_eq!(
        df(text),
        Some(Disk {
            mount: "/".into(),
            available_mib: 74611,
            total_mib: 258019,
        })
    );
    assert_eq!(df("Filesystem 1024-blocks\n"), None);
}

#[test]
fn kernel_release_numbers_are_extracted() {
    let k = kernel("5.14.0-427.13.1.el9_4.x86_64").expect("parses");
    assert_eq!((k.major, k.minor), (5, 14));
    let k = kernel("6.1.0-28-amd64").expect("parses");
    assert_eq!(
        (k.major, k.minor, k.release.as_str()),
        (6, 1, "6.1.0-28-amd64")
    );
    assert_eq!(kernel("garbage"), None);
}

#[test]
fn systemd_needs_pid1_and_reads_its_version() {
    let s = systemd("systemd", "systemd 252 (252.38-1~deb12u1)");
    assert_eq!((s.pid1, s.version), (true, Some(252)));
    let s = systemd("bash", "");
    assert_eq!((s.pid1, s.version), (false, None));
}

#[test]
fn binaries_found_and_missing() {
    let b = binaries("found curl /usr/bin/curl\nmissing ipset\nfound tar /bin/tar\n");
    assert_eq!(b["curl"].as_deref(), Some("/usr/bin/curl"));
    assert_eq!(b["ipset"], None);
    assert_eq!(b.len(), 3);
}

#[test]
fn proc_net_listeners_are_decoded() {
    // Captured from /proc/net/{tcp,tcp6,udp} of a host running sshd, a master and dnsmasq.
    let text = "\
tcp   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
tcp    0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1683 1 0 100 0 0 10 0
tcp    1: 0100007F:13BA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1684 1 0 100 0 0 10 0
tcp    2: 0200000A:0016 0100000A:D431 01 00000000:00000000 02:00097B2B 00000000     0        0 1700 2 0 20 4 30 10 -1
tcp6   sl  local_address                         remote_address                        st tx_queue rx_queue
tcp6   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1690 1 0 100 0 0 10 0
tcp6   1: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1691 1 0 100 0 0 10 0
udp   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
udp  123: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 1705 2 0 0
";
    let l = listeners(text).expect("tables present");
    let has = |proto, addr: &str, port| {
        l.contains(&Listener {
            proto,
            addr: addr.parse().expect("ip"),
            port,
        })
    };
    assert!(has(Proto::Tcp, "0.0.0.0", 22));
    assert!(has(Proto::Tcp, "127.0.0.1", 5050));
    assert!(has(Proto::Tcp, "::", 8080));
    assert!(has(Proto::Tcp, "::1", 53));
    assert!(has(Proto::Udp, "127.0.0.53", 53));
    assert_eq!(
        l.len(),
        5,
        "the established connection is not a listener: {l:?}"
    );
    assert_eq!(listeners(""), None);
}

#[test]
fn clock_sync_from_timedatectl_or_chrony() {
    let t = time_sync("yes", "", "chronyd active\nsystemd-timesyncd inactive\n");
    assert_eq!(t.state, ClockSync::Synchronized);
    assert_eq!(t.active_services, vec!["chronyd"]);
    let chrony = "Reference ID    : A9FEA97B (169.254.169.123)\nStratum         : 4\n\
                  Leap status     : Normal\n";
    assert_eq!(time_sync("", chrony, "").state, ClockSync::Synchronized);
    let unsynced = "Reference ID    : 00000000 ()\nLeap status     : Not synchronised\n";
    assert_eq!(
        time_sync("", unsynced, "").state,
        ClockSync::NotSynchronized
    );
    assert_eq!(time_sync("no", "", "").state, ClockSync::NotSynchronized);
    assert_eq!(time_sync("", "", "").state, ClockSync::Unknown);
}

#[test]
fn ip_o_addr_lists_every_address() {
    let text = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n\
                1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever\n\
                2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever\n\
                2: eth0    inet6 fe80::fc:ff:fe00:1/64 scope link \\       valid_lft forever\n";
    let a = addresses(text);
    assert_eq!(a.len(), 4);
    assert!(a.contains(&"10.0.0.5".parse().expect("ip")));
}

#[test]
fn selinux_modes_and_policy() {
    let sestatus = "SELinux status:                 enabled\n\
                    Loaded policy name:             targeted\nCurrent mode:                   enforcing\n";
    assert_eq!(
        selinux("Enforcing", sestatus),
        Selinux::Enforcing {
            policy: Some("targeted".into())
        }
    );
    assert_eq!(selinux("Permissive", ""), Selinux::Permissive);
    assert_eq!(selinux("Disabled", ""), Selinux::Disabled);
    assert_eq!(selinux("", ""), Selinux::NotPresent);
}

#[test]
fn tmp_mount_options_are_split() {
    assert_eq!(
        mount_options("rw,nosuid,nodev,noexec,relatime\n"),
        Some(
            vec!["rw", "nosuid", "nodev", "noexec", "relatime"]
                .into_iter()
                .map(String::from)
                .collect()
        )
    );
    assert_eq!(mount_options(""), None);
}

#[test]
fn whole_output_of_a_rocky_vm_parses() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/facts/rocky-9-vm.txt"
    ))
    .expect("fixture");
    let f = Facts::from_script_output(&text);
    assert!(f.problems.is_empty(), "{:?}", f.problems);
    assert_eq!(f.os_release.as_ref().map(|r| r.id.as_str()), Some("rocky"));
    assert_eq!(f.cpus, Some(4));
    assert_eq!(f.memory.effective_mib(), Some(7680));
    assert_eq!(f.disk.as_ref().map(|d| d.available_mib), Some(40960));
    assert_eq!(f.kernel.as_ref().map(|k| (k.major, k.minor)), Some((5, 14)));
    assert_eq!(f.systemd.as_ref().and_then(|s| s.version), Some(252));
    assert_eq!(
        f.binaries.get("curl"),
        Some(&Some("/usr/bin/curl".to_string()))
    );
    assert_eq!(f.time_sync.state, ClockSync::Synchronized);
    assert_eq!(f.container, None);
    assert_eq!(
        f.ip_detect,
        Some(IpDetect {
            output: "10.0.0.11".into(),
            exit_status: Some(0)
        })
    );
    assert_eq!(
        f.selinux,
        Selinux::Enforcing {
            policy: Some("targeted".into())
        }
    );
    assert_eq!(f.hostname.as_deref(), Some("master-1"));
    assert_eq!(
        f.machine_id.as_deref(),
        Some("5b4b7e0f2a8a4b0c9d3f6f1d2c3b4a59")
    );
    assert!(!f.strato_installed);
    assert_eq!(f.epoch_seconds, Some(1_795_000_000));
}

#[test]
fn truncated_output_is_reported() {
    let f = Facts::from_script_output("@@strato@@ nproc\n4\n");
    assert_eq!(f.cpus, Some(4));
    assert!(f.problems.iter().any(|p| p.contains("no end marker")));
    assert!(f.problems.iter().any(|p| p.starts_with("meminfo")));
}
