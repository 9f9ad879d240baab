//! The master's durable state: a [`Store`] of named tables of JSON documents, with an embedded
//! redb implementation (one master), an in-memory one for tests, and (crate strato-etcd) etcd
//! for 3/5/7/9 masters. Keys are strings; values are opaque bytes, with [`Op::put_json`] and
//! [`decode`] adding serde on top.
//!
//! Writes are [`Store::commit`]s of several operations, all applied or none, made in a leader's
//! [`Term`]: a store that can tell (etcd) refuses a commit whose term has ended, so a master that
//! lost its lease can never overwrite what a newer leader wrote ([`Leadership`]).

mod backup;
mod leadership;
mod memory;
mod redb_store;

use serde::{de::DeserializeOwned, Serialize};

pub use backup::{Backup, BackupError};
pub use leadership::{Leadership, Solo, Term};
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
    /// Registered agents by id, so that every master (a standby's DNS, a new leader) knows where
    /// tasks run before their agents speak to it.
    Agents,
}

impl Table {
    pub const ALL: [Table; 6] = [
        Table::Apps,
        Table::AppVersions,
        Table::Deployments,
        Table::Tasks,
        Table::Meta,
        Table::Agents,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Apps => "apps",
            Table::AppVersions => "app_versions",
            Table::Deployments => "deployments",
            Table::Tasks => "tasks",
            Table::Meta => "meta",
            Table::Agents => "agents",
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
    /// The store cannot reach a majority of its members: nothing can be written.
    #[error("the state store has lost quorum ({message})")]
    QuorumLost { message: String },
    /// The commit was made in a term that has ended: another master leads now.
    #[error("this master no longer leads (its term ended); the write was refused")]
    Fenced,
}

impl StoreError {
    /// Errors that mean "not now" rather than "broken": no quorum, or leadership moved on.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::QuorumLost { .. } | StoreError::Fenced)
    }
}

/// One write in a [`Store::commit`].
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Put {
        table: Table,
        key: String,
        value: Vec<u8>,
    },
    Delete {
        table: Table,
        key: String,
    },
}

impl Op {
    pub fn put(table: Table, key: impl Into<String>, value: Vec<u8>) -> Op {
        Op::Put {
            table,
            key: key.into(),
            value,
        }
    }

    /// A put of `value` as JSON.
    pub fn put_json<T: Serialize + ?Sized>(
        table: Table,
        key: impl Into<String>,
        value: &T,
    ) -> Result<Op, StoreError> {
        let key = key.into();
        match serde_json::to_vec(value) {
            Ok(bytes) => Ok(Op::put(table, key, bytes)),
            Err(source) => Err(StoreError::Decode {
                table: table.name(),
                key,
                source,
            }),
        }
    }

    pub fn delete(table: Table, key: impl Into<String>) -> Op {
        Op::Delete {
            table,
            key: key.into(),
        }
    }

    pub fn table(&self) -> Table {
        match self {
            Op::Put { table, .. } | Op::Delete { table, .. } => *table,
        }
    }
}

/// Every entry of one table, in key order.
pub type Entries = Vec<(String, Vec<u8>)>;

/// A durable key-value store with one table per kind of state.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    async fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every entry whose key starts with `prefix`, in key order.
    async fn list(&self, table: Table, prefix: &str) -> Result<Entries, StoreError>;
    /// Applies every operation or none, in `term` (see the crate docs).
    async fn commit(&self, term: &Term, ops: Vec<Op>) -> Result<(), StoreError>;
}

/// Decodes a stored JSON value.
pub fn decode<T: DeserializeOwned>(table: Table, key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Decode {
        table: table.name(),
        key: key.into(),
        source,
    })
}

/// Serde helpers over any [`Store`].
#[async_trait::async_trait]
pub trait StoreExt: Store {
    async fn get_json<T: DeserializeOwned>(
        &self,
        table: Table,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.get(table, key).await? {
            None => Ok(None),
            Some(bytes) => decode(table, key, &bytes).map(Some),
        }
    }

    async fn list_json<T: DeserializeOwned>(
        &self,
        table: Table,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        self.list(table, prefix)
            .await?
            .into_iter()
            .map(|(key, bytes)| decode(table, &key, &bytes).map(|value| (key, value)))
            .collect()
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every implementation must have.
    use super::*;

    pub async fn round_trips_and_lists_by_prefix(store: &dyn Store) {
        let term = Term::solo();
        store
            .commit(
                &term,
                vec![
                    Op::put(Table::AppVersions, "/a@1", b"one".to_vec()),
                    Op::put(Table::AppVersions, "/a@2", b"two".to_vec()),
                    Op::put(Table::AppVersions, "/ab@1", b"other".to_vec()),
                    Op::put(Table::Apps, "/a@1", b"elsewhere".to_vec()),
                ],
            )
            .await
            .expect("commit");
        assert_eq!(
            store.get(Table::AppVersions, "/a@2").await.expect("get"),
            Some(b"two".to_vec())
        );
        let listed = store.list(Table::AppVersions, "/a@").await.expect("list");
        let keys: Vec<&str> = listed.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["/a@1", "/a@2"]);
        store
            .commit(
                &term,
                vec![
                    Op::delete(Table::AppVersions, "/a@1"),
                    Op::delete(Table::AppVersions, "/missing"),
                    Op::put(Table::Meta, "k", b"v".to_vec()),
                ],
            )
            .await
            .expect("deleting nothing is fine");
        assert_eq!(
            store.get(Table::AppVersions, "/a@1").await.expect("get"),
            None
        );
        assert_eq!(
            store.get(Table::Meta, "k").await.expect("get"),
            Some(b"v".to_vec())
        );
        assert_eq!(store.list(Table::Agents, "").await.expect("list"), vec![]);
    }
}
