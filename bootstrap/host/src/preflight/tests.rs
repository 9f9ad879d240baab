//! Preflight on facts parsed from captured outputs, edited per case.

use super::*;
use crate::facts::{ClockSync, Facts, IpDetect, Listener, Selinux};

fn rocky_vm() -> Facts {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/facts/rocky-9-vm.txt"
    ))
    .expect("fixture");
    Facts::from_script_output(&text)
}

fn minimal() -> Requirements {
    Requirements {
        cpus: 2,
        memory_mib: 4096,
        disk_mib: 20_480,
    }
}

fn production() -> Requirements {
    Requirements {
        cpus: 8,
        memory_mib: 32_768,
        disk_mib: 122_880,
    }
}

fn result<'a>(results: &'a [CheckResult], name: &str) -> &'a CheckResult {
    results
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no {name} check"))
}

#[test]
fn a_good_rocky_vm_passes_the_minimal_profile_as_master() {
    let r = check_host(
        &rocky_vm(),
        &PreflightSpec::for_role(Role::Master, minimal()),
    );
    let names: Vec<&str> = r.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, &names::ALL[..12]);
    // Only SELinux enforcing (targeted) warns.
    let not_pass: Vec<_> = r.iter().filter(|c| c.status != Status::Pass).collect();
    assert_eq!(not_pass.len(), 1, "{not_pass:#?}");
    assert_eq!(not_pass[0].name, names::SELINUX);
    assert_eq!(worst(&r), Status::Warn);
}

#[test]
fn the_production_profile_fails_on_cpu_memory_and_disk_with_both_values() {
    let r = check_host(
        &rocky_vm(),
        &PreflightSpec::for_role(Role::Master, production()),
    );
    let cpu = result(&r, names::CPU);
    assert_eq!(
        (cpu.status, cpu.measured.as_str(), cpu.required.as_str()),
        (Status::Fail, "4 cores", ">= 8 cores")
    );
    assert_eq!(result(&r, names::MEMORY).status, Status::Fail);
    assert_eq!(result(&r, names::DISK).status, Status::Fail);
    assert_eq!(worst(&r), Status::Fail);
}

#[test]
fn a_container_memory_limit_counts_and_is_named() {
    let mut f = rocky_vm();
    f.memory.cgroup_limit_mib = Some(1024);
    let r = check_host(&f, &PreflightSpec::for_role(Role::Agent, minimal()));
    let m = result(&r, names::MEMORY);
    assert_eq!(m.status, Status::Fail);
    assert_eq!(m.measured, "1024 MiB (cgroup limit)");
    assert!(
        m.message.contains("the machine has 7680 MiB"),
        "{}",
        m.message
    );
}

#[test]
fn an_unreadable_cgroup_limit_warns_instead_of_passing() {
    let mut f = rocky_vm();
    f.memory.cgroup_unreadable = true;
    let r = check_host(&f, &PreflightSpec::for_role(Role::Agent, minimal()));
    let m = result(&r, names::MEMORY);
    assert_eq!(m.status, Status::Warn);
    assert!(m.message.contains("could not be read"), "{}", m.message);
}

#[test]
fn busy_role_ports_fail_and_name_the_address() {
    let mut f = rocky_vm();
    let l = |proto, addr: &str, port| Listener {
        proto,
        addr: addr.parse().expect("ip"),
        port,
    };
    f.listeners = Some(vec![
        l(crate::facts::Proto::Tcp, "0.0.0.0", 8080),
        l(crate::facts::Proto::Udp, "127.0.0.53", 53),
    ]);
    let r = check_host(&f, &PreflightSpec::for_role(Role::Master, minimal()));
    let p = result(&r, names::PORTS);
    assert_eq!(p.status, Status::Fail);
    assert_eq!(
        p.measured,
        "in use: 8080/tcp on 0.0.0.0 (marathon api), 53/udp on 127.0.0.53 (dns)"
    );
    assert!(p.message.contains("DNSStubListener=no"), "{}", p.message);
    // The agent role does not need those ports.
    let r = check_host(&f, &PreflightSpec::for_role(Role::Agent, minimal()));
    assert_eq!(result(&r, names::PORTS).status, Status::Pass);
    // With Strato already installed, its own listeners only warn.
    f.strato_installed = true;
    let r = check_host(&f, &PreflightSpec::for_role(Role::Master, minimal()));
    assert_eq!(result(&r, names::PORTS).status, Status::Warn);
}

