//! The embedded store of a single master: one redb file, one redb table per [`Table`]. redb is
//! blocking, so every call runs on tokio's blocking pool.

use std::path::Path;
use std::sync::Arc;

use redb::{Database, TableDefinition};

use crate::{Entries, Op, Store, StoreError, Table, Term};

pub struct RedbStore {
    db: Arc<Database>,
}

fn definition(table: Table) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(table.name())
}

fn backend(operation: &'static str, table: Table) -> impl Fn(String) -> StoreError {
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
        Ok(RedbStore { db: Arc::new(db) })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        operation: &'static str,
        table: Table,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(|e| backend(operation, table)(e.to_string()))?
    }
}

fn get(db: &Database, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let err = backend("read", table);
    let txn = db.begin_read().map_err(|e| err(e.to_string()))?;
    let t = txn
        .open_table(definition(table))
        .map_err(|e| err(e.to_string()))?;
    let value = t.get(key).map_err(|e| err(e.to_string()))?;
    Ok(value.map(|v| v.value().to_vec()))
}

fn list(db: &Database, table: Table, prefix: &str) -> Result<Entries, StoreError> {
    let err = backend("list", table);
    let txn = db.begin_read().map_err(|e| err(e.to_string()))?;
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

/// One redb write transaction: every op or none.
fn commit(db: &Database, ops: &[Op]) -> Result<(), StoreError> {
    let first = ops.first().map_or(Table::Meta, Op::table);
    let txn = db
        .begin_write()
        .map_err(|e| backend("write", first)(e.to_string()))?;
    for op in ops {
        let err = backend("write", op.table());
        let mut t = txn
            .open_table(definition(op.table()))
            .map_err(|e| err(e.to_string()))?;
        match op {
            Op::Put { key, value, .. } => {
                t.insert(key.as_str(), value.as_slice())
                    .map_err(|e| err(e.to_string()))?;
            }
            Op::Delete { key, .. } => {
                t.remove(key.as_str()).map_err(|e| err(e.to_string()))?;
            }
        }
    }
    txn.commit()
        .map_err(|e| backend("write", first)(e.to_string()))
}

#[async_trait::async_trait]
impl Store for RedbStore {
    async fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_string();
        self.blocking("read", table, move |db| get(db, table, &key))
            .await
    }

    async fn list(&self, table: Table, prefix: &str) -> Result<Entries, StoreError> {
        let prefix = prefix.to_string();
        self.blocking("list", table, move |db| list(db, table, &prefix))
            .await
    }

    /// One master, so the term is always its own: nothing to fence.
    async fn commit(&self, _term: &Term, ops: Vec<Op>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let table = ops[0].table();
        self.blocking("write", table, move |db| commit(db, &ops))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn redb_store_meets_the_contract() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RedbStore::open(&dir.path().join("state.redb")).expect("open");
        crate::contract::round_trips_and_lists_by_prefix(&store).await;
    }

    #[tokio::test]
    async fn data_survives_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.redb");
        {
            let store = RedbStore::open(&path).expect("open");
            store
                .commit(
                    &Term::solo(),
                    vec![Op::put(Table::Meta, "framework_id", b"fw-1".to_vec())],
                )
                .await
                .expect("commit");
        }
        let store = RedbStore::open(&path).expect("reopen");
        assert_eq!(
            store.get(Table::Meta, "framework_id").await.expect("get"),
            Some(b"fw-1".to_vec())
        );
    }
}
