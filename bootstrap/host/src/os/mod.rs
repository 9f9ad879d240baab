//! Per-distribution knowledge, one module per os-release `ID` (k0sctl's configurers). Each says
//! which versions we support, how packages are installed, whether `/usr` is read-only, which
//! prerequisites to install, whether SELinux matters and which services keep time.
//!
//! [`detect`] picks the first module in [`REGISTRY`] that matches. Anything unmatched is refused
//! by name ("unsupported OS: Arch Linux (ID=arch)"); we do not fall back to `ID_LIKE`, because a
//! derivative we never tested is not supported just for resembling one we did. Operators can
//! force a module by name with [`detect_with_override`] (k0sctl's `os:` key).

mod alma;
mod centos;
mod coreos;
mod debian;
mod el;
mod fedora;
mod flatcar;
mod oracle;
mod rhel;
mod rocky;
mod ubuntu;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::os_release::OsRelease;

/// Where Strato installs its binaries on every distribution (the runtime contract):
/// `/opt` is writable even where `/usr` is not (CoreOS, Flatcar).
pub const INSTALL_DIR: &str = "/opt/strato";

/// How a distribution installs packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageManager {
    Dnf,
    Yum,
    Apt,
    /// Immutable image (CoreOS, Flatcar): nothing can be installed; prerequisites ship in it.
    None,
}

impl PackageManager {
    /// The non-interactive install command for `packages`, or `None` when nothing can be
    /// installed (or nothing is asked for).
    pub fn install_command(self, packages: &[&str]) -> Option<String> {
        if packages.is_empty() {
            return None;
        }
        let list = packages.join(" ");
        match self {
            PackageManager::Dnf => Some(format!("dnf install -y {list}")),
            PackageManager::Yum => Some(format!("yum install -y {list}")),
            // A fresh image has no package lists: update first.
            PackageManager::Apt => Some(format!(
                "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
                 apt-get install -y -qq --no-install-recommends {list}"
            )),
            PackageManager::None => None,
        }
    }

    /// How to get `engine` (`docker` or `podman`) installed and its service running here.
    pub fn container_engine_install(self, engine: &str) -> String {
        let service = if engine == "podman" {
            "podman.socket"
        } else {
            "docker"
        };
        let package = match (self, engine) {
            (PackageManager::Apt, "docker") => "docker.io",
            (PackageManager::Dnf | PackageManager::Yum, "docker") => {
                return "RHEL-family repositories carry Podman, not Docker: set \
                        runtime.container_engine: podman, or add Docker's docker-ce repository"
                    .into()
            }
            (PackageManager::None, _) => {
                return format!(
                    "this image installs nothing (Flatcar ships docker, CoreOS podman): \
                     systemctl enable --now {service}"
                )
            }
            _ => engine,
        };
        match self.install_command(&[package]) {
            Some(install) => format!("{install} && systemctl enable --now {service}"),
            None => format!("systemctl enable --now {service}"),
        }
    }
}

/// Which `VERSION_ID`s a module accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportedVersions {
    /// The major version (before the first dot) is one of these (`9` accepts `9.4`).
    Majors(&'static [u32]),
    /// The exact `VERSION_ID` is one of these (Ubuntu: `24.04`, not `24.10`).
    Exact(&'static [&'static str]),
    /// The major version is at least this (rolling releases: Fedora, Flatcar).
    AtLeast(u32),
}

impl SupportedVersions {
    /// Whether `version_id` is accepted.
    pub fn accepts(&self, version_id: &str) -> bool {
        let major = version_id
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        match self {
            SupportedVersions::Majors(list) => major.is_some_and(|m| list.contains(&m)),
            SupportedVersions::Exact(list) => list.contains(&version_id),
            SupportedVersions::AtLeast(min) => major.is_some_and(|m| m >= *min),
        }
    }
}

impl fmt::Display for SupportedVersions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupportedVersions::Majors(list) => {
                let v: Vec<String> = list.iter().map(u32::to_string).collect();
                f.write_str(&v.join(", "))
            }
            SupportedVersions::Exact(list) => f.write_str(&list.join(", ")),
            SupportedVersions::AtLeast(min) => write!(f, "{min} or later"),
        }
    }
}

