//! The RHEL family base (Enterprise Linux: RHEL, CentOS Stream, Rocky, AlmaLinux, Oracle Linux).
//! The members differ only in `ID`, name and supported releases; what they share lives here.

use super::PackageManager;

/// Release majors still maintained by Red Hat and its rebuilds (EL7 ended in 2024).
pub(super) const MAJORS: &[u32] = &[8, 9, 10];

/// dnf is the package manager from EL8 on.
pub(super) const PACKAGE_MANAGER: PackageManager = PackageManager::Dnf;

/// Packages providing preflight's required binaries (`ip` is in `iproute`).
pub(super) const PREREQUISITES: &[&str] =
    &["curl", "tar", "gzip", "coreutils", "iproute", "openssl"];

/// chrony is the only time daemon the family ships.
pub(super) const TIME_SYNC: &[&str] = &["chronyd"];

/// SELinux is enforcing by default on every member.
pub(super) const SELINUX: bool = true;

/// Implements `OsModule` for an EL member matching `ID=$id`.
macro_rules! el_module {
    ($ty:ident, $id:literal, $name:literal, $majors:expr) => {
        #[derive(Debug)]
        pub struct $ty;

        impl $crate::os::OsModule for $ty {
            fn id(&self) -> &'static str {
                $id
            }
            fn name(&self) -> &'static str {
                $name
            }
            fn matches(&self, release: &$crate::os_release::OsRelease) -> bool {
                release.id == $id
            }
            fn supported_versions(&self) -> $crate::os::SupportedVersions {
                $crate::os::SupportedVersions::Majors($majors)
            }
            fn package_manager(&self) -> $crate::os::PackageManager {
                super::el::PACKAGE_MANAGER
            }
            fn prerequisite_packages(&self) -> &'static [&'static str] {
                super::el::PREREQUISITES
            }
            fn selinux_relevant(&self) -> bool {
                super::el::SELINUX
            }
            fn time_sync_services(&self) -> &'static [&'static str] {
                super::el::TIME_SYNC
            }
        }
    };
}
pub(super) use el_module;
