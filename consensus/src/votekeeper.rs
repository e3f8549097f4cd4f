//! The votes of one height, per round and kind, with voting-power tallies.
//!
//! # Invariants
//! - The first vote per `(round, kind, validator)` is the validator's counted vote: it alone
//!   counts towards `power_any` (so a validator counts once towards "2f+1 of anything" and
//!   towards round skips).
//! - A later different vote of the same validator is an equivocation; the engine reports it.
//!   It ALSO counts towards `power_for` of its own value (at most [`MAX_VALUES_PER_VALIDATOR`]
//!   made-up values per validator, round and kind; nil and proposed blocks always count, so
//!   that made-up values cannot crowd out the one a proof-of-lock needs). This is safe: two quorums for different values
//!   intersect in more than 1/3 of the power, so in at least one honest validator, and honest
//!   validators never vote twice; counting a Byzantine validator's votes for every value it
//!   signed can therefore never complete two conflicting quorums that honest votes could not.
//!   It is needed for liveness: otherwise an equivocator can show one value to some honest
//!   nodes and another to the rest, so that a proof-of-lock that one honest node saw can never
//!   be completed at the others (they counted the equivocator's other vote first), and a
//!   locked node waits forever.
//! - For every `(round, kind)`, `power_for(value)` is the sum of the powers of the validators
//!   with a vote for `value`, and `signatures_for(value)` their signatures.
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

/// Most distinct values one validator's votes count for in one round and kind.
pub const MAX_VALUES_PER_VALIDATOR: usize = 4;

#[derive(Debug, Clone, Default)]
struct Tally {
    votes: BTreeMap<PublicKey, SignedVote>,
    by_value: BTreeMap<Option<Hash>, BTreeMap<PublicKey, Signature>>,
    power_by_value: BTreeMap<Option<Hash>, u64>,
    power_any: u64,
}

impl Tally {
    fn count_for_value(&mut self, vote: &SignedVote, power: u64) {
        self.by_value
            .entry(vote.vote.block_hash)
            .or_default()
            .insert(vote.validator, vote.signature);
        let value = self.power_by_value.entry(vote.vote.block_hash).or_default();
        *value = value.saturating_add(power);
    }
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
        tally.count_for_value(&vote, power);
        tally.power_any = tally.power_any.saturating_add(power);
        tally.votes.insert(vote.validator, vote);
        Added::Counted
    }

    /// True iff `validator` has a vote (first or equivocating) for `value` in `(round, kind)`.
    pub fn has_vote_for(
        &self,
        round: u32,
        kind: VoteKind,
        validator: &PublicKey,
        value: Option<Hash>,
    ) -> bool {
        self.tallies
            .get(&(round, kind))
            .and_then(|t| t.by_value.get(&value))
            .is_some_and(|m| m.contains_key(validator))
    }

    /// Counts an equivocating (checked) vote towards its own value only, unless the validator
    /// already has votes for [`MAX_VALUES_PER_VALIDATOR`] values and the value is not `known`
    /// (the engine passes `known` for nil and for blocks proposed at this height: their count
    /// may decide a proof-of-lock, so an equivocator must not be able to crowd them out by
    /// signing many made-up values first). Returns whether it counted.
    pub fn add_equivocation(&mut self, vote: SignedVote, power: u64, known: bool) -> bool {
        let tally = self
            .tallies
            .entry((vote.vote.round, vote.vote.kind))
            .or_default();
        let values = tally
            .by_value
            .values()
            .filter(|m| m.contains_key(&vote.validator))
            .count();
        let already = tally
            .by_value
            .get(&vote.vote.block_hash)
            .is_some_and(|m| m.contains_key(&vote.validator));
        if already || (values >= MAX_VALUES_PER_VALIDATOR && !known) {
            return false;
        }
        tally.count_for_value(&vote, power);
        true
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
            .and_then(|t| t.by_value.get(&value))
            .map(|m| m.iter().map(|(k, s)| (*k, *s)).collect())
            .unwrap_or_default()
    }

    /// Every vote held for `(round, kind)` at `height`, counted or equivocating, in value then
    /// key order (what a node relays so that peers can complete the same tallies).
    pub fn all_votes(&self, height: u64, round: u32, kind: VoteKind) -> Vec<SignedVote> {
        let Some(t) = self.tallies.get(&(round, kind)) else {
            return Vec::new();
        };
        t.by_value
            .iter()
            .flat_map(|(value, signers)| {
                signers
                    .iter()
                    .map(move |(validator, signature)| SignedVote {
                        vote: crate::vote::Vote {
                            kind,
                            height,
                            round,
                            block_hash: *value,
                        },
                        validator: *validator,
                        signature: *signature,
                    })
            })
            .collect()
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