/// One distribution's behaviour. Implementations are unit structs in `os/<id>.rs`.
pub trait OsModule: Send + Sync + fmt::Debug {
    /// The module's name, which is the os-release `ID` it matches (`rocky`, `ol`, `coreos`).
    fn id(&self) -> &'static str;
    /// The distribution's human name.
    fn name(&self) -> &'static str;
    /// Whether this module handles `release`.
    fn matches(&self, release: &OsRelease) -> bool;
    fn supported_versions(&self) -> SupportedVersions;
    fn package_manager(&self) -> PackageManager;
    /// `/usr` is read-only (image-based OS): never write under `/usr`.
    fn read_only_usr(&self) -> bool {
        false
    }
    /// Packages that provide the binaries preflight requires, under this distro's names.
    fn prerequisite_packages(&self) -> &'static [&'static str];
    /// Whether SELinux is part of this distribution's default setup (so its mode is checked).
    fn selinux_relevant(&self) -> bool;
    /// systemd units that keep the clock in sync, most likely first.
    fn time_sync_services(&self) -> &'static [&'static str];

    /// Whether `release`'s version is supported.
    fn supports(&self, release: &OsRelease) -> bool {
        self.supported_versions().accepts(&release.version_id)
    }
    /// The supported versions as shown to an operator.
    fn supported_text(&self) -> String {
        self.supported_versions().to_string()
    }
    /// Where Strato's binaries go ([`INSTALL_DIR`] on every distribution today).
    fn install_dir(&self) -> &'static str {
        INSTALL_DIR
    }
    /// The command that installs `missing` packages, if this OS can install anything.
    fn install_prerequisites_command(&self, missing: &[&str]) -> Option<String> {
        self.package_manager().install_command(missing)
    }
}

/// The privileged [`Change`](crate::Change) installing `packages` on `module`'s OS, for
/// [`Host::apply`](crate::Host::apply) (so dry-run lists it); `None` on an immutable OS or
/// when nothing is missing.
pub fn install_packages_change(module: &dyn OsModule, packages: &[&str]) -> Option<crate::Change> {
    module
        .install_prerequisites_command(packages)
        .map(crate::Change::exec_sudo)
}

/// Every module, ordered **specific → general**: the first match wins, so variants that share
/// an `ID` with another module (Fedora CoreOS has `ID=fedora`; old RHCOS has `ID=rhel`) come
/// before the plain distribution.
pub static REGISTRY: &[&dyn OsModule] = &[
    &coreos::CoreOs,
    &flatcar::Flatcar,
    &centos::CentOs,
    &rhel::Rhel,
    &rocky::Rocky,
    &alma::Alma,
    &oracle::Oracle,
    &fedora::Fedora,
    &ubuntu::Ubuntu,
    &debian::Debian,
];

/// Why a host's operating system cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OsError {
    /// No module matches.
    #[error("unsupported OS: {pretty_name} (ID={id}{like}); supported: {supported}")]
    Unsupported {
        pretty_name: String,
        id: String,
        /// ", ID_LIKE=…" or empty.
        like: String,
        supported: String,
    },
    /// The override names no module.
    #[error("unknown OS override {name:?}; known: {known}")]
    UnknownOverride { name: String, known: String },
}

/// The module for `release`, first match in [`REGISTRY`] order.
pub fn detect(release: &OsRelease) -> Result<&'static dyn OsModule, OsError> {
    REGISTRY
        .iter()
        .copied()
        .find(|m| m.matches(release))
        .ok_or_else(|| OsError::Unsupported {
            pretty_name: release.pretty_name.clone(),
            id: release.id.clone(),
            like: if release.id_like.is_empty() {
                String::new()
            } else {
                format!(", ID_LIKE={}", release.id_like.join(" "))
            },
            supported: known_ids(),
        })
}

/// [`detect`], unless `override_id` names a module to use regardless of os-release.
pub fn detect_with_override(
    release: &OsRelease,
    override_id: Option<&str>,
) -> Result<&'static dyn OsModule, OsError> {
    match override_id {
        None => detect(release),
        Some(name) => by_id(name).ok_or_else(|| OsError::UnknownOverride {
            name: name.to_string(),
            known: known_ids(),
        }),
    }
}

/// A host's os-release and the module chosen for it.
#[derive(Debug, Clone)]
pub struct DetectedOs {
    pub release: OsRelease,
    pub module: &'static dyn OsModule,
}

impl crate::Host {
    /// Read `/etc/os-release` (falling back to `/usr/lib/os-release`) and pick the module, or
    /// the one named by `override_id`. A read: runs in dry-run mode too. The version is not
    /// judged here; preflight's `os` check does that, so the operator sees it in the table.
    pub async fn detect_os(
        &self,
        override_id: Option<&str>,
    ) -> Result<DetectedOs, crate::HostError> {
        let text = self
            .read_ok("cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release")
            .await?;
        let release = OsRelease::parse(&text).map_err(|source| crate::HostError::OsRelease {
            host: self.name().to_string(),
            source,
        })?;
        let module = detect_with_override(&release, override_id).map_err(|os| {
            crate::HostError::UnsupportedOs {
                host: self.name().to_string(),
                os,
            }
        })?;
        Ok(DetectedOs { release, module })
    }
}

/// The module called `id`.
pub fn by_id(id: &str) -> Option<&'static dyn OsModule> {
    REGISTRY.iter().copied().find(|m| m.id() == id)
}

fn known_ids() -> String {
    REGISTRY
        .iter()
        .map(|m| m.id())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