#[test]
fn agent_ports_include_the_task_range_start() {
    let ports: Vec<u16> = super::default_ports(Role::Agent, DEFAULT_AGENT_PORT_RANGE_START)
        .iter()
        .map(|p| p.port)
        .collect();
    assert_eq!(ports, vec![5051, 31000]);
}

#[test]
fn unsupported_os_and_version_fail_by_name() {
    let mut f = rocky_vm();
    f.os_release = Some(
        crate::os_release::OsRelease::parse("ID=arch\nNAME=\"Arch Linux\"\n").expect("parses"),
    );
    let o = check_host(&f, &PreflightSpec::for_role(Role::Agent, minimal()));
    let o = result(&o, names::OS);
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.message
            .starts_with("unsupported OS: Arch Linux (ID=arch)"),
        "{}",
        o.message
    );

    f.os_release = Some(
        crate::os_release::OsRelease::parse("ID=rocky\nNAME=\"Rocky Linux\"\nVERSION_ID=7.9\n")
            .expect("parses"),
    );
    let r = check_host(&f, &PreflightSpec::for_role(Role::Agent, minimal()));
    let o = result(&r, names::OS);
    assert_eq!(
        (o.status, o.required.as_str(), o.message.as_str()),
        (
            Status::Fail,
            "Rocky Linux 8, 9, 10",
            "Rocky Linux 7.9 is not supported"
        )
    );
}

#[test]
fn old_kernel_missing_systemd_and_binaries_fail() {
    let mut f = rocky_vm();
    f.kernel = crate::facts::parse::kernel("3.10.0-1160.el7.x86_64");
    f.systemd = Some(crate::facts::Systemd {
        pid1: false,
        version: Some(252),
    });
    f.binaries.insert("curl".into(), None);
    let r = check_host(&f, &PreflightSpec::for_role(Role::Agent, minimal()));
    assert_eq!(result(&r, names::KERNEL).status, Status::Fail);
    let s = result(&r, names::SYSTEMD);
    assert_eq!(
        (s.status, s.measured.as_str()),
        (Status::Fail, "systemd 252 (not PID 1)")
    );
    let b = result(&r, names::BINARIES);
    assert_eq!(b.status, Status::Fail);
    assert_eq!(b.measured, "missing: curl");
    assert!(b.message.contains("dnf install -y"), "{}", b.message);
}

#[test]
fn clock_not_synchronised_fails_on_a_vm_and_warns_in_a_container() {
    let mut f = rocky_vm();
    f.time_sync.state = ClockSync::NotSynchronized;
    let spec = PreflightSpec::for_role(Role::Agent, minimal());
    assert_eq!(
        result(&check_host(&f, &spec), names::TIME_SYNC).status,
        Status::Fail
    );
    f.container = Some("docker".into());
    assert_eq!(
        result(&check_host(&f, &spec), names::TIME_SYNC).status,
        Status::Warn
    );
    f.time_sync.state = ClockSync::Unknown;
    assert_eq!(
        result(&check_host(&f, &spec), names::TIME_SYNC).status,
        Status::Warn
    );
}

#[test]
fn ip_detect_must_print_one_address_of_this_host() {
    let spec = PreflightSpec::for_role(Role::Agent, minimal());
    let case = |output: &str, status: Option<u32>| {
        let mut f = rocky_vm();
        f.ip_detect = Some(IpDetect {
            output: output.into(),
            exit_status: status,
        });
        result(&check_host(&f, &spec), names::IP_DETECT).clone()
    };
    assert_eq!(case("10.0.0.11", Some(0)).status, Status::Pass);
    let two = case("10.0.0.11\n10.0.0.12", Some(0));
    assert_eq!(
        (two.status, two.measured.as_str()),
        (Status::Fail, "2 lines")
    );
    let foreign = case("192.168.1.1", Some(0));
    assert!(
        foreign.message.contains("not an address of this host"),
        "{}",
        foreign.message
    );
    assert_eq!(case("", Some(0)).status, Status::Fail);
    assert_eq!(case("eth0", Some(0)).status, Status::Fail);
    assert_eq!(case("10.0.0.11", Some(1)).measured, "exit status 1");
}

