//! [`Store`] on etcd: key `/strato/<table>/<key>`; a commit is one etcd transaction guarded by
//! the leader's election key (its create revision must be the term's), so a master whose lease
//! expired cannot write even if it has not noticed yet.

use etcd_client::{Client, Compare, CompareOp, GetOptions, Txn, TxnOp};
use strato_store::{Entries, Op, Store, StoreError, Table, Term};

use crate::error::{retrying, store_error};
use crate::PREFIX;

/// etcd refuses transactions of more than 128 operations (its `--max-txn-ops` default) and
/// requests over 1.5 MiB; bigger commits go in several transactions, each fenced.
const MAX_OPS: usize = 100;
const MAX_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct EtcdStore {
    client: Client,
}

fn key_of(table: Table, key: &str) -> String {
    format!("{PREFIX}{}/{key}", table.name())
}

impl EtcdStore {
    /// `client` should have a request timeout (see [`crate::connect`]).
    pub fn new(client: Client) -> EtcdStore {
        EtcdStore { client }
    }

    async fn fenced_txn(&self, term: &Term, ops: Vec<TxnOp>) -> Result<(), StoreError> {
        let mut txn = Txn::new();
        if !term.key.is_empty() {
            txn = txn.when(vec![Compare::create_revision(
                term.key.clone(),
                CompareOp::Equal,
                term.revision,
            )]);
        }
        let txn = txn.and_then(ops);
        let response = retrying(|| {
            let mut client = self.client.clone();
            let txn = txn.clone();
            async move { client.txn(txn).await }
        })
        .await
        .map_err(|e| store_error("commit", "-", e))?;
        if response.succeeded() {
            Ok(())
        } else {
            Err(StoreError::Fenced)
        }
    }
}

#[async_trait::async_trait]
impl Store for EtcdStore {
    async fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key_of(table, key);
        let response = retrying(|| {
            let mut client = self.client.clone();
            let key = key.clone();
            async move { client.get(key, None).await }
        })
        .await
        .map_err(|e| store_error("read", table.name(), e))?;
        Ok(response.kvs().first().map(|kv| kv.value().to_vec()))
    }

    async fn list(&self, table: Table, prefix: &str) -> Result<Entries, StoreError> {
        let start = key_of(table, "");
        let response = self
            .client
            .clone()
            .get(key_of(table, prefix), Some(GetOptions::new().with_prefix()))
            .await
            .map_err(|e| store_error("list", table.name(), e))?;
        let mut entries: Entries = response
            .kvs()
            .iter()
            .map(|kv| {
                let key = String::from_utf8_lossy(&kv.key()[start.len()..]).into_owned();
                (key, kv.value().to_vec())
            })
            .collect();
        // etcd sorts by key bytes already; sorting keeps the contract explicit.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    async fn commit(&self, term: &Term, ops: Vec<Op>) -> Result<(), StoreError> {
        if term.has_ended() {
            return Err(StoreError::Fenced);
        }
        let mut batch = Vec::new();
        let mut bytes = 0;
        for op in ops {
            let (size, txn_op) = match op {
                Op::Put { table, key, value } => {
                    let key = key_of(table, &key);
                    (key.len() + value.len(), TxnOp::put(key, value, None))
                }
                Op::Delete { table, key } => {
                    let key = key_of(table, &key);
                    (key.len(), TxnOp::delete(key, None))
                }
            };
            if !batch.is_empty() && (batch.len() >= MAX_OPS || bytes + size > MAX_BYTES) {
                self.fenced_txn(term, std::mem::take(&mut batch)).await?;
                bytes = 0;
            }
            bytes += size;
            batch.push(txn_op);
        }
        if !batch.is_empty() {
            self.fenced_txn(term, batch).await?;
        }
        Ok(())
    }
}
