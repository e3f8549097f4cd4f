//! Concordat primitives: the small, pure building blocks every other crate shares.
//!
//! This crate owns the formats that are expensive to change: the SHA-256 [`Hash`], the one
//! ed25519 verification rule ([`crypto`]), canonical BCS encoding ([`encoding`]), signing
//! namespaces ([`namespace`]), the RFC 9162 Merkle log ([`merkle_log`]), the authenticated
//! state tree and its compact proofs ([`state`]), and the ledger header and validator set
//! ([`ledger`]).
//!
//! # Invariants
//! - No IO, no clock, no OS randomness: randomness and time come in as arguments.
//! - Everything hashed or signed is canonical BCS; decoding rejects any other bytes.
//! - `BTreeMap`/`BTreeSet` only where order can reach a hash.

pub mod crypto;
pub mod encoding;
pub mod hash;
pub mod json;
pub mod keyfile;
pub mod ledger;
pub mod merkle_log;
pub mod namespace;
pub mod state;
pub mod time;

pub use crypto::{PublicKey, SecretKey, Signature};
pub use hash::Hash;
