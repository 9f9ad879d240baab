//! A logical backup of a master's state: every stored entry of every table, with a checksum.
//! The same document restores onto either store (redb or etcd) and onto a cluster of another size;
//! values are kept as the exact JSON text they were stored as, so the checksum never depends on how
//! a reader orders JSON keys.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Op, Store, StoreError, Table};

/// The document `strato backup` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    /// 1; a reader refuses other formats.
    pub format: u32,
    /// When it was taken (Unix milliseconds).
    pub taken_at: u64,
    /// Table name → key → the stored JSON text.
    pub tables: BTreeMap<String, BTreeMap<String, String>>,
    /// SHA-256 (hex) of `tables` as [`Backup::digest`] serializes it.
    pub sha256: String,
}

pub const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backup format {found} is not supported (this version reads format {FORMAT})")]
    Format { found: u32 },
    #[error("backup checksum mismatch: the file says {stated}, its content hashes to {actual}")]
    Checksum { stated: String, actual: String },
    #[error("backup names an unknown table {name:?}")]
    Table { name: String },
    #[error("backup entry {table}/{key} is not JSON text")]
    Value { table: String, key: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Tables a backup carries. Agents are left out: they describe machines, not the apps, and
/// re-register by themselves.
const TABLES: [Table; 5] = [
    Table::Apps,
    Table::AppVersions,
    Table::Deployments,
    Table::Tasks,
    Table::Meta,
];

impl Backup {
    /// Reads every entry of the backed-up tables.
    pub async fn take(store: &dyn Store, now: u64) -> Result<Backup, BackupError> {
        let mut tables = BTreeMap::new();
        for table in TABLES {
            let mut entries = BTreeMap::new();
            for (key, value) in store.list(table, "").await? {
                let text = String::from_utf8(value).map_err(|_| BackupError::Value {
                    table: table.name().into(),
                    key: key.clone(),
                })?;
                entries.insert(key, text);
            }
            tables.insert(table.name().to_string(), entries);
        }
        let sha256 = Self::digest(&tables);
        Ok(Backup {
            format: FORMAT,
            taken_at: now,
            tables,
            sha256,
        })
    }

    /// The checksum of `tables`: each table name, key and value, length-prefixed, in order.
    pub fn digest(tables: &BTreeMap<String, BTreeMap<String, String>>) -> String {
        let mut hash = Sha256::new();
        for (table, entries) in tables {
            for part in std::iter::once(table.as_str())
                .chain(entries.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]))
            {
                hash.update((part.len() as u64).to_be_bytes());
                hash.update(part.as_bytes());
            }
        }
        hex::encode(hash.finalize())
    }

    /// Checks the format, the checksum, the table names and that every value is JSON.
    pub fn verify(&self) -> Result<(), BackupError> {
        if self.format != FORMAT {
            return Err(BackupError::Format { found: self.format });
        }
        let actual = Self::digest(&self.tables);
        if actual != self.sha256 {
            return Err(BackupError::Checksum {
                stated: self.sha256.clone(),
                actual,
            });
        }
        for (name, entries) in &self.tables {
            if !TABLES.iter().any(|t| t.name() == name) {
                return Err(BackupError::Table { name: name.clone() });
            }
            for (key, value) in entries {
                if serde_json::from_str::<serde_json::Value>(value).is_err() {
                    return Err(BackupError::Value {
                        table: name.clone(),
                        key: key.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// How many entries each table holds.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.tables
            .iter()
            .map(|(name, entries)| (name.clone(), entries.len()))
            .collect()
    }

    /// The writes that make `store` hold exactly this backup's entries in its tables: entries
    /// missing from the backup are deleted, the rest put.
    pub async fn restore_ops(&self, store: &dyn Store) -> Result<Vec<Op>, BackupError> {
        self.verify()?;
        let mut ops = Vec::new();
        for table in TABLES {
            let empty = BTreeMap::new();
            let wanted = self.tables.get(table.name()).unwrap_or(&empty);
            for (key, _) in store.list(table, "").await? {
                if !wanted.contains_key(&key) {
                    ops.push(Op::delete(table, key));
                }
            }
            for (key, value) in wanted {
                ops.push(Op::put(table, key.clone(), value.clone().into_bytes()));
            }
        }
        Ok(ops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryStore, Term};

    async fn store_with(entries: &[(Table, &str, &str)]) -> MemoryStore {
        let store = MemoryStore::new();
        let ops = entries
            .iter()
            .map(|(t, k, v)| Op::put(*t, *k, v.as_bytes().to_vec()))
            .collect();
        store.commit(&Term::solo(), ops).await.expect("commit");
        store
    }

    #[tokio::test]
    async fn a_backup_restores_exactly_what_was_stored_and_drops_what_was_not() {
        let source = store_with(&[
            (Table::Apps, "/web", r#"{"id":"/web"}"#),
            (Table::AppVersions, "/web@1", r#"{"id":"/web","v":1}"#),
            (Table::Meta, "framework_id", r#""fw""#),
            (Table::Agents, "a1", r#"{"id":"a1"}"#),
        ])
        .await;
        let backup = Backup::take(&source, 42).await.expect("take");
        backup.verify().expect("verify");
        assert_eq!(backup.counts()["apps"], 1);
        assert!(!backup.tables.contains_key("agents"));
        // Through a file and back.
        let text = serde_json::to_string_pretty(&backup).expect("json");
        let read: Backup = serde_json::from_str(&text).expect("parse");
        let target = store_with(&[(Table::Apps, "/other", r#"{"id":"/other"}"#)]).await;
        let ops = read.restore_ops(&target).await.expect("ops");
        target.commit(&Term::solo(), ops).await.expect("restore");
        assert_eq!(
            target.list(Table::Apps, "").await.expect("list"),
            vec![("/web".to_string(), br#"{"id":"/web"}"#.to_vec())]
        );
        assert_eq!(
            target.get(Table::AppVersions, "/web@1").await.expect("get"),
            Some(br#"{"id":"/web","v":1}"#.to_vec())
        );
    }

    #[tokio::test]
    async fn a_changed_backup_is_refused_naming_both_checksums() {
        let source = store_with(&[(Table::Apps, "/web", r#"{"id":"/web"}"#)]).await;
        let mut backup = Backup::take(&source, 1).await.expect("take");
        backup
            .tables
            .get_mut("apps")
            .expect("apps")
            .insert("/web".into(), r#"{"id":"/evil"}"#.into());
        let error = backup.verify().expect_err("tampered");
        let text = error.to_string();
        assert!(text.contains(&backup.sha256), "{text}");
        assert!(matches!(error, BackupError::Checksum { .. }));
        backup.format = 2;
        assert!(matches!(
            backup.verify(),
            Err(BackupError::Format { found: 2 })
        ));
    }
}
