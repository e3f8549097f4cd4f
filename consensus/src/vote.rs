//! Votes and their canonical signing bytes.
//!
//! The signed bytes are `signing_bytes(VOTE, chain_id, BCS(Vote))`: the namespace, the chain id,
//! the kind, height, round and block hash. No per-validator timestamp, so every precommit for
//! one block signs identical bytes and certificates stay compact.

use concordat_primitives::{encoding, namespace, Hash};
use serde::{Deserialize, Serialize};

/// Tendermint vote kinds.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VoteKind {
    /// First voting step.
    Prevote,
    /// Second voting step; a quorum of these commits a block.
    Precommit,
}

/// The content of a vote.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote {
    /// Prevote or precommit.
    pub kind: VoteKind,
    /// Height voted at.
    pub height: u64,
    /// Round within the height.
    pub round: u32,
    /// The header hash voted for, or `None` for nil.
    pub block_hash: Option<Hash>,
}

impl Vote {
    /// The exact bytes a validator signs for this vote on `chain_id`.
    pub fn signing_bytes(&self, chain_id: &str) -> Vec<u8> {
        namespace::signing_bytes(namespace::VOTE, chain_id, &encoding::to_bytes(self))
    }
}
