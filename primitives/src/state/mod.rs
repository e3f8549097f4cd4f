//! The authenticated state of the ledger: a Jellyfish Merkle Tree (`jmt` 0.12, SHA-256)
//! behind our own API, versioned per block, with compact membership and absence proofs and a
//! pure verifier of our own.
//!
//! # What this module owns
//! - [`apply`]: computes the next version (root + [`StateUpdate`]) from writes, writing nothing;
//! - [`StateStore`]: the storage it reads, in plain bytes (no `jmt` type), so another crate can
//!   implement it on RocksDB column families; [`MemoryStore`] for tests and tools;
//! - [`root_at`], [`get`], [`get_with_proof`]: reads at any retained version;
//! - [`StateProof`] (32 bytes per non-placeholder sibling; byte format in [`proof`]) and its
//!   verifier [`verify_membership`] / [`verify_absence`] / [`verify`], which run no `jmt` code.
//!
//! # Invariants
//! - A state key is any non-empty byte string (callers prefix a namespace tag); it lives at
//!   `key_hash = SHA-256(key)`. A value is a non-empty byte string; writing `None` deletes.
//! - Version = block height. Genesis state is version 0; versions are applied consecutively
//!   (no gap, no rewrite: [`StateError::VersionNotNext`]) and every committed version has a
//!   root, including a version with no writes (its root is the previous root). `u64::MAX` is
//!   never a version (`jmt` reserves it as "pre-genesis").
//! - The root of the empty state is [`EMPTY_ROOT`], `jmt`'s placeholder: the 32 ASCII bytes
//!   `SPARSE_MERKLE_PLACEHOLDER_HASH__`, not a SHA-256 output.
//! - The tree is history-independent: the root depends only on the set of (key, value) pairs,
//!   never on insertion order or on keys inserted and later deleted.
//! - [`apply`] writes nothing: the caller persists the [`StateUpdate`] atomically with the rest
//!   of its block (the Penumbra bug, penumbra-zone/penumbra#4094, was writing nodes first).
//! - Every node that stops being reachable is listed in [`StateUpdate::stale`] with the version
//!   since which it is unreachable, so a host can prune versions below a retention bound.
//! - Pure: no IO, clock or randomness here. Caveat: `jmt`'s internal write cache uses a
//!   `std` `HashMap` (random seed), but drains it into ordered maps before anything is hashed
//!   or returned, so results are deterministic.
//! - Untrusted input never panics here; a corrupt *store* is reported as
//!   [`StateError::Corrupt`], though `jmt` itself may still panic on some corrupt node graphs.

mod adapter;
pub mod proof;
pub mod snapshot;
mod store;
mod tree;

pub use proof::{
    verify, verify_absence, verify_hashed, verify_membership, ProofLeaf, StateProof,
    StateProofError, EMPTY_ROOT, MAX_PROOF_BYTES, MAX_PROOF_SIBLINGS,
};
pub use store::{root_node_key, MemoryStore, StateStore, StoreError, ROOT_NODE_KEY_LEN};
pub use tree::{
    apply, get, get_with_proof, root_at, NodeWrite, StaleNode, StateUpdate, ValueWrite,
};

use crate::Hash;

/// Why a state operation failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    /// Versions must be applied (and committed) consecutively from 0.
    #[error("version {got} is not the next version (expected {expected})")]
    VersionNotNext {
        /// The only version that may be applied now.
        expected: u64,
        /// The version asked for.
        got: u64,
    },
    /// No version can follow the latest one.
    #[error("no version can follow the latest one (u64::MAX is reserved)")]
    VersionOverflow,
    /// The version was never committed, or has been pruned.
    #[error("state version {version} does not exist (never committed or pruned)")]
    VersionNotFound {
        /// The version asked for.
        version: u64,
    },
    /// State keys must be non-empty.
    #[error("state keys must be non-empty")]
    EmptyKey,
    /// Values must be non-empty (delete with `None`).
    #[error("empty value for key hash {key_hash}; delete with None instead")]
    EmptyValue {
        /// Hash of the offending key.
        key_hash: Hash,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store returned data that cannot be right.
    #[error("corrupt state store: {0}")]
    Corrupt(String),
    /// The tree library failed.
    #[error("state tree: {0}")]
    Tree(String),
}
