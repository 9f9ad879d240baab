//! Ubuntu (`ID=ubuntu`), LTS releases only: interim releases live nine months.

use super::{OsModule, PackageManager, SupportedVersions};
use crate::os_release::OsRelease;

#[derive(Debug)]
pub struct Ubuntu;

impl OsModule for Ubuntu {
    fn id(&self) -> &'static str {
        "ubuntu"
    }
    fn name(&self) -> &'static str {
        "Ubuntu"
    }
    fn matches(&self, release: &OsRelease) -> bool {
        release.id == "ubuntu"
    }
    fn supported_versions(&self) -> SupportedVersions {
        SupportedVersions::Exact(&["22.04", "24.04", "26.04"])
    }
    fn package_manager(&self) -> PackageManager {
        PackageManager::Apt
    }
    fn prerequisite_packages(&self) -> &'static [&'static str] {
        super::debian::PREREQUISITES
    }
    /// Ubuntu uses AppArmor.
    fn selinux_relevant(&self) -> bool {
        false
    }
    fn time_sync_services(&self) -> &'static [&'static str] {
        &["systemd-timesyncd", "chrony"]
    }
}
