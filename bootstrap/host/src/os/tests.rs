//! Every fixture in tests/fixtures/os-release/ is a real distribution's file.

use super::*;

fn fixture(name: &str) -> OsRelease {
    let path = format!(
        "{}/tests/fixtures/os-release/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    OsRelease::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// (fixture, module id, version supported, package manager, read-only /usr)
const SUPPORTED: &[(&str, &str, bool, PackageManager, bool)] = &[
    (
        "centos-stream-9",
        "centos",
        true,
        PackageManager::Dnf,
        false,
    ),
    ("centos-7", "centos", false, PackageManager::Dnf, false),
    ("rhel-9.4", "rhel", true, PackageManager::Dnf, false),
    ("rocky-9.4", "rocky", true, PackageManager::Dnf, false),
    ("rocky-8.10", "rocky", true, PackageManager::Dnf, false),
    (
        "almalinux-9.4",
        "almalinux",
        true,
        PackageManager::Dnf,
        false,
    ),
    ("oracle-9.4", "ol", true, PackageManager::Dnf, false),
    ("fedora-41", "fedora", true, PackageManager::Dnf, false),
    (
        "fedora-coreos-41",
        "coreos",
        true,
        PackageManager::None,
        true,
    ),
    ("rhcos-4.16", "coreos", true, PackageManager::None, true),
    (
        "flatcar-3975.2.2",
        "flatcar",
        true,
        PackageManager::None,
        true,
    ),
    ("debian-12", "debian", true, PackageManager::Apt, false),
    ("debian-13", "debian", true, PackageManager::Apt, false),
    ("ubuntu-22.04", "ubuntu", true, PackageManager::Apt, false),
    ("ubuntu-24.04", "ubuntu", true, PackageManager::Apt, false),
    ("ubuntu-24.10", "ubuntu", false, PackageManager::Apt, false),
];

#[test]
fn each_fixture_selects_its_module_with_its_traits() {
    for &(file, id, supported, pm, ro) in SUPPORTED {
        let release = fixture(file);
        let module = detect(&release).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(module.id(), id, "{file}");
        assert_eq!(
            module.supports(&release),
            supported,
            "{file} version support"
        );
        assert_eq!(module.package_manager(), pm, "{file}");
        assert_eq!(module.read_only_usr(), ro, "{file}");
        assert_eq!(module.install_dir(), "/opt/strato", "{file}");
        assert!(!module.time_sync_services().is_empty(), "{file}");
    }
}

#[test]
fn unsupported_distributions_are_refused_by_name() {
    let cases = [
        ("arch", "unsupported OS: Arch Linux (ID=arch); supported: "),
        (
            "linuxmint-21.3",
            "unsupported OS: Linux Mint 21.3 (ID=linuxmint, ID_LIKE=ubuntu debian); supported: ",
        ),
        (
            "alpine-3.20",
            "unsupported OS: Alpine Linux v3.20 (ID=alpine); supported: ",
        ),
    ];
    for (file, prefix) in cases {
        let err = detect(&fixture(file)).expect_err(file);
        let msg = err.to_string();
        assert!(msg.starts_with(prefix), "{file}: {msg}");
        assert!(msg.ends_with("ubuntu, debian"), "{file}: {msg}");
    }
}

#[test]
fn coreos_is_registered_before_the_plain_distributions_it_shares_an_id_with() {
    let pos = |id: &str| {
        REGISTRY
            .iter()
            .position(|m| m.id() == id)
            .expect("registered")
    };
    assert!(pos("coreos") < pos("fedora"));
    assert!(pos("coreos") < pos("rhel"));
    assert!(pos("ubuntu") < pos("debian"));
}

#[test]
fn module_ids_are_unique_and_overridable() {
    let mut ids: Vec<_> = REGISTRY.iter().map(|m| m.id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), REGISTRY.len());
    let arch = fixture("arch");
    let forced = detect_with_override(&arch, Some("debian")).expect("override");
    assert_eq!(forced.id(), "debian");
    let err = detect_with_override(&arch, Some("gentoo")).expect_err("unknown");
    assert!(err
        .to_string()
        .starts_with("unknown OS override \"gentoo\""));
}

#[test]
fn supported_versions_read_like_a_list() {
    assert_eq!(by_id("rocky").expect("rocky").supported_text(), "8, 9, 10");
    assert_eq!(
        by_id("ubuntu").expect("ubuntu").supported_text(),
        "22.04, 24.04, 26.04"
    );
    assert_eq!(
        by_id("fedora").expect("fedora").supported_text(),
        "41 or later"
    );
}

#[test]
fn immutable_systems_install_nothing_and_others_build_a_command() {
    let flatcar = by_id("flatcar").expect("flatcar");
    assert_eq!(flatcar.install_prerequisites_command(&["curl"]), None);
    let rocky = by_id("rocky").expect("rocky");
    assert_eq!(
        rocky
            .install_prerequisites_command(&["curl", "tar"])
            .as_deref(),
        Some("dnf install -y curl tar")
    );
    assert_eq!(rocky.install_prerequisites_command(&[]), None);
    let debian = by_id("debian").expect("debian");
    let cmd = debian
        .install_prerequisites_command(debian.prerequisite_packages())
        .expect("apt");
    assert!(cmd.starts_with("apt-get update -qq && "), "{cmd}");
    assert!(
        cmd.ends_with("curl tar gzip coreutils iproute2 openssl"),
        "{cmd}"
    );
}

#[tokio::test]
async fn installing_packages_goes_through_the_dry_run_choke_point() {
    let fake = crate::FakeTransport::new("n");
    let host = crate::Host::new("n", std::sync::Arc::new(fake.clone())).with_dry_run(true);
    let change = install_packages_change(by_id("rocky").expect("rocky"), &["curl"]).expect("dnf");
    host.apply(change).await.expect("planned");
    assert!(fake.calls().is_empty());
    assert_eq!(
        host.planned()[0].description,
        "would run: dnf install -y curl"
    );
    assert!(install_packages_change(by_id("flatcar").expect("flatcar"), &["curl"]).is_none());
}

#[tokio::test]
async fn host_detects_its_os_or_refuses_it_naming_the_host() {
    let fake = crate::FakeTransport::new("n");
    let host = crate::Host::new("10.0.0.7", std::sync::Arc::new(fake.clone()));
    let os_release = |file: &str| {
        let path = format!(
            "{}/tests/fixtures/os-release/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        crate::FakeReply::ok(std::fs::read_to_string(path).expect("fixture"))
    };
    fake.on_prefix("cat /etc/os-release", os_release("ubuntu-24.04"));
    let d = host.detect_os(None).await.expect("ubuntu");
    assert_eq!(
        (d.module.id(), d.release.version_id.as_str()),
        ("ubuntu", "24.04")
    );

    fake.on_prefix("cat /etc/os-release", os_release("arch"));
    let err = host.detect_os(None).await.expect_err("arch");
    assert!(
        err.to_string()
            .starts_with("10.0.0.7: unsupported OS: Arch Linux (ID=arch)"),
        "{err}"
    );
    assert_eq!(
        host.detect_os(Some("debian"))
            .await
            .expect("forced")
            .module
            .id(),
        "debian"
    );
}