#[test]
fn selinux_enforcing_targeted_warns_and_mls_fails() {
    let spec = PreflightSpec::for_role(Role::Agent, minimal());
    let mut f = rocky_vm();
    f.selinux = Selinux::Enforcing {
        policy: Some("mls".into()),
    };
    assert_eq!(
        result(&check_host(&f, &spec), names::SELINUX).status,
        Status::Fail
    );
    f.selinux = Selinux::Permissive;
    assert_eq!(
        result(&check_host(&f, &spec), names::SELINUX).status,
        Status::Pass
    );
}

#[test]
fn tmp_noexec_fails() {
    let mut f = rocky_vm();
    f.tmp_options = Some(vec!["rw".into(), "noexec".into()]);
    let r = check_host(&f, &PreflightSpec::for_role(Role::Agent, minimal()));
    assert_eq!(result(&r, names::TMP_EXEC).status, Status::Fail);
}

#[test]
fn waivers_turn_fail_into_waived_warn_and_reject_unknown_names() {
    let mut spec = PreflightSpec::for_role(Role::Master, production());
    spec.waivers = Waivers::new(["cpu", "disk"]).expect("known names");
    let r = check_host(&rocky_vm(), &spec);
    let cpu = result(&r, names::CPU);
    assert_eq!((cpu.status, cpu.waived), (Status::Warn, true));
    assert_eq!(result(&r, names::MEMORY).status, Status::Fail);
    let err = Waivers::new(["cpus"]).expect_err("typo");
    assert!(err
        .to_string()
        .starts_with("unknown preflight check \"cpus\""));
}

#[test]
fn cluster_checks_flag_duplicates_on_every_host_involved() {
    let a = rocky_vm();
    let mut b = rocky_vm();
    b.hostname = Some("master-2".into());
    b.ip_detect = Some(IpDetect {
        output: "10.0.0.12".into(),
        exit_status: Some(0),
    });
    let mut c = rocky_vm();
    c.hostname = Some("agent-1".into());
    c.ip_detect = Some(IpDetect {
        output: "10.0.0.13".into(),
        exit_status: Some(0),
    });
    c.epoch_seconds = a.epoch_seconds.map(|t| t + 120);
    // a, b and c share the machine-id of the cloned image.
    let r = check_cluster(&[("a", &a), ("b", &b), ("c", &c)], &Waivers::default());
    let get = |host: &str, name: &str| {
        r.iter()
            .find(|h| h.host == host && h.result.name == name)
            .map(|h| h.result.clone())
            .expect("result")
    };
    assert_eq!(get("a", names::UNIQUE_HOSTNAME).status, Status::Pass);
    let mid = get("a", names::UNIQUE_MACHINE_ID);
    assert_eq!(
        (mid.status, mid.message.as_str()),
        (Status::Fail, "same machine-id as b, c")
    );
    assert_eq!(get("b", names::UNIQUE_IP).status, Status::Pass);
    let skew = get("c", names::CLOCK_SKEW);
    assert_eq!(
        (skew.status, skew.measured.as_str()),
        (Status::Fail, "+120 s")
    );
    assert_eq!(get("a", names::CLOCK_SKEW).status, Status::Pass);
    assert_eq!(r.len(), 12);

    let waived = check_cluster(
        &[("a", &a), ("b", &b)],
        &Waivers::new(["unique-machine-id"]).expect("known"),
    );
    assert!(waived
        .iter()
        .filter(|h| h.result.name == names::UNIQUE_MACHINE_ID)
        .all(|h| h.result.status == Status::Warn && h.result.waived));
}

#[test]
fn table_renders_aligned_with_a_summary() {
    let mut f = rocky_vm();
    f.memory.cgroup_limit_mib = Some(1024);
    f.tmp_options = Some(vec!["rw".into(), "noexec".into()]);
    let mut spec = PreflightSpec::for_role(Role::Master, minimal());
    spec.waivers = Waivers::new(["tmp-exec"]).expect("known");
    insta::assert_snapshot!(render_table(&check_host(&f, &spec)));
}

