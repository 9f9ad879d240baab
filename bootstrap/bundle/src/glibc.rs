//! The oldest glibc a binary runs on: the highest `GLIBC_x.y` symbol version it references (its
//! ELF version needs, the versions `objdump -T` lists). A node whose glibc is older than this
//! cannot start the binary.

use std::fmt;
use std::path::Path;
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

/// The highest `GLIBC_x.y` version among the names in an ELF file's version needs
/// (`.gnu.version_r`, what `objdump -T` shows in parentheses): `Ok(None)` for a file that is not
/// ELF (a script), a static binary (no version needs) or one that needs no versioned glibc
/// symbol. Parsed with the `object` crate (already in Cargo.lock, through psm's ar_archive_writer;
/// here with `read_core` + `elf` only), reading just the headers and the sections it needs
/// through a `ReadCache`, so a large binary is not loaded whole and no `objdump` is needed.
pub fn min_glibc_of(path: &Path) -> Result<Option<GlibcVersion>, BundleError> {
    use object::read::elf::{ElfFile32, ElfFile64, FileHeader};
    use object::read::ReadCache;

    let file = std::fs::File::open(path).map_err(BundleError::read(path))?;
    let cache = ReadCache::new(file);
    let bad = |e: object::read::Error| BundleError::BadElf {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let kind = match object::FileKind::parse(&cache) {
        Ok(kind) => kind,
        // Shorter than any header, or not a format `object` knows: not an ELF binary.
        Err(_) => return Ok(None),
    };
    fn needs<'data, Elf: FileHeader<Endian = object::Endianness>>(
        elf: &object::read::elf::ElfFile<'data, Elf, &'data ReadCache<std::fs::File>>,
    ) -> object::read::Result<Vec<String>> {
        let endian = elf.endian();
        let sections = elf.elf_section_table();
        let Some((mut needs, link)) = sections.gnu_verneed(endian, elf.data())? else {
            return Ok(Vec::new());
        };
        let strings = sections.strings(endian, elf.data(), link)?;
        let mut names = Vec::new();
        while let Some((_, mut aux)) = needs.next()? {
            while let Some(a) = aux.next()? {
                names.push(String::from_utf8_lossy(a.name(endian, strings)?).into_owned());
            }
        }
        Ok(names)
    }
    let names = match kind {
        object::FileKind::Elf64 => needs(&ElfFile64::parse(&cache).map_err(bad)?).map_err(bad)?,
        object::FileKind::Elf32 => needs(&ElfFile32::parse(&cache).map_err(bad)?).map_err(bad)?,
        _ => return Ok(None),
    };
    Ok(max_glibc_in_names(names.iter().map(String::as_str)))
}

/// The highest `GLIBC_x.y` among symbol version names (`GLIBC_2.34`, `GLIBC_PRIVATE`, …).
pub(crate) fn max_glibc_in_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Option<GlibcVersion> {
    names
        .into_iter()
        .filter_map(|n| n.strip_prefix("GLIBC_"))
        .filter_map(|v| v.parse().ok())
        .max()
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

    /// A 64-byte ELF64 header for x86-64 with no program or section headers: what a static
    /// binary looks like to this reader (no version needs).
    pub(crate) fn static_elf_header() -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2; // 64-bit
        h[5] = 1; // little-endian
        h[6] = 1; // ELF version
        h[16] = 2; // ET_EXEC
        h[18] = 62; // EM_X86_64
        h[20] = 1; // e_version
        h[52] = 64; // e_ehsize
        h
    }

    #[test]
    fn a_static_binary_and_a_script_need_no_glibc() {
        let dir = tempfile::tempdir().expect("tmp");
        let elf = dir.path().join("static-etcd");
        std::fs::write(&elf, static_elf_header()).expect("write");
        assert_eq!(min_glibc_of(&elf).expect("parses"), None);
        let script = dir.path().join("script");
        std::fs::write(&script, "#!/bin/sh\necho hi\n").expect("write");
        assert_eq!(min_glibc_of(&script).expect("not ELF"), None);
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").expect("write");
        assert_eq!(min_glibc_of(&empty).expect("not ELF"), None);
    }

    #[test]
    fn a_broken_elf_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let elf = dir.path().join("broken");
        let mut bytes = static_elf_header();
        bytes[60] = 5; // e_shnum: five section headers that are not there
        bytes[40] = 64; // e_shoff
        std::fs::write(&elf, bytes).expect("write");
        let err = min_glibc_of(&elf).expect_err("truncated section table");
        assert!(err.to_string().contains("broken"), "{err}");
    }

    /// Debian's etcd-server (tests/prereqs.sh installs it): its version needs, read from the
    /// ELF, are what objdump (binutils) lists, and they need glibc 2.34.
    #[cfg(target_os = "linux")]
    #[test]
    fn debian_etcd_needs_glibc_2_34_as_objdump_says() {
        let etcd = Path::new("/usr/bin/etcd");
        assert!(
            etcd.is_file(),
            "/usr/bin/etcd missing: tests/prereqs.sh installs etcd-server"
        );
        let ours = min_glibc_of(etcd).expect("etcd parses");
        let out = std::process::Command::new("objdump")
            .arg("-T")
            .arg(etcd)
            .output()
            .expect("objdump (binutils) is installed by tests/run");
        let theirs = max_glibc_in_objdump(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(ours, theirs);
        assert_eq!(ours, Some("2.34".parse().expect("valid")));
    }
}
