//! The engine: Tendermint (arXiv:1807.04938, Algorithm 1) for ONE height, as a sans-IO state
//! machine. [`Engine::handle`] takes one [`Input`] and returns the [`Output`]s the node must
//! perform, in order.
//!
//! The state is the paper's: `round_p`, `step_p`, `lockedValue/lockedRound`,
//! `validValue/validRound` and `decision_p`, plus the message log of this height (proposals
//! per round, the [`VoteKeeper`], the validity answers of the node). A node runs one engine per
//! height and builds a new one for `h + 1` after [`Output::Decide`] (that is the paper's lines
//! 52-54: the next height starts from empty state, with the validator set of `h + 1`).
//!
//! Where things live: input handlers in `handle/` (one file per input), the `upon` rules of
//! lines 22-56 in `rules.rs`, signing in [`crate::safety`].
//!
//! # Invariants
//! - Every message counted is signed by a member of this height's set, verified with the one
//!   ed25519 rule, and is the first of its signer for its `(round, kind)`.
//! - A refused input ([`InputError`]) changes nothing and produces no output.
//! - The engine signs only through [`SafetyRules`]; when it broadcasts a signed message, the
//!   first output of the same call is [`Output::PersistSafety`] with the state that covers it.
//! - `round` never decreases; `step` only moves forward within a round; after `Decided`
//!   every input is refused.
//! - Memory is bounded per validator: messages of rounds above ours are kept for at most
//!   [`MAX_FUTURE_ROUNDS_PER_VALIDATOR`] distinct rounds per signer.

use std::collections::{BTreeMap, BTreeSet};

use concordat_primitives::ledger::ValidatorSet;
use concordat_primitives::{Hash, PublicKey, SecretKey};

use crate::certificate::CommitCertificate;
use crate::config::TimeoutConfig;
use crate::error::{InputError, SafetyError};
use crate::evidence::Equivocation;
use crate::proposer::proposer;
use crate::safety::{SafetyRules, SafetyState, Watermark};
use crate::types::{Input, Message, Output, RoundValue, SignedProposal, Step, TimeoutKind};
use crate::vote::{Vote, VoteKind};
use crate::votekeeper::VoteKeeper;

/// How many distinct rounds above ours one validator may fill with messages before further
/// rounds of that validator are dropped (enough to follow honest validators that are ahead,
/// which needs only their latest round; the rest would be a memory attack).
pub const MAX_FUTURE_ROUNDS_PER_VALIDATOR: usize = 4;

/// The decision of the height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Round whose precommits decided.
    pub round: u32,
    /// The decided block.
    pub block_hash: Hash,
    /// The commit certificate.
    pub certificate: CommitCertificate,
}

/// "for the first time" rules that fire once per round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Once {
    /// Line 34.
    PrevoteTimeout,
    /// Line 36.
    Polka,
    /// Line 47.
    PrecommitTimeout,
}

/// We are the proposer of `round` and asked the node for a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AwaitedValue {
    pub(crate) round: u32,
    pub(crate) valid_value: Option<Hash>,
}

/// Tendermint for one height. See the module documentation.
#[derive(Debug)]
pub struct Engine {
    pub(crate) chain_id: String,
    pub(crate) height: u64,
    pub(crate) validators: ValidatorSet,
    /// Our signer, present iff we hold a key of this height's set.
    pub(crate) signer: Option<SafetyRules>,
    pub(crate) timeouts: TimeoutConfig,
    pub(crate) first_round: u32,
    pub(crate) round: u32,
    pub(crate) step: Step,
    pub(crate) locked: Option<RoundValue>,
    pub(crate) valid: Option<RoundValue>,
    pub(crate) decision: Option<Decision>,
    pub(crate) proposals: BTreeMap<u32, SignedProposal>,
    pub(crate) validity: BTreeMap<Hash, bool>,
    pub(crate) validation_requested: BTreeSet<Hash>,
    pub(crate) votes: VoteKeeper,
    pub(crate) once: BTreeSet<(u32, Once)>,
    pub(crate) awaiting_value: Option<AwaitedValue>,
    pub(crate) evidence: Vec<Equivocation>,
    pub(crate) reported: BTreeSet<(PublicKey, u32, Option<VoteKind>)>,
    pub(crate) refusals: u64,
    pub(crate) out: Vec<Output>,
    pub(crate) persist: bool,
}

