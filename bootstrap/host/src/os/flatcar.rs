//! Flatcar Container Linux (`ID=flatcar`, `ID_LIKE=coreos`). Image-based: `/usr` is read-only,
//! there is no package manager, and the image already carries curl, tar and iproute2.

use super::{OsModule, PackageManager, SupportedVersions};
use crate::os_release::OsRelease;

#[derive(Debug)]
pub struct Flatcar;

impl OsModule for Flatcar {
    fn id(&self) -> &'static str {
        "flatcar"
    }
    fn name(&self) -> &'static str {
        "Flatcar Container Linux"
    }
    fn matches(&self, release: &OsRelease) -> bool {
        release.id == "flatcar"
    }
    /// Releases are numbered by days since the CoreOS epoch; 3815 is LTS-2024.
    fn supported_versions(&self) -> SupportedVersions {
        SupportedVersions::AtLeast(3815)
    }
    fn package_manager(&self) -> PackageManager {
        PackageManager::None
    }
    fn read_only_usr(&self) -> bool {
        true
    }
    fn prerequisite_packages(&self) -> &'static [&'static str] {
        &[]
    }
    /// Flatcar ships SELinux, permissive by default; an operator may enforce it.
    fn selinux_relevant(&self) -> bool {
        true
    }
    fn time_sync_services(&self) -> &'static [&'static str] {
        &["systemd-timesyncd", "chronyd", "ntpd"]
    }
}
