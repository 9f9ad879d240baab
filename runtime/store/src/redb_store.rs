//! The embedded store of a single master: one redb file, one redb table per [`Table`].

use std::path::Path;

use redb::{Database, TableDefinition};

use crate::{Store, StoreError, Table};

pub struct RedbStore {
    db: Database,
}

fn definition(table: Table) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(table.name())
}

fn backend(operation: &'static str, table: Table) -> impl FnOnce(String) -> StoreError {
    move |message| StoreError::Backend {
        operation,
        table: table.name(),
        message,
    }
}

impl RedbStore {
    /// Opens (or creates) `path`, creating every table so reads never miss one.
    pub fn open(path: &Path) -> Result<RedbStore, StoreError> {
        let open_error = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        let db = Database::create(path).map_err(|e| open_error(e.to_string()))?;
        let txn = db.begin_write().map_err(|e| open_error(e.to_string()))?;
        for table in Table::ALL {
            txn.open_table(definition(table))
                .map_err(|e| open_error(e.to_string()))?;
        }
        txn.commit().map_err(|e| open_error(e.to_string()))?;
        Ok(RedbStore { db })
    }
}

impl Store for RedbStore {
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let err = |e: String| backend("read", table)(e);
        let txn = self.db.begin_read().map_err(|e| err(e.to_string()))?;
        let t = txn
            .open_table(definition(table))
            .map_err(|e| err(e.to_string()))?;
        let value = t.get(key).map_err(|e| err(e.to_string()))?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn put(&self, table: Table, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let err = |e: String| backend("write", table)(e);
        let txn = self.db.begin_write().map_err(|e| err(e.to_string()))?;
        {
            let mut t = txn
                .open_table(definition(table))
                .map_err(|e| err(e.to_string()))?;
            t.insert(key, value).map_err(|e| err(e.to_string()))?;
        }
        txn.commit().map_err(|e| err(e.to_string()))
    }

    fn put_many(&self, table: Table, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let err = |e: String| backend("write", table)(e);
        let txn = self.db.begin_write().map_err(|e| err(e.to_string()))?;
        {
            let mut t = txn
                .open_table(definition(table))
                .map_err(|e| err(e.to_string()))?;
            for (key, value) in entries {
                t.insert(key.as_str(), value.as_slice())
                    .map_err(|e| err(e.to_string()))?;
            }
        }
        txn.commit().map_err(|e| err(e.to_string()))
    }

    fn delete(&self, table: Table, key: &str) -> Result<(), StoreError> {
        let err = |e: String| backend("delete", table)(e);
        let txn = self.db.begin_write().map_err(|e| err(e.to_string()))?;
        {
            let mut t = txn
                .open_table(definition(table))
                .map_err(|e| err(e.to_string()))?;
            t.remove(key).map_err(|e| err(e.to_string()))?;
        }
        txn.commit().map_err(|e| err(e.to_string()))
    }

    fn list(&self, table: Table, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let err = |e: String| backend("list", table)(e);
        let txn = self.db.begin_read().map_err(|e| err(e.to_string()))?;
        let t = txn
            .open_table(definition(table))
            .map_err(|e| err(e.to_string()))?;
        let mut out = Vec::new();
        for entry in t.range(prefix..).map_err(|e| err(e.to_string()))? {
            let (key, value) = entry.map_err(|e| err(e.to_string()))?;
            if !key.value().starts_with(prefix) {
                break;
            }
            out.push((key.value().to_string(), value.value().to_vec()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redb_store_meets_the_contract() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RedbStore::open(&dir.path().join("state.redb")).expect("open");
        crate::contract::round_trips_and_lists_by_prefix(&store);
    }

    #[test]
    fn data_survives_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.redb");
        {
            let store = RedbStore::open(&path).expect("open");
            store
                .put(Table::Meta, "framework_id", b"fw-1")
                .expect("put");
        }
        let store = RedbStore::open(&path).expect("reopen");
        assert_eq!(
            store.get(Table::Meta, "framework_id").expect("get"),
            Some(b"fw-1".to_vec())
        );
    }
}