impl Engine {
    /// An engine for `height` of `chain_id` under `validators`.
    ///
    /// `key` is this node's consensus key (`None` for an observer; a key outside the set also
    /// makes an observer). `safety` is the last persisted [`SafetyState`] of that key. If it
    /// holds a lock at `height` (the node crashed mid-height), the lock is restored and the
    /// height starts at the watermark's round instead of 0: skipping rounds is always safe,
    /// and it avoids re-walking rounds in which we could not vote anyway.
    ///
    /// Nothing happens until [`Input::StartHeight`].
    pub fn new(
        chain_id: &str,
        height: u64,
        validators: ValidatorSet,
        key: Option<SecretKey>,
        safety: SafetyState,
    ) -> Result<Engine, SafetyError> {
        let signer = match key {
            Some(key) => Some(SafetyRules::new(chain_id, key, safety)?),
            None => None,
        }
        .filter(|s| validators.index_of(&s.public_key()).is_some());
        let restored = signer.as_ref().map(|s| s.state());
        let lock = restored.and_then(|s| s.lock_at(height));
        let first_round = restored
            .and_then(|s| s.watermark())
            .filter(|w| w.height == height)
            .map_or(0, |w| w.round);
        let mut engine = Engine {
            chain_id: chain_id.to_owned(),
            height,
            validators,
            signer,
            timeouts: TimeoutConfig::default(),
            first_round,
            round: 0,
            step: Step::Unstarted,
            locked: lock,
            valid: lock,
            decision: None,
            proposals: BTreeMap::new(),
            validity: BTreeMap::new(),
            validation_requested: BTreeSet::new(),
            votes: VoteKeeper::new(),
            once: BTreeSet::new(),
            awaiting_value: None,
            evidence: Vec::new(),
            reported: BTreeSet::new(),
            refusals: 0,
            out: Vec::new(),
            persist: false,
        };
        engine.restore_own_messages();
        Ok(engine)
    }

    /// Replaces the default timeouts.
    pub fn with_timeouts(mut self, timeouts: TimeoutConfig) -> Engine {
        self.timeouts = timeouts;
        self
    }

    /// Handles one input; a refused input yields no output (see [`Engine::try_handle`]).
    ///
    /// The outputs must be performed in order; see [`Output`] for the persistence contract.
    pub fn handle(&mut self, input: Input) -> Vec<Output> {
        self.try_handle(input).unwrap_or_default()
    }

    /// Handles one input and says why it was refused, if it was (for logs and peer scoring).
    ///
    /// # Panics
    /// If a handler produced output before refusing its input (a bug).
    pub fn try_handle(&mut self, input: Input) -> Result<Vec<Output>, InputError> {
        if self.step == Step::Decided {
            return Err(InputError::Decided);
        }
        let accepted = match input {
            Input::StartHeight => self.on_start_height(),
            Input::Proposal(p) => self.on_proposal(p),
            Input::Vote(v) => self.on_vote(v),
            Input::TimeoutElapsed {
                kind,
                height,
                round,
            } => {
                self.on_timeout(kind, height, round);
                Ok(())
            }
            Input::ProposalValidity {
                round,
                block_hash,
                valid,
            } => self.on_validity(round, block_hash, valid),
            Input::ProposeValue { round, block_hash } => self.on_propose_value(round, block_hash),
        };
        if let Err(e) = accepted {
            assert!(self.out.is_empty(), "a refused input produced output");
            return Err(e);
        }
        self.apply_rules();
        Ok(self.take_outputs())
    }

    /// Moves the collected outputs out, with `PersistSafety` first when something was signed.
    fn take_outputs(&mut self) -> Vec<Output> {
        let mut out = core::mem::take(&mut self.out);
        if core::mem::take(&mut self.persist) {
            if let Some(signer) = &self.signer {
                out.insert(0, Output::PersistSafety(signer.state().clone()));
            }
        }
        out
    }

    // ----- helpers shared by handlers and rules -----

    /// Signs `kind` for `block_hash` in the current round through the safety rules, counts it
    /// and broadcasts it. A refusal (e.g. after a restart) is counted and nothing is sent.
    pub(crate) fn cast_vote(
        &mut self,
        kind: VoteKind,
        block_hash: Option<Hash>,
        pol_round: Option<u32>,
    ) {
        let vote = Vote {
            kind,
            height: self.height,
            round: self.round,
            block_hash,
        };
        let Some(signer) = self.signer.as_mut() else {
            return;
        };
        let signed = match signer.sign_vote(vote, pol_round) {
            Ok(signed) => {
                self.persist = true;
                signed
            }
            Err(_) => {
                self.refusals = self.refusals.saturating_add(1);
                // We signed another vote at this step before a restart: that one is our vote.
                // Count it and send it again (peers may never have received it); it is
                // already durable, so nothing needs persisting.
                match signer.state().signed_at(Watermark::of_vote(&vote)) {
                    Some(Message::Vote(stored)) => stored.clone(),
                    _ => return,
                }
            }
        };
        let power = self.power_of(&signed.validator).unwrap_or(0);
        self.votes.add(signed.clone(), power);
        self.out.push(Output::Broadcast(Message::Vote(signed)));
    }

    /// Counts the messages this node signed in the round it was in when it stopped (they are
    /// in the persisted safety state), so a restarted validator sees its own votes.
    fn restore_own_messages(&mut self) {
        let Some(state) = self.signer.as_ref().map(|s| s.state().clone()) else {
            return;
        };
        for m in state.signed_in_round() {
            if m.height() != self.height {
                continue;
            }
            match m {
                Message::Vote(v) => {
                    let power = self.power_of(&v.validator).unwrap_or(0);
                    self.votes.add(v, power);
                }
                Message::Proposal(p) => {
                    self.proposals.entry(p.proposal.round).or_insert(p);
                }
            }
        }
    }

