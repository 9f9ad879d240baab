//! The agent's id, created once and kept in its work dir so a restarted agent re-registers as
//! the same agent and keeps its tasks.

use std::path::Path;

use crate::checkpoint::{write_atomic, CheckpointError};

const FILE: &str = "agent_id";

/// Reads `work_dir/agent_id`, creating it with a fresh random id on first start.
pub fn load_or_create(work_dir: &Path) -> Result<String, CheckpointError> {
    let path = work_dir.join(FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let id = text.trim();
        if !id.is_empty() {
            return Ok(id.to_string());
        }
    }
    let id = format!("strato-agent-{}", random_hex());
    write_atomic(&path, id.as_bytes())?;
    Ok(id)
}

/// 122 random bits (a v4 UUID from the OS's generator), hex without dashes. No predictable
/// fallback: an agent id is what the master trusts a re-registering agent by.
fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_stable_across_restarts() {
        let dir = tempfile::tempdir().expect("tmp");
        let first = load_or_create(dir.path()).expect("create");
        let second = load_or_create(dir.path()).expect("load");
        assert_eq!(first, second);
        let other = tempfile::tempdir().expect("tmp");
        assert_ne!(first, load_or_create(other.path()).expect("other"));
    }
}
