//! The master's durable state: a [`Store`] of named tables of JSON documents, with an embedded
//! redb implementation (one master) and an in-memory one for tests. Keys are strings; values are
//! opaque bytes, with [`StoreExt`] adding serde on top.

mod memory;
mod redb_store;

use serde::{de::DeserializeOwned, Serialize};

pub use memory::MemoryStore;
pub use redb_store::RedbStore;

/// The tables the master keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// Current app definitions by app id.
    Apps,
    /// Every kept app version, key `<app id>@<version>`.
    AppVersions,
    Deployments,
    Tasks,
    /// Framework id, cluster id, last task failures, backoff.
    Meta,
}

impl Table {
    pub const ALL: [Table; 5] = [
        Table::Apps,
        Table::AppVersions,
        Table::Deployments,
        Table::Tasks,
        Table::Meta,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Apps => "apps",
            Table::AppVersions => "app_versions",
            Table::Deployments => "deployments",
            Table::Tasks => "tasks",
            Table::Meta => "meta",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the state store at {path}: {message}")]
    Open { path: String, message: String },
    #[error("state store {operation} failed on table {table}: {message}")]
    Backend {
        operation: &'static str,
        table: &'static str,
        message: String,
    },
    #[error("stored value {table}/{key} is not valid JSON")]
    Decode {
        table: &'static str,
        key: String,
        #[source]
        source: serde_json::Error,
    },
}

/// A durable key-value store with one table per kind of state.
pub trait Store: Send + Sync + 'static {
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn put(&self, table: Table, key: &str, value: &[u8]) -> Result<(), StoreError>;
    fn delete(&self, table: Table, key: &str) -> Result<(), StoreError>;
    /// Every entry whose key starts with `prefix`, in key order.
    fn list(&self, table: Table, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Writes several entries at once (one commit where the backend has transactions).
    fn put_many(&self, table: Table, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        entries
            .iter()
            .try_for_each(|(key, value)| self.put(table, key, value))
    }
}

/// Serde helpers over any [`Store`].
pub trait StoreExt: Store {
    fn put_json<T: Serialize>(&self, table: Table, key: &str, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|source| StoreError::Decode {
            table: table.name(),
            key: key.into(),
            source,
        })?;
        self.put(table, key, &bytes)
    }

    fn get_json<T: DeserializeOwned>(
        &self,
        table: Table,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.get(table, key)? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|source| StoreError::Decode {
                        table: table.name(),
                        key: key.into(),
                        source,
                    })
            }
        }
    }

    fn list_json<T: DeserializeOwned>(
        &self,
        table: Table,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        self.list(table, prefix)?
            .into_iter()
            .map(|(key, bytes)| {
                serde_json::from_slice(&bytes)
                    .map(|value| (key.clone(), value))
                    .map_err(|source| StoreError::Decode {
                        table: table.name(),
                        key,
                        source,
                    })
            })
            .collect()
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every implementation must have.
    use super::*;

    pub fn round_trips_and_lists_by_prefix(store: &dyn Store) {
        store.put(Table::AppVersions, "/a@1", b"one").expect("put");
        store.put(Table::AppVersions, "/a@2", b"two").expect("put");
        store
            .put(Table::AppVersions, "/ab@1", b"other")
            .expect("put");
        store.put(Table::Apps, "/a@1", b"elsewhere").expect("put");
        assert_eq!(
            store.get(Table::AppVersions, "/a@2").expect("get"),
            Some(b"two".to_vec())
        );
        let listed = store.list(Table::AppVersions, "/a@").expect("list");
        let keys: Vec<&str> = listed.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["/a@1", "/a@2"]);
        store.delete(Table::AppVersions, "/a@1").expect("delete");
        assert_eq!(store.get(Table::AppVersions, "/a@1").expect("get"), None);
        store
            .delete(Table::AppVersions, "/missing")
            .expect("deleting nothing is fine");
    }
}
