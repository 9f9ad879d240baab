//! Fedora CoreOS (`ID=fedora`, `VARIANT_ID=coreos`) and Red Hat Enterprise Linux CoreOS
//! (`ID=rhcos`, or `ID=rhel` with `VARIANT_ID=coreos`). Image-based: `/usr` is read-only and
//! nothing is installed with a package manager (rpm-ostree layering needs a reboot), so the
//! prerequisites must already be in the image — they are, in both.

use super::{OsModule, PackageManager, SupportedVersions};
use crate::os_release::OsRelease;

#[derive(Debug)]
pub struct CoreOs;

impl OsModule for CoreOs {
    fn id(&self) -> &'static str {
        "coreos"
    }
    fn name(&self) -> &'static str {
        "Fedora/RHEL CoreOS"
    }
    fn matches(&self, release: &OsRelease) -> bool {
        release.id == "rhcos"
            || (matches!(release.id.as_str(), "fedora" | "rhel") && release.variant_id == "coreos")
    }
    /// Fedora CoreOS follows Fedora's numbering (41 or later); RHCOS is versioned by its
    /// OpenShift release (4.x), so `supports` treats it separately.
    fn supported_versions(&self) -> SupportedVersions {
        SupportedVersions::AtLeast(41)
    }
    /// RHCOS `VERSION_ID` is the OpenShift release (`4.16`); accept any 4.x.
    fn supports(&self, release: &OsRelease) -> bool {
        if release.id == "fedora" {
            self.supported_versions().accepts(&release.version_id)
        } else {
            release.major_version() == Some(4)
        }
    }
    fn supported_text(&self) -> String {
        "Fedora CoreOS 41 or later, RHCOS 4.x".to_string()
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
    fn selinux_relevant(&self) -> bool {
        true
    }
    fn time_sync_services(&self) -> &'static [&'static str] {
        &["chronyd"]
    }
}
