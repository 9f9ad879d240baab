//! Who may write: a [`Leadership`] hands out [`Term`]s, one master at a time.

use tokio::sync::watch;

use crate::StoreError;

/// One master's time as leader. Commits carry it; a store that keeps leader records (etcd)
/// refuses a commit whose term it no longer holds. `ended` turns true when the term is over
/// (lease lost, resigned), which is when the master stops acting as leader.
#[derive(Debug, Clone)]
pub struct Term {
    /// The election key this master holds (empty for [`Solo`]).
    pub key: Vec<u8>,
    /// The store revision at which the key was created: the fence every commit compares.
    pub revision: i64,
    /// The lease the key lives on (0 for [`Solo`]).
    pub lease: i64,
    ended: watch::Receiver<bool>,
}

impl Term {
    /// A term and the sender that ends it.
    pub fn new(key: Vec<u8>, revision: i64, lease: i64) -> (Term, watch::Sender<bool>) {
        let (end, ended) = watch::channel(false);
        (
            Term {
                key,
                revision,
                lease,
                ended,
            },
            end,
        )
    }

    /// The term of the only master there is: it never ends.
    pub fn solo() -> Term {
        let (term, end) = Term::new(Vec::new(), 0, 0);
        // Keep the sender alive for ever so `ended()` never resolves.
        std::mem::forget(end);
        term
    }

    pub fn has_ended(&self) -> bool {
        *self.ended.borrow()
    }

    /// Resolves once the term is over.
    pub async fn ended(&self) {
        let mut ended = self.ended.clone();
        let _ = ended.wait_for(|ended| *ended).await;
    }
}

/// Leader election among the masters.
#[async_trait::async_trait]
pub trait Leadership: Send + Sync + 'static {
    /// Waits until this master (known to others as `address`) leads, and returns its term.
    async fn campaign(&self, address: &str) -> Result<Term, StoreError>;
    /// Gives leadership up (the next campaigner wins at once).
    async fn resign(&self, term: &Term) -> Result<(), StoreError>;
    /// The address the current leader campaigned with; `None` while nobody leads.
    async fn leader(&self) -> Result<Option<String>, StoreError>;
    /// True for the single-master case, where there is no one else to lead.
    fn is_solo(&self) -> bool {
        false
    }
}

/// The single master: it leads from the start and for ever.
#[derive(Debug, Default)]
pub struct Solo {
    address: std::sync::Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl Leadership for Solo {
    async fn campaign(&self, address: &str) -> Result<Term, StoreError> {
        *self
            .address
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(address.to_string());
        Ok(Term::solo())
    }

    async fn resign(&self, _term: &Term) -> Result<(), StoreError> {
        Ok(())
    }

    async fn leader(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .address
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone())
    }

    fn is_solo(&self) -> bool {
        true
    }
}