#[test]
fn glibc_is_checked_only_when_a_binary_needs_it_and_names_found_and_needed() {
    let facts = rocky_vm();
    assert_eq!(facts.glibc, Some((2, 34)));
    let plain = check_host(&facts, &PreflightSpec::for_role(Role::Master, minimal()));
    assert!(
        plain.iter().all(|r| r.name != names::GLIBC),
        "no need, no row"
    );

    let mut spec = PreflightSpec::for_role(Role::Master, minimal());
    spec.min_glibc = Some(GlibcNeed {
        version: (2, 34),
        by: "etcd 3.4.23 from the runtime bundle".into(),
    });
    let r = check_host(&facts, &spec);
    assert_eq!(result(&r, names::GLIBC).status, Status::Pass);

    // An EL8 node: glibc 2.28.
    let mut el8 = facts.clone();
    el8.glibc = Some((2, 28));
    let r = check_host(&el8, &spec);
    let row = result(&r, names::GLIBC);
    assert_eq!(row.status, Status::Fail);
    assert_eq!(row.measured, "glibc 2.28");
    assert_eq!(
        row.required,
        ">= glibc 2.34 (etcd 3.4.23 from the runtime bundle)"
    );
    assert!(row.message.contains("static etcd"), "{}", row.message);

    // Not measurable: refused too, and the waiver applies as to every check.
    let mut unknown = facts.clone();
    unknown.glibc = None;
    assert_eq!(
        result(&check_host(&unknown, &spec), names::GLIBC).status,
        Status::Fail
    );
    spec.waivers = Waivers::new(["glibc"]).expect("known check");
    let waived = check_host(&el8, &spec);
    let row = result(&waived, names::GLIBC);
    assert_eq!((row.status, row.waived), (Status::Warn, true));
}

#[test]
fn glibc_versions_parse_from_getconf_and_ldd() {
    use crate::facts::parse::glibc;
    assert_eq!(glibc("glibc 2.28"), Some((2, 28)));
    assert_eq!(
        glibc("ldd (Debian GLIBC 2.36-9+deb12u4) 2.36\nCopyright"),
        Some((2, 36))
    );
    assert_eq!(glibc("ldd (GNU libc) 2.34"), Some((2, 34)));
    assert_eq!(glibc("musl libc (x86_64)\nVersion 1.2.4"), None);
    assert_eq!(glibc(""), None);
}

#[test]
fn an_agent_needs_the_container_engine_cluster_yaml_names_running_and_recent() {
    let need = |engine: &str| EngineNeed {
        engine: engine.into(),
        min_version: if engine == "docker" { (20, 10) } else { (4, 0) },
        install: crate::os::PackageManager::Apt.container_engine_install(engine),
    };
    let run = |facts: &Facts, engine: &str| {
        let mut spec = PreflightSpec::for_role(Role::Agent, minimal());
        spec.container_engine = Some(need(engine));
        result(&check_host(facts, &spec), names::CONTAINER_ENGINE).clone()
    };
    let mut facts = rocky_vm();
    let missing = run(&facts, "docker");
    assert_eq!(missing.status, Status::Fail);
    assert!(
        missing.message.contains("apt-get install") && missing.message.contains("docker.io"),
        "{}",
        missing.message
    );
    assert!(
        missing.message.contains("systemctl enable --now docker"),
        "{}",
        missing.message
    );
    facts.container_engines = crate::facts::parse::container_engines("docker \npodman 4.3.1\n");
    let stopped = run(&facts, "docker");
    assert_eq!(
        (stopped.status, stopped.measured.as_str()),
        (Status::Fail, "installed, not answering")
    );
    assert_eq!(run(&facts, "podman").status, Status::Pass);
    facts.container_engines = crate::facts::parse::container_engines("docker 19.03.15\n");
    assert_eq!(run(&facts, "docker").status, Status::Fail, "too old");
    facts.container_engines = crate::facts::parse::container_engines("docker 28.2.2\n");
    assert_eq!(run(&facts, "docker").status, Status::Pass);
    // RHEL-family hosts are told to use Podman.
    assert!(crate::os::PackageManager::Dnf
        .container_engine_install("docker")
        .contains("runtime.container_engine: podman"));
}
