//! Ledger types every crate shares: the block [`Header`] and the [`ValidatorSet`].
//!
//! Execution is immediate: the header of height `H` commits to the transactions of block `H`
//! (`txs_root`) AND to the results of executing them (`state_root`, `tx_log_root`,
//! `tx_log_size`), so a light client needs only header `H` and its commit certificate to check
//! any state or log proof "at height H". A validator-set change executed in block `H` shows as
//! `next_validator_set_hash` of header `H` and takes effect from height `H + 1`.
//! See `docs/adr/0005-immediate-execution-header.md`.

use serde::{Deserialize, Serialize};

use crate::{encoding, namespace, Hash, PublicKey};

/// The current application (state machine) version.
pub const APP_VERSION: u32 = 1;

/// Longest chain id accepted (bytes).
pub const MAX_CHAIN_ID_LEN: usize = 50;

/// Checks a chain id: 1..=50 characters of `[a-z0-9-]`, not starting or ending with `-`.
pub fn validate_chain_id(id: &str) -> Result<(), String> {
    let ok_chars = id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if id.is_empty() || id.len() > MAX_CHAIN_ID_LEN || !ok_chars {
        return Err(format!(
            "chain id {id:?} must be 1 to {MAX_CHAIN_ID_LEN} characters of a-z, 0-9 and '-'"
        ));
    }
    if id.starts_with('-') || id.ends_with('-') {
        return Err(format!("chain id {id:?} must not start or end with '-'"));
    }
    Ok(())
}

/// A block header. Field order is part of the format (golden fixtures pin the bytes).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The chain this header belongs to.
    pub chain_id: String,
    /// Height, from 1 (the genesis is height 0 and has no header).
    pub height: u64,
    /// Hash of the previous header; for height 1, the genesis hash.
    pub parent_hash: Hash,
    /// The proposer's clock, milliseconds since the Unix epoch (UTC). Strictly increasing.
    pub time_ms: u64,
    /// The validator that proposed this block.
    pub proposer: PublicKey,
    /// RFC 9162 Merkle root over the hashes of this block's transactions, in order.
    pub txs_root: Hash,
    /// Root of the authenticated state after executing this block.
    pub state_root: Hash,
    /// Root of the global transaction log after appending this block's records.
    pub tx_log_root: Hash,
    /// Number of records in the transaction log after this block.
    pub tx_log_size: u64,
    /// Hash of the validator set that signs this header's commit certificate.
    pub validator_set_hash: Hash,
    /// Hash of the validator set that signs the next height.
    pub next_validator_set_hash: Hash,
    /// Application version the block was executed with.
    pub app_version: u32,
}

impl Header {
    /// The header hash: `tagged_hash(HEADER, BCS(header))`. This is the block id that
    /// validators vote for.
    pub fn hash(&self) -> Hash {
        namespace::tagged_hash(namespace::HEADER, &encoding::to_bytes(self))
    }
}

/// One validator: its consensus key and voting power.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Validator {
    /// The consensus key.
    pub key: PublicKey,
    /// Voting power, at least 1.
    pub power: u64,
}

/// Upper bound on validators in one set.
pub const MAX_VALIDATORS: usize = 256;
/// Upper bound on the total voting power, so `3 * total` never overflows.
pub const MAX_TOTAL_POWER: u64 = u64::MAX / 4;

/// Why a validator set is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ValidatorSetError {
    /// No validators.
    #[error("the validator set is empty")]
    Empty,
    /// Over [`MAX_VALIDATORS`].
    #[error("{0} validators is over the limit of {MAX_VALIDATORS}")]
    TooMany(usize),
    /// A key listed twice.
    #[error("validator key {0} is listed twice")]
    DuplicateKey(PublicKey),
    /// Zero voting power.
    #[error("validator {0} has zero voting power")]
    ZeroPower(PublicKey),
    /// Total over [`MAX_TOTAL_POWER`].
    #[error("total voting power is over the limit")]
    PowerOverflow,
}

/// A validator set, ordered by key (canonical), with positive powers and no duplicates.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
}

impl ValidatorSet {
    /// Validates and sorts by key.
    pub fn new(mut validators: Vec<Validator>) -> Result<ValidatorSet, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        if validators.len() > MAX_VALIDATORS {
            return Err(ValidatorSetError::TooMany(validators.len()));
        }
        validators.sort_by_key(|v| v.key);
        let mut total: u64 = 0;
        for (i, v) in validators.iter().enumerate() {
            if v.power == 0 {
                return Err(ValidatorSetError::ZeroPower(v.key));
            }
            if i > 0 && validators[i - 1].key == v.key {
                return Err(ValidatorSetError::DuplicateKey(v.key));
            }
            total = total
                .checked_add(v.power)
                .ok_or(ValidatorSetError::PowerOverflow)?;
        }
        if total > MAX_TOTAL_POWER {
            return Err(ValidatorSetError::PowerOverflow);
        }
        Ok(ValidatorSet { validators })
    }

    /// The validators in canonical (key) order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Never true for a constructed set; present for API completeness.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Sum of voting power.
    pub fn total_power(&self) -> u64 {
        self.validators.iter().map(|v| v.power).sum()
    }

    /// Index of `key` in canonical order.
    pub fn index_of(&self, key: &PublicKey) -> Option<usize> {
        self.validators.binary_search_by(|v| v.key.cmp(key)).ok()
    }

    /// True iff `power` is strictly more than two thirds of the total.
    pub fn is_quorum(&self, power: u64) -> bool {
        // total <= u64::MAX / 4, so neither product overflows.
        power.saturating_mul(3) > self.total_power().saturating_mul(2)
    }

    /// `tagged_hash(VALIDATOR_SET, BCS(set))`.
    pub fn hash(&self) -> Hash {
        namespace::tagged_hash(namespace::VALIDATOR_SET, &encoding::to_bytes(self))
    }
}

impl<'de> Deserialize<'de> for ValidatorSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            validators: Vec<Validator>,
        }
        let raw = Raw::deserialize(d)?;
        let set = ValidatorSet::new(raw.validators.clone()).map_err(serde::de::Error::custom)?;
        if set.validators != raw.validators {
            return Err(serde::de::Error::custom(
                "validators are not in canonical key order",
            ));
        }
        Ok(set)
    }
}
