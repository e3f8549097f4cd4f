//! The votes of one height, per round and kind, with voting-power tallies.
//!
//! # Invariants
//! - At most one vote per `(round, kind, validator)` is kept and counted: the first one added.
//!   A later different vote of the same validator is an equivocation; the engine reports it
//!   and the keeper never counts it.
//! - For every `(round, kind)`, `power_any` is the sum of the powers of the kept votes and
//!   `power_for(value)` the sum over the kept votes for `value`.
//! - The keeper does not verify anything: the engine adds only votes whose signature, height
//!   and signer it has checked.

use std::collections::{BTreeMap, BTreeSet};

use concordat_primitives::{Hash, PublicKey, Signature};

use crate::types::SignedVote;
use crate::vote::VoteKind;

/// Outcome of [`VoteKeeper::add`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// A first vote of this validator for this round and kind: counted.
    Counted,
    /// The same vote again: ignored.
    Duplicate,
    /// A different vote of a validator that already voted: not counted. Holds the first one.
    Conflict(SignedVote),
}

#[derive(Debug, Clone, Default)]
struct Tally {
    votes: BTreeMap<PublicKey, SignedVote>,
    power_by_value: BTreeMap<Option<Hash>, u64>,
    power_any: u64,
}

/// Votes of one height. See the module documentation for its invariants.
#[derive(Debug, Clone, Default)]
pub struct VoteKeeper {
    tallies: BTreeMap<(u32, VoteKind), Tally>,
}

impl VoteKeeper {
    /// An empty keeper.
    pub fn new() -> VoteKeeper {
        VoteKeeper::default()
    }

    /// The counted vote of `validator` for `(round, kind)`.
    pub fn get(&self, round: u32, kind: VoteKind, validator: &PublicKey) -> Option<&SignedVote> {
        self.tallies.get(&(round, kind))?.votes.get(validator)
    }

    /// Adds a checked vote with its signer's `power`.
    pub fn add(&mut self, vote: SignedVote, power: u64) -> Added {
        let tally = self
            .tallies
            .entry((vote.vote.round, vote.vote.kind))
            .or_default();
        if let Some(first) = tally.votes.get(&vote.validator) {
            return if first.vote == vote.vote {
                Added::Duplicate
            } else {
                Added::Conflict(first.clone())
            };
        }
        let value = tally
            .power_by_value
            .entry(vote.vote.block_hash)
            .or_default();
        *value = value.saturating_add(power);
        tally.power_any = tally.power_any.saturating_add(power);
        tally.votes.insert(vote.validator, vote);
        Added::Counted
    }

    /// Power of the votes of `(round, kind)` for `value` (`None` is nil).
    pub fn power_for(&self, round: u32, kind: VoteKind, value: Option<Hash>) -> u64 {
        self.tallies
            .get(&(round, kind))
            .and_then(|t| t.power_by_value.get(&value).copied())
            .unwrap_or(0)
    }

    /// Power of all votes of `(round, kind)`, whatever their value.
    pub fn power_any(&self, round: u32, kind: VoteKind) -> u64 {
        self.tallies.get(&(round, kind)).map_or(0, |t| t.power_any)
    }

    /// `(validator, signature)` of the votes of `(round, kind)` for `value`, in key order.
    pub fn signatures_for(
        &self,
        round: u32,
        kind: VoteKind,
        value: Option<Hash>,
    ) -> Vec<(PublicKey, Signature)> {
        self.tallies
            .get(&(round, kind))
            .map(|t| {
                t.votes
                    .values()
                    .filter(|v| v.vote.block_hash == value)
                    .map(|v| (v.validator, v.signature))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Validators with a counted vote (of either kind) in `round`.
    pub fn voters(&self, round: u32) -> BTreeSet<PublicKey> {
        [VoteKind::Prevote, VoteKind::Precommit]
            .iter()
            .filter_map(|kind| self.tallies.get(&(round, *kind)))
            .flat_map(|t| t.votes.keys().copied())
            .collect()
    }

    /// Rounds strictly above `round` in which `validator` has a counted vote.
    pub fn rounds_above(&self, round: u32, validator: &PublicKey) -> BTreeSet<u32> {
        let start = round.saturating_add(1);
        if start == round {
            return BTreeSet::new();
        }
        self.tallies
            .range((start, VoteKind::Prevote)..)
            .filter(|(_, t)| t.votes.contains_key(validator))
            .map(|((r, _), _)| *r)
            .collect()
    }

    /// Every round with at least one vote, ascending.
    pub fn rounds(&self) -> BTreeSet<u32> {
        self.tallies.keys().map(|(r, _)| *r).collect()
    }
}
