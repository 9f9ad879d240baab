//! An in-memory [`Store`] for tests and throwaway masters.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::{Store, StoreError, Table};

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

impl Store for MemoryStore {
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().get(&(table, key.to_string())).cloned())
    }

    fn put(&self, table: Table, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.lock().insert((table, key.to_string()), value.to_vec());
        Ok(())
    }

    fn delete(&self, table: Table, key: &str) -> Result<(), StoreError> {
        self.lock().remove(&(table, key.to_string()));
        Ok(())
    }

    fn list(&self, table: Table, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(self
            .lock()
            .range((table, prefix.to_string())..)
            .take_while(|((t, k), _)| *t == table && k.starts_with(prefix))
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_store_meets_the_contract() {
        crate::contract::round_trips_and_lists_by_prefix(&super::MemoryStore::new());
    }
}
