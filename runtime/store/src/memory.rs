//! An in-memory [`Store`] for tests and throwaway masters.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::{Entries, Op, Store, StoreError, Table, Term};

#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<BTreeMap<(Table, String), Vec<u8>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(Table, String), Vec<u8>>> {
        // A panic while holding the lock cannot leave a half-written entry, so poison is harmless.
        self.tables
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().get(&(table, key.to_string())).cloned())
    }

    async fn list(&self, table: Table, prefix: &str) -> Result<Entries, StoreError> {
        Ok(self
            .lock()
            .range((table, prefix.to_string())..)
            .take_while(|((t, k), _)| *t == table && k.starts_with(prefix))
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }

    async fn commit(&self, term: &Term, ops: Vec<Op>) -> Result<(), StoreError> {
        if term.has_ended() {
            return Err(StoreError::Fenced);
        }
        let mut tables = self.lock();
        for op in ops {
            match op {
                Op::Put { table, key, value } => {
                    tables.insert((table, key), value);
                }
                Op::Delete { table, key } => {
                    tables.remove(&(table, key));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn memory_store_meets_the_contract() {
        crate::contract::round_trips_and_lists_by_prefix(&super::MemoryStore::new()).await;
    }
}
