//! Fedora (`ID=fedora`, any variant but CoreOS, which `coreos.rs` matches first).

use super::{OsModule, PackageManager, SupportedVersions};
use crate::os_release::OsRelease;

#[derive(Debug)]
pub struct Fedora;

impl OsModule for Fedora {
    fn id(&self) -> &'static str {
        "fedora"
    }
    fn name(&self) -> &'static str {
        "Fedora"
    }
    fn matches(&self, release: &OsRelease) -> bool {
        release.id == "fedora"
    }
    /// A rolling minimum rather than a list: each release lives about 13 months and new ones
    /// should work without a Strato release.
    fn supported_versions(&self) -> SupportedVersions {
        SupportedVersions::AtLeast(41)
    }
    fn package_manager(&self) -> PackageManager {
        PackageManager::Dnf
    }
    fn prerequisite_packages(&self) -> &'static [&'static str] {
        super::el::PREREQUISITES
    }
    fn selinux_relevant(&self) -> bool {
        true
    }
    fn time_sync_services(&self) -> &'static [&'static str] {
        &["chronyd"]
    }
}