    /// Emits a timeout of `kind` for the current round.
    pub(crate) fn schedule_timeout(&mut self, kind: TimeoutKind) {
        self.out.push(Output::ScheduleTimeout {
            kind,
            height: self.height,
            round: self.round,
            duration_ms: self.timeouts.duration_ms(kind, self.round),
        });
    }

    /// Voting power of `key` in this height's set.
    pub(crate) fn power_of(&self, key: &PublicKey) -> Option<u64> {
        self.validators
            .index_of(key)
            .map(|i| self.validators.validators()[i].power)
    }

    /// "2f + 1": strictly more than 2/3 of the total power.
    pub(crate) fn is_quorum(&self, power: u64) -> bool {
        self.validators.is_quorum(power)
    }

    /// "f + 1": strictly more than 1/3 of the total power.
    pub(crate) fn is_one_third(&self, power: u64) -> bool {
        // total <= MAX_TOTAL_POWER = u64::MAX / 4, so the products do not overflow.
        power.saturating_mul(3) > self.validators.total_power()
    }

    /// Our key, if we are a validator of this height.
    pub(crate) fn me(&self) -> Option<PublicKey> {
        self.signer.as_ref().map(SafetyRules::public_key)
    }

    /// The proposer of `round` at this height.
    pub(crate) fn proposer_of(&self, round: u32) -> PublicKey {
        proposer(&self.validators, self.height, round)
    }

    /// The node's `valid(v)` answer, if it arrived.
    pub(crate) fn validity_of(&self, block_hash: &Hash) -> Option<bool> {
        self.validity.get(block_hash).copied()
    }

    /// Records evidence once per `(offender, round, kind)` and emits it.
    pub(crate) fn report(&mut self, evidence: Equivocation, round: u32, kind: Option<VoteKind>) {
        if self.reported.insert((evidence.offender(), round, kind)) {
            self.evidence.push(evidence.clone());
            self.out.push(Output::Evidence(evidence));
        }
    }

    // ----- read-only accessors -----

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The height this engine decides.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The current round (`round_p`).
    pub fn round(&self) -> u32 {
        self.round
    }

    /// The current step (`step_p`).
    pub fn step(&self) -> Step {
        self.step
    }

    /// `lockedValue/lockedRound`, `None` for `nil/-1`.
    pub fn locked(&self) -> Option<RoundValue> {
        self.locked
    }

    /// `validValue/validRound`, `None` for `nil/-1`.
    pub fn valid(&self) -> Option<RoundValue> {
        self.valid
    }

    /// The decision, once made.
    pub fn decision(&self) -> Option<&Decision> {
        self.decision.as_ref()
    }

    /// The validator set of this height.
    pub fn validators(&self) -> &ValidatorSet {
        &self.validators
    }

    /// Equivocations seen at this height.
    pub fn evidence(&self) -> &[Equivocation] {
        &self.evidence
    }

    /// The signer's safety state (`None` for an observer).
    pub fn safety_state(&self) -> Option<&SafetyState> {
        self.signer.as_ref().map(SafetyRules::state)
    }

    /// How many times the safety rules refused to sign for this engine.
    pub fn signing_refusals(&self) -> u64 {
        self.refusals
    }

    /// The proposal kept for `round`.
    pub fn proposal(&self, round: u32) -> Option<&SignedProposal> {
        self.proposals.get(&round)
    }

    /// The votes of this height.
    pub fn votes(&self) -> &VoteKeeper {
        &self.votes
    }

    /// What a node relays when its height stalls, so that every honest node can complete the
    /// tallies the rules of lines 28, 34, 36, 44, 47 and 55 need although Tendermint assumes
    /// gossip: the proposals and every vote (equivocations included) of the current and the
    /// previous round, and the proposal and prevotes of the valid round (its proof-of-lock).
    /// Bounded: at most 3 proposals and `2 × 3 × validators × MAX_VALUES_PER_VALIDATOR` votes.
    pub fn relay_messages(&self) -> Vec<Message> {
        let mut rounds = vec![self.round];
        if self.round > 0 {
            rounds.push(self.round - 1);
        }
        let mut out = Vec::new();
        let valid_round = self.valid.map(|v| v.round);
        let proposal_rounds: BTreeSet<u32> = rounds.iter().copied().chain(valid_round).collect();
        for r in proposal_rounds {
            if let Some(p) = self.proposals.get(&r) {
                out.push(Message::Proposal(p.clone()));
            }
        }
        for r in rounds {
            for kind in [VoteKind::Prevote, VoteKind::Precommit] {
                out.extend(
                    self.votes
                        .all_votes(self.height, r, kind)
                        .into_iter()
                        .map(Message::Vote),
                );
            }
        }
        if let Some(vr) = valid_round.filter(|vr| *vr + 1 < self.round) {
            out.extend(
                self.votes
                    .all_votes(self.height, vr, VoteKind::Prevote)
                    .into_iter()
                    .map(Message::Vote),
            );
        }
        out
    }
}
