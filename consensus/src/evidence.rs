//! Equivocation evidence: two conflicting messages signed by one validator.
//!
//! Invariant: an [`Equivocation`] produced by the engine always passes
//! [`Equivocation::verify`]: both signatures hold under the one ed25519 rule, the signer is in
//! the height's validator set, and the two messages share height, round (and vote kind) but
//! differ in content. Anyone holding the validator set can check it offline.

use concordat_primitives::ledger::ValidatorSet;
use serde::{Deserialize, Serialize};

use crate::types::{SignedProposal, SignedVote};

/// Proof that a validator equivocated.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum Equivocation {
    /// Two different votes of one kind for one height and round.
    Vote {
        /// The vote that was counted.
        first: SignedVote,
        /// The conflicting vote (not counted).
        second: SignedVote,
    },
    /// Two different proposals for one height and round.
    Proposal {
        /// The proposal that was kept.
        first: SignedProposal,
        /// The conflicting proposal (ignored).
        second: SignedProposal,
    },
}

impl Equivocation {
    /// True iff this is valid evidence against a member of `set` on `chain_id`.
    pub fn verify(&self, chain_id: &str, set: &ValidatorSet) -> bool {
        match self {
            Equivocation::Vote { first, second } => {
                let (a, b) = (&first.vote, &second.vote);
                first.validator == second.validator
                    && set.index_of(&first.validator).is_some()
                    && (a.kind, a.height, a.round) == (b.kind, b.height, b.round)
                    && a.block_hash != b.block_hash
                    && first.verify(chain_id).is_ok()
                    && second.verify(chain_id).is_ok()
            }
            Equivocation::Proposal { first, second } => {
                let (a, b) = (&first.proposal, &second.proposal);
                first.proposer == second.proposer
                    && set.index_of(&first.proposer).is_some()
                    && (a.height, a.round) == (b.height, b.round)
                    && a != b
                    && first.verify(chain_id).is_ok()
                    && second.verify(chain_id).is_ok()
            }
        }
    }

    /// The validator that equivocated.
    pub fn offender(&self) -> concordat_primitives::PublicKey {
        match self {
            Equivocation::Vote { first, .. } => first.validator,
            Equivocation::Proposal { first, .. } => first.proposer,
        }
    }
}
