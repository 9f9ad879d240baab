//! LocalTransport and fact gathering for real, on the machine running the tests.
#![cfg(target_os = "linux")]

use std::sync::Arc;

use strato_host::preflight::{names, REQUIRED_BINARIES};
use strato_host::{
    check_host, Applied, Change, GatherSpec, Host, LocalTransport, OsRelease, PreflightSpec,
    Requirements, Role, Status,
};

fn spec(ip_detect: Option<&str>) -> GatherSpec {
    GatherSpec {
        data_dir: "/var/lib/strato-test-does-not-exist/data".into(),
        binaries: REQUIRED_BINARIES
            .iter()
            .map(|s| s.to_string())
            .chain(["strato-no-such-binary".to_string()])
            .collect(),
        ip_detect: ip_detect.map(str::to_string),
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_string()
}

#[tokio::test]
async fn facts_of_this_machine_parse_and_match_what_the_kernel_says() {
    // Something listening that the facts must see.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let host = Host::new("local", Arc::new(LocalTransport::new()));
    let facts = host
        .gather_facts(&spec(Some("#!/bin/sh\necho 127.0.0.1\n")))
        .await
        .expect("gather");
    assert!(facts.problems.is_empty(), "{:?}", facts.problems);

    let os = OsRelease::parse(&std::fs::read_to_string("/etc/os-release").expect("os-release"))
        .expect("parses");
    assert_eq!(facts.os_release.as_ref(), Some(&os));
    assert_eq!(
        facts.hostname.as_deref(),
        Some(read("/proc/sys/kernel/hostname").as_str())
    );
    assert_eq!(
        facts.kernel.as_ref().map(|k| k.release.clone()),
        Some(read("/proc/sys/kernel/osrelease"))
    );
    if std::path::Path::new("/etc/machine-id").exists() {
        assert_eq!(
            facts.machine_id.as_deref(),
            Some(read("/etc/machine-id").as_str())
        );
    }
    let meminfo = read("/proc/meminfo");
    assert_eq!(
        facts.memory.meminfo_mib,
        strato_host::facts::parse::meminfo_total_mib(&meminfo)
    );
    assert!(facts.cpus.is_some_and(|n| n >= 1));
    let disk = facts
        .disk
        .as_ref()
        .expect("df of the nearest existing parent");
    assert!(disk.available_mib > 0 && disk.total_mib >= disk.available_mib);
    let listeners = facts.listeners.as_ref().expect("/proc/net readable");
    assert!(
        listeners
            .iter()
            .any(|l| l.port == port && l.addr.is_loopback()),
        "port {port} not among {listeners:?}"
    );
    assert!(facts.addresses.iter().any(|a| a.is_loopback()));
    assert_eq!(facts.binaries.get("strato-no-such-binary"), Some(&None));
    assert!(matches!(facts.binaries.get("tar"), Some(Some(_))));
    assert!(facts.epoch_seconds.is_some());

    // Preflight must be able to measure every hardware fact here.
    let req = Requirements {
        cpus: 1,
        memory_mib: 1,
        disk_mib: 1,
    };
    let results = check_host(&facts, &PreflightSpec::for_role(Role::Agent, req));
    for name in [
        names::CPU,
        names::MEMORY,
        names::DISK,
        names::KERNEL,
        names::IP_DETECT,
    ] {
        let r = results.iter().find(|r| r.name == name).expect("check");
        assert_eq!(r.status, Status::Pass, "{r:?}");
    }
    drop(listener);
}

#[tokio::test]
async fn dry_run_on_this_machine_changes_nothing_and_wet_run_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("marker");
    let file = dir.path().join("uploaded");
    let touch = format!("touch '{}'", marker.display());
    let upload = || Change::Upload {
        data: b"payload".to_vec(),
        path: file.to_str().expect("utf-8").to_string(),
        mode: 0o600,
        opts: Default::default(),
    };

    let dry = Host::new("local", Arc::new(LocalTransport::new())).with_dry_run(true);
    assert_eq!(
        dry.apply(Change::exec_sudo(&touch)).await.expect("plan"),
        Applied::Planned
    );
    assert_eq!(dry.apply(upload()).await.expect("plan"), Applied::Planned);
    assert!(!marker.exists() && !file.exists());
    assert_eq!(dry.planned().len(), 2);
    // Reads still run in dry-run mode.
    assert_eq!(dry.read_ok("echo read").await.expect("read"), "read\n");

    let wet = Host::new("local", Arc::new(LocalTransport::new()));
    wet.apply_ok(Change::exec_sudo(&touch)).await.expect("run");
    wet.apply(upload()).await.expect("upload");
    assert!(marker.exists());
    assert_eq!(std::fs::read(&file).expect("read"), b"payload");
    assert!(wet.planned().is_empty());
}
