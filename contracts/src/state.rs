//! The read-only [`StateView`] the executor runs over, the state key layout, and the
//! copy-on-write [`Overlay`] that collects a block's writes.
//!
//! Keys are `namespace tag || id` byte strings; the authenticated tree hashes them, so keys are
//! not enumerable from proofs. Values are canonical BCS of the record.

use std::collections::BTreeMap;

use concordat_primitives::{encoding, PublicKey};
use serde::{de::DeserializeOwned, Serialize};

use crate::error::{ExecError, ResultCode};

/// Read-only access to committed state, as of the start of the block.
pub trait StateView {
    /// The value stored under `key`, if any.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
}

impl StateView for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        BTreeMap::get(self, key).cloned()
    }
}

/// A block's write set: `None` deletes.
pub type WriteSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// State keys. The tags are part of the state format.
pub mod keys {
    use super::*;

    /// A department record, by USCC.
    pub fn department(uscc: &str) -> Vec<u8> {
        [b"gov/department/".as_slice(), uscc.as_bytes()].concat()
    }
    /// The sorted list of department USCCs.
    pub const DEPARTMENT_INDEX: &[u8] = b"gov/departments";
    /// Which department a member key belongs to.
    pub fn signer(key: &PublicKey) -> Vec<u8> {
        [b"gov/signer/".as_slice(), key.as_bytes()].concat()
    }
    /// The validator roster (keys, powers, departments).
    pub const VALIDATORS: &[u8] = b"gov/validators";
    /// A governance proposal, by id.
    pub fn proposal(id: u64) -> Vec<u8> {
        [b"gov/proposal/".as_slice(), &id.to_be_bytes()].concat()
    }
    /// The next proposal id.
    pub const NEXT_PROPOSAL_ID: &[u8] = b"gov/next_proposal_id";
    /// A signer's next nonce.
    pub fn nonce(key: &PublicKey) -> Vec<u8> {
        [b"acct/nonce/".as_slice(), key.as_bytes()].concat()
    }
    /// A party, by USCC.
    pub fn party(uscc: &str) -> Vec<u8> {
        [b"party/".as_slice(), uscc.as_bytes()].concat()
    }

    /// The record kinds the query API serves (`GET /v1/state/{kind}/{id}`).
    pub const QUERY_KINDS: &[&str] = &[
        "party",
        "department",
        "validators",
        "proposal",
        "nonce",
        "raw",
    ];

    /// Why a query's kind or id has no state key.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    pub enum QueryKeyError {
        /// Not one of [`QUERY_KINDS`].
        #[error("unknown kind {0:?}; kinds: party, department, validators, proposal, nonce, raw")]
        UnknownKind(String),
        /// The id does not fit the kind.
        #[error("{0}")]
        BadId(String),
    }

    /// The state key of a query: the one mapping shared by the node (which serves it) and the
    /// client (which recomputes it to check the answer). USCCs are not validated here.
    pub fn query_key(kind: &str, id: &str) -> Result<Vec<u8>, QueryKeyError> {
        let bad = |d: &str| QueryKeyError::BadId(d.to_string());
        if !QUERY_KINDS.contains(&kind) {
            return Err(QueryKeyError::UnknownKind(kind.into()));
        }
        if id.is_empty() {
            return Err(bad("the id is empty"));
        }
        match kind {
            "party" => Ok(party(id)),
            "department" => Ok(department(id)),
            "validators" if id == "current" => Ok(VALIDATORS.to_vec()),
            "validators" => Err(bad("the only id is `current`")),
            "proposal" => id
                .parse::<u64>()
                .map(proposal)
                .map_err(|_| bad("a proposal id is a decimal number")),
            "nonce" => PublicKey::from_hex(id)
                .map(|pk| nonce(&pk))
                .map_err(|e| QueryKeyError::BadId(e.to_string())),
            _ => {
                hex::decode(id).map_err(|e| QueryKeyError::BadId(format!("a raw key is hex: {e}")))
            }
        }
    }
}

/// Copy-on-write view: reads fall through to the base, writes are buffered.
pub struct Overlay<'a> {
    base: &'a dyn StateView,
    writes: WriteSet,
}

impl<'a> Overlay<'a> {
    /// An empty overlay over `base`.
    pub fn new(base: &'a dyn StateView) -> Overlay<'a> {
        Overlay {
            base,
            writes: BTreeMap::new(),
        }
    }

    /// Raw read.
    pub fn get_raw(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.writes.get(key) {
            Some(v) => v.clone(),
            None => self.base.get(key),
        }
    }

    /// Typed read of a record.
    ///
    /// # Panics
    /// If stored bytes do not decode: state is only ever written by this crate, so that is
    /// corruption, and continuing would diverge silently.
    pub fn get<T: Serialize + DeserializeOwned>(&self, key: &[u8]) -> Option<T> {
        let bytes = self.get_raw(key)?;
        match encoding::from_bytes(&bytes) {
            Ok(v) => Some(v),
            Err(e) => panic!(
                "corrupt state under key {:?}: {e}",
                String::from_utf8_lossy(key)
            ),
        }
    }

    /// Typed write.
    pub fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) {
        self.writes.insert(key, Some(encoding::to_bytes(value)));
    }

    /// Delete.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    /// The buffered writes.
    pub fn into_writes(self) -> WriteSet {
        self.writes
    }

    /// Adds `other`'s writes on top of these.
    pub fn absorb(&mut self, other: WriteSet) {
        self.writes.extend(other);
    }

    /// A nested overlay reading through this one; its writes come back through [`Self::absorb`].
    pub fn nested(&self) -> Overlay<'_> {
        Overlay::new(self)
    }
}

impl StateView for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.get_raw(key)
    }
}

/// Loads a record or fails with `NotFound`.
pub fn require<T: Serialize + DeserializeOwned>(
    state: &Overlay<'_>,
    key: &[u8],
    what: impl FnOnce() -> String,
) -> Result<T, ExecError> {
    state
        .get(key)
        .ok_or_else(|| ExecError::new(ResultCode::NotFound, what()))
}
