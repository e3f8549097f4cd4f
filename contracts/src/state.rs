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
    /// The heights whose header names a different next validator set, ascending.
    pub const VALIDATOR_CHANGE_HEIGHTS: &[u8] = b"gov/validator_change_heights";
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

    /// Which party an enterprise signing key belongs to.
    pub fn party_signer(key: &PublicKey) -> Vec<u8> {
        [b"partykey/".as_slice(), key.as_bytes()].concat()
    }
    /// The policy record (current version).
    pub const POLICY: &[u8] = b"policy/current";
    /// A policy version.
    pub fn policy_version(v: u64) -> Vec<u8> {
        [b"policy/version/".as_slice(), &v.to_be_bytes()].concat()
    }
    /// A licence, by licence id.
    pub fn licence(id: &str) -> Vec<u8> {
        [b"licence/".as_slice(), id.as_bytes()].concat()
    }
    /// The licence ids of a holder.
    pub fn licences_of(uscc: &str) -> Vec<u8> {
        [b"licence_by_holder/".as_slice(), uscc.as_bytes()].concat()
    }
    /// The next status-list index for a licence.
    pub const LICENCE_NEXT_STATUS_INDEX: &[u8] = b"licence_next_status_index";
    /// The licence holding a status-list index (for the Bitstring Status Lists).
    pub fn licence_at_status_index(n: u64) -> Vec<u8> {
        [b"licence_status_index/".as_slice(), &n.to_be_bytes()].concat()
    }
    /// A commitment, by id.
    pub fn commitment(id: &str) -> Vec<u8> {
        [b"commitment/".as_slice(), id.as_bytes()].concat()
    }
    /// A dishonesty record, by id.
    pub fn dishonesty(id: &str) -> Vec<u8> {
        [b"dishonesty/".as_slice(), id.as_bytes()].concat()
    }
    /// The dishonesty record ids of a party.
    pub fn dishonesty_index(uscc: &str) -> Vec<u8> {
        [b"dishonesty_by_party/".as_slice(), uscc.as_bytes()].concat()
    }
    /// A re-application bar on (holder, licence type).
    pub fn reapply_bar(uscc: &str, type_code: &str) -> Vec<u8> {
        [
            b"reapply_bar/".as_slice(),
            uscc.as_bytes(),
            b"/",
            type_code.as_bytes(),
        ]
        .concat()
    }
    /// An electronic seal, by esID.
    pub fn seal(es_id: &str) -> Vec<u8> {
        [b"seal/".as_slice(), es_id.as_bytes()].concat()
    }
    /// The seal ids of an owner.
    pub fn seals_of(uscc: &str) -> Vec<u8> {
        [b"seal_by_owner/".as_slice(), uscc.as_bytes()].concat()
    }
    /// A recorded seal signature, by id.
    pub fn seal_signature(id: &str) -> Vec<u8> {
        [b"seal_signature/".as_slice(), id.as_bytes()].concat()
    }
    /// A registered time-stamping authority.
    pub fn tsa(id: &str) -> Vec<u8> {
        [b"tsa/".as_slice(), id.as_bytes()].concat()
    }
    /// A mutual-recognition agreement, by id.
    pub fn agreement(id: &str) -> Vec<u8> {
        [b"agreement/".as_slice(), id.as_bytes()].concat()
    }
    /// A logged recognition decision, by id.
    pub fn recognition(id: &str) -> Vec<u8> {
        [b"recognition/".as_slice(), id.as_bytes()].concat()
    }
    /// An accepted paperless filing, by id.
    pub fn filing(id: &str) -> Vec<u8> {
        [b"filing/".as_slice(), id.as_bytes()].concat()
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
