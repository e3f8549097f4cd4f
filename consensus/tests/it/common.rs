//! Test fixtures: a validator set with known keys, message signing for the "other"
//! validators (tests play them by hand), and a compact summary of outputs.

use concordat_consensus::{
    proposer, Engine, Input, Message, Output, Proposal, SafetyState, SignedProposal, SignedVote,
    TimeoutKind, Vote, VoteKind, Watermark,
};
use concordat_primitives::ledger::{Validator, ValidatorSet};
use concordat_primitives::{Hash, SecretKey};

pub const CHAIN: &str = "concordat-test";

/// A validator set whose secret keys we hold, indexed in canonical order.
pub struct Net {
    pub keys: Vec<SecretKey>,
    pub set: ValidatorSet,
}

impl Net {
    /// `powers.len()` validators; `keys[i]` has power `powers[i]` and is canonical index `i`.
    pub fn with_powers(powers: &[u64]) -> Net {
        let mut keys: Vec<SecretKey> = (0..powers.len())
            .map(|i| SecretKey::from_seed([i as u8 + 1; 32]))
            .collect();
        keys.sort_by_key(|k| k.public_key());
        let set = ValidatorSet::new(
            keys.iter()
                .zip(powers)
                .map(|(k, p)| Validator {
                    key: k.public_key(),
                    power: *p,
                })
                .collect(),
        )
        .unwrap();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(set.index_of(&k.public_key()), Some(i));
        }
        Net { keys, set }
    }

    /// `n` validators of power 1.
    pub fn equal(n: usize) -> Net {
        Net::with_powers(&vec![1; n])
    }

    /// Canonical index of the proposer of `(height, round)`.
    pub fn proposer(&self, height: u64, round: u32) -> usize {
        let key = proposer(&self.set, height, round);
        self.set.index_of(&key).unwrap()
    }

    /// The first validator that proposes none of `rounds` at `height`.
    pub fn non_proposer(&self, height: u64, rounds: std::ops::Range<u32>) -> usize {
        (0..self.keys.len())
            .find(|i| rounds.clone().all(|r| self.proposer(height, r) != *i))
            .unwrap()
    }

    /// A fresh engine for validator `me` (or an observer with `None`).
    pub fn engine(&self, height: u64, me: Option<usize>) -> Engine {
        self.engine_from(height, me, SafetyState::default())
    }

    /// An engine for `me` restarting from `safety`.
    pub fn engine_from(&self, height: u64, me: Option<usize>, safety: SafetyState) -> Engine {
        let key = me.map(|i| self.keys[i].clone());
        Engine::new(CHAIN, height, self.set.clone(), key, safety).unwrap()
    }

    /// Validator `i`'s vote, signed by hand.
    pub fn vote(
        &self,
        i: usize,
        kind: VoteKind,
        height: u64,
        round: u32,
        v: Option<Hash>,
    ) -> Input {
        Input::Vote(self.signed_vote(i, kind, height, round, v))
    }

    pub fn signed_vote(
        &self,
        i: usize,
        kind: VoteKind,
        height: u64,
        round: u32,
        block_hash: Option<Hash>,
    ) -> SignedVote {
        let vote = Vote {
            kind,
            height,
            round,
            block_hash,
        };
        SignedVote {
            vote,
            validator: self.keys[i].public_key(),
            signature: self.keys[i].sign(&vote.signing_bytes(CHAIN)),
        }
    }

    pub fn prevote(&self, i: usize, height: u64, round: u32, v: Option<Hash>) -> Input {
        self.vote(i, VoteKind::Prevote, height, round, v)
    }

    pub fn precommit(&self, i: usize, height: u64, round: u32, v: Option<Hash>) -> Input {
        self.vote(i, VoteKind::Precommit, height, round, v)
    }

    /// The proposal of `(height, round)` by its proposer, signed by hand.
    pub fn proposal(&self, height: u64, round: u32, block: Hash, pol: Option<u32>) -> Input {
        Input::Proposal(self.signed_proposal(
            self.proposer(height, round),
            height,
            round,
            block,
            pol,
        ))
    }

    pub fn signed_proposal(
        &self,
        i: usize,
        height: u64,
        round: u32,
        block_hash: Hash,
        pol_round: Option<u32>,
    ) -> SignedProposal {
        let proposal = Proposal {
            height,
            round,
            block_hash,
            pol_round,
        };
        SignedProposal {
            proposal,
            proposer: self.keys[i].public_key(),
            signature: self.keys[i].sign(&proposal.signing_bytes(CHAIN)),
        }
    }
}

/// A distinct block hash per `n`.
pub fn block(n: u8) -> Hash {
    Hash::digest(&[b'B', n])
}

/// What an output is, without signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Persist,
    Proposal(u32, Hash, Option<u32>),
    Prevote(u32, Option<Hash>),
    Precommit(u32, Option<Hash>),
    Timeout(TimeoutKind, u32),
    Request(u32, Option<Hash>),
    Validate(Hash),
    Decide(u32, Hash),
    Evidence,
}

pub fn summarize(outputs: &[Output]) -> Vec<Out> {
    outputs
        .iter()
        .map(|o| match o {
            Output::PersistSafety(_) => Out::Persist,
            Output::Broadcast(Message::Proposal(p)) => Out::Proposal(
                p.proposal.round,
                p.proposal.block_hash,
                p.proposal.pol_round,
            ),
            Output::Broadcast(Message::Vote(v)) => match v.vote.kind {
                VoteKind::Prevote => Out::Prevote(v.vote.round, v.vote.block_hash),
                VoteKind::Precommit => Out::Precommit(v.vote.round, v.vote.block_hash),
            },
            Output::ScheduleTimeout { kind, round, .. } => Out::Timeout(*kind, *round),
            Output::RequestProposal {
                round, valid_value, ..
            } => Out::Request(*round, *valid_value),
            Output::ValidateProposal { block_hash, .. } => Out::Validate(*block_hash),
            Output::Decide {
                round, block_hash, ..
            } => Out::Decide(*round, *block_hash),
            Output::Evidence(_) => Out::Evidence,
        })
        .collect()
}

/// The persistence contract: at most one `PersistSafety`, first, and its watermark covers
/// every signed message broadcast in the same step.
pub fn assert_persist_first(outputs: &[Output]) {
    let persists: Vec<usize> = outputs
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o, Output::PersistSafety(_)))
        .map(|(i, _)| i)
        .collect();
    assert!(
        persists.len() <= 1,
        "more than one PersistSafety: {outputs:?}"
    );
    let broadcasts: Vec<Watermark> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Broadcast(m) => Some(Watermark::of(m)),
            _ => None,
        })
        .collect();
    if broadcasts.is_empty() {
        return;
    }
    let Some(Output::PersistSafety(state)) = outputs.first() else {
        panic!("a Broadcast without a leading PersistSafety: {outputs:?}");
    };
    let mark = state.watermark().unwrap();
    for b in broadcasts {
        assert!(
            b <= mark,
            "broadcast {b:?} above the persisted watermark {mark:?}"
        );
    }
}
