//! Debian (`ID=debian`). Ubuntu has `ID_LIKE=debian` but its own module, matched earlier.

use super::{OsModule, PackageManager, SupportedVersions};
use crate::os_release::OsRelease;

/// Packages providing preflight's required binaries on Debian and Ubuntu.
pub(super) const PREREQUISITES: &[&str] =
    &["curl", "tar", "gzip", "coreutils", "iproute2", "openssl"];

#[derive(Debug)]
pub struct Debian;

impl OsModule for Debian {
    fn id(&self) -> &'static str {
        "debian"
    }
    fn name(&self) -> &'static str {
        "Debian"
    }
    fn matches(&self, release: &OsRelease) -> bool {
        release.id == "debian"
    }
    /// bookworm and trixie (bullseye's LTS ended in August 2026).
    fn supported_versions(&self) -> SupportedVersions {
        SupportedVersions::Majors(&[12, 13])
    }
    fn package_manager(&self) -> PackageManager {
        PackageManager::Apt
    }
    fn prerequisite_packages(&self) -> &'static [&'static str] {
        PREREQUISITES
    }
    /// Debian uses AppArmor; SELinux is only present if an operator installed it.
    fn selinux_relevant(&self) -> bool {
        false
    }
    fn time_sync_services(&self) -> &'static [&'static str] {
        &["systemd-timesyncd", "chrony", "ntpsec", "ntp"]
    }
}
