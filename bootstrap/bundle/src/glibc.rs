//! The oldest glibc a binary runs on: the highest `GLIBC_x.y` symbol version it references, as
//! `objdump -T` lists them. A node whose glibc is older than this cannot start the binary.

use std::fmt;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::BundleError;

/// The glibc we build node binaries against by default (with cargo-zigbuild): EL8's, the oldest
/// glibc among the distributions strato-host supports (Debian 12 has 2.36, Ubuntu 22.04 2.35,
/// EL9 2.34, EL8 2.28). A plain `cargo build` on Debian 12 needs 2.34 and would rule EL8 out.
pub const DEFAULT_GLIBC: GlibcVersion = GlibcVersion {
    major: 2,
    minor: 28,
};

/// A glibc version, ordered numerically (2.9 < 2.28).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion {
    pub major: u32,
    pub minor: u32,
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for GlibcVersion {
    type Err = BundleError;

    /// `2.28`; a third component (`2.3.4`, an old symbol version) is accepted and ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BundleError::BadGlibcVersion(s.to_string());
        let mut parts = s.trim().split('.');
        let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        if parts.any(|p| p.parse::<u32>().is_err()) {
            return Err(bad());
        }
        Ok(GlibcVersion { major, minor })
    }
}

impl Serialize for GlibcVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GlibcVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The highest `GLIBC_x.y` version in `objdump -T` output; `None` when it names none (a static
/// or non-glibc binary). Pure, so it is tested on captured output.
pub fn max_glibc_in_objdump(output: &str) -> Option<GlibcVersion> {
    output
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter_map(|word| word.strip_prefix("GLIBC_"))
        .filter_map(|v| v.parse().ok())
        .max()
}

/// What `objdump -T` says about one file: `Ok(None)` for a file that is not a dynamic ELF
/// binary (objdump refuses it) or references no versioned glibc symbol.
pub fn min_glibc_of(path: &Path) -> Result<Option<GlibcVersion>, BundleError> {
    let out = Command::new("objdump")
        .arg("-T")
        .arg(path)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => BundleError::ToolMissing {
                tool: "objdump".into(),
                hint: "install binutils (apt-get install binutils) to record the bundle's minimum glibc".into(),
            },
            _ => BundleError::Read {
                path: path.to_path_buf(),
                source: e,
            },
        })?;
    if !out.status.success() {
        return Ok(None);
    }
    Ok(max_glibc_in_objdump(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_version_wins_numerically() {
        let out = "\
/x:     file format elf64-x86-64

DYNAMIC SYMBOL TABLE:
0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.2.5) free
0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.9) pipe2
0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.28) statx
0000000000000000  w   D  *UND*  0000000000000000  Base        __gmon_start__
0000000000000000      DF *UND*  0000000000000000  GLIBC_2.17  clock_gettime
";
        assert_eq!(
            max_glibc_in_objdump(out),
            Some(GlibcVersion {
                major: 2,
                minor: 28
            })
        );
        assert_eq!(max_glibc_in_objdump("DYNAMIC SYMBOL TABLE:\n"), None);
    }

    #[test]
    fn versions_parse_and_print_as_major_dot_minor() {
        let v: GlibcVersion = "2.28".parse().expect("valid");
        assert_eq!(v.to_string(), "2.28");
        assert_eq!(
            "2.2.5".parse::<GlibcVersion>().expect("valid").to_string(),
            "2.2"
        );
        assert!("2".parse::<GlibcVersion>().is_err());
        assert!("two.28".parse::<GlibcVersion>().is_err());
        assert!(DEFAULT_GLIBC < "2.34".parse().expect("valid"));
    }
}
