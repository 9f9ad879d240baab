//! The serve tree's checksums: `manifest.json` (every file, for the bootstrap server and the
//! installer) and `SHA256SUMS` (the same hashes in `sha256sum -c` form, for node scripts without jq).
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const MANIFEST_PATH: &str = "manifest.json";
pub const SHA256SUMS_PATH: &str = "SHA256SUMS";

/// `manifest.json`: every file in the tree except itself, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub cluster_name: String,
    /// The etcd the masters run (from the bundle's manifest), in a tree for 3 or more masters
    /// with a bundle: preflight checks each master's glibc against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etcd: Option<strato_bundle::EtcdInfo>,
    pub files: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Relative to the tree's root, `/`-separated.
    pub path: String,
    /// Lower-case hex.
    pub sha256: String,
    pub size: u64,
}

impl ManifestEntry {
    pub fn of(path: &str, bytes: &[u8]) -> ManifestEntry {
        ManifestEntry {
            path: path.to_owned(),
            sha256: sha256_hex(bytes),
            size: bytes.len() as u64,
        }
    }
}

impl Manifest {
    /// The manifest as written: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest always serializes");
        text.push('\n');
        text
    }

    /// The entry for `path`, if listed.
    pub fn get(&self, path: &str) -> Option<&ManifestEntry> {
        self.files.iter().find(|e| e.path == path)
    }
}

/// `SHA256SUMS` text for `entries` (already sorted): `<sha256>  <path>` per line.
pub fn sha256sums(entries: &[ManifestEntry]) -> String {
    entries
        .iter()
        .map(|e| format!("{}  {}\n", e.sha256, e.path))
        .collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sha256sums_use_two_spaces_like_coreutils() {
        let text = sha256sums(&[ManifestEntry::of("a.sh", b"abc")]);
        assert_eq!(
            text,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.sh\n"
        );
    }
}
