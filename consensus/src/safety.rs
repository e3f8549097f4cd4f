//! Safety rules: the ONLY code in Concordat that signs consensus messages (votes and
//! proposals), and the state that must survive a crash so that a validator never signs two
//! conflicting messages.
//!
//! # State
//! [`SafetyState`] holds the last message signed (which defines the *watermark*
//! `(height, round, step)`, ordered lexicographically with `Propose < Prevote < Precommit`)
//! and the *lock*: the block and round of the last non-nil precommit at the watermark's
//! height (the paper's `lockedValue`/`lockedRound`, lines 38-39).
//!
//! # Conditions, checked on every signing request
//! 1. **Monotonic.** A request whose `(height, round, step)` is below the watermark is refused.
//! 2. **One message per step.** A request AT the watermark, or at an earlier step of the
//!    watermark's round whose message is still held (see [`SafetyState::signed_in_round`]), is
//!    answered with the stored message (same signature, nothing re-signed) if it asks for the
//!    same content, and refused otherwise. So a re-request after a crash or a retry is
//!    idempotent, and a different block (or nil instead of a block) at the same step is never
//!    signed. The engine answers such a refusal by counting and sending the stored message
//!    (what it actually signed), so a restarted validator never goes silent in its round.
//! 3. **Lock.** A prevote for a block `B` at height `h`, round `r`, while locked on another
//!    block at `h` since round `lr`, is signed only with a proof-of-lock claim `vr` such that
//!    `lr <= vr < r` (paper lines 23 and 29). A prevote for nil or for the locked block is
//!    always allowed by this condition.
//! 4. **Lock update.** Signing a non-nil precommit for `B` at `(h, r)` sets the lock to
//!    `(h, r, B)`. A lock from a lower height is void.
//! 5. **Well-formed proposals.** A proposal's proof-of-lock round is below its round.
//! 6. **Persist before send.** Every successful request changes (or re-confirms) the state;
//!    the caller must store [`SafetyRules::state`] durably (synced) before the signed message
//!    leaves the node. The engine enforces this by emitting `Output::PersistSafety` as the
//!    first output of the step (see [`crate::Output`]).
//!
//! Conditions 1, 2 and 6 together make double signing impossible across crashes, provided
//! the node restarts from the last persisted state.

use concordat_primitives::{Hash, PublicKey, SecretKey};
use serde::{Deserialize, Serialize};

use crate::error::SafetyError;
use crate::types::{Message, Proposal, RoundValue, SignedProposal, SignedVote};
use crate::vote::{Vote, VoteKind};

/// The signing step, ordered as the steps of a round.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SignStep {
    /// A proposal.
    Propose,
    /// A prevote.
    Prevote,
    /// A precommit.
    Precommit,
}

/// A point in `(height, round, step)`, ordered lexicographically.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Watermark {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// Step.
    pub step: SignStep,
}

impl Watermark {
    /// The point of a signed (or to-be-signed) message.
    pub fn of(message: &Message) -> Watermark {
        match message {
            Message::Proposal(p) => Watermark::of_proposal(&p.proposal),
            Message::Vote(v) => Watermark::of_vote(&v.vote),
        }
    }

    /// The point of a proposal.
    pub fn of_proposal(p: &Proposal) -> Watermark {
        Watermark {
            height: p.height,
            round: p.round,
            step: SignStep::Propose,
        }
    }

    /// The point of a vote.
    pub fn of_vote(v: &Vote) -> Watermark {
        let step = match v.kind {
            VoteKind::Prevote => SignStep::Prevote,
            VoteKind::Precommit => SignStep::Precommit,
        };
        Watermark {
            height: v.height,
            round: v.round,
            step,
        }
    }
}

/// A lock: the last non-nil precommit's block and round at `height`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lock {
    /// Height of the precommit.
    pub height: u64,
    /// Round of the precommit.
    pub round: u32,
    /// The block precommitted.
    pub block_hash: Hash,
}

/// What must be persisted (synced) before a signed message leaves the node.
///
/// `SafetyState::default()` is the state of a validator that never signed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct SafetyState {
    last_signed: Option<Message>,
    lock: Option<Lock>,
    /// Our other messages of the watermark's height, in its round and the round before,
    /// signed before `last_signed` (at most five), so that a restarted node can count and
    /// re-send every message it signed in the round it was in and the one before, not only
    /// the last one. (A node can be one round ahead of the rest: they may still need its
    /// precommit of the round before to time out and follow.)
    earlier: Vec<Message>,
}

impl SafetyState {
    /// The `(height, round, step)` of the last signed message, if any.
    pub fn watermark(&self) -> Option<Watermark> {
        self.last_signed.as_ref().map(Watermark::of)
    }

    /// The last signed message.
    pub fn last_signed(&self) -> Option<&Message> {
        self.last_signed.as_ref()
    }

    /// Every message still held of the watermark's height (its round and the round before),
    /// in signing order (the last one is [`SafetyState::last_signed`]). A restarted node
    /// counts these as its own and sends them again.
    pub fn signed_in_round(&self) -> Vec<Message> {
        self.earlier
            .iter()
            .chain(self.last_signed.iter())
            .cloned()
            .collect()
    }

    /// The message signed at exactly `point`, if it is still held (see
    /// [`SafetyState::signed_in_round`]).
    pub fn signed_at(&self, point: Watermark) -> Option<&Message> {
        self.earlier
            .iter()
            .chain(self.last_signed.iter())
            .find(|m| Watermark::of(m) == point)
    }

    /// A state from the two fields of the first stored format (before `earlier` existed).
    pub fn from_parts(last_signed: Option<Message>, lock: Option<Lock>) -> SafetyState {
        SafetyState {
            last_signed,
            lock,
            earlier: Vec::new(),
        }
    }

    /// Records `message` as the new last signed one, keeping the earlier messages of the same
    /// height in its round and the round before (at most five besides the last one).
    fn record(&mut self, message: Message) {
        let next = Watermark::of(&message);
        if let Some(prev) = self.last_signed.take() {
            self.earlier.push(prev);
        }
        self.earlier.retain(|m| {
            let w = Watermark::of(m);
            w.height == next.height && w.round.saturating_add(1) >= next.round
        });
        self.last_signed = Some(message);
    }

    /// The lock, if it is at `height`.
    pub fn lock_at(&self, height: u64) -> Option<RoundValue> {
        self.lock
            .filter(|l| l.height == height)
            .map(|l| RoundValue {
                round: l.round,
                block_hash: l.block_hash,
            })
    }

    fn signer(&self) -> Option<PublicKey> {
        match self.last_signed.as_ref()? {
            Message::Proposal(p) => Some(p.proposer),
            Message::Vote(v) => Some(v.validator),
        }
    }
}

/// The signer: a key, the chain it signs for, and its [`SafetyState`].
pub struct SafetyRules {
    chain_id: String,
    key: SecretKey,
    public: PublicKey,
    state: SafetyState,
}

impl core::fmt::Debug for SafetyRules {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SafetyRules")
            .field("chain_id", &self.chain_id)
            .field("public", &self.public)
            .field("state", &self.state)
            .finish()
    }
}

impl SafetyRules {
    /// A signer for `chain_id` restarting from `state` (the last persisted one).
    pub fn new(chain_id: &str, key: SecretKey, state: SafetyState) -> Result<Self, SafetyError> {
        let public = key.public_key();
        if let Some(found) = state.signer().filter(|k| *k != public) {
            return Err(SafetyError::ForeignState {
                expected: public,
                found,
            });
        }
        Ok(SafetyRules {
            chain_id: chain_id.to_owned(),
            key,
            public,
            state,
        })
    }

    /// The signer's public key.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The state to persist before sending what was last signed (condition 6).
    pub fn state(&self) -> &SafetyState {
        &self.state
    }

    /// Signs a proposal under conditions 1, 2 and 5.
    pub fn sign_proposal(&mut self, proposal: Proposal) -> Result<SignedProposal, SafetyError> {
        if let Some(pol_round) = proposal.pol_round.filter(|vr| *vr >= proposal.round) {
            return Err(SafetyError::BadPolRound {
                round: proposal.round,
                pol_round,
            });
        }
        let same = |m: &Message| matches!(m, Message::Proposal(p) if p.proposal == proposal);
        if let Some(Message::Proposal(stored)) =
            self.check_watermark(Watermark::of_proposal(&proposal), same)?
        {
            return Ok(stored);
        }
        let signed = SignedProposal {
            proposal,
            proposer: self.public,
            signature: self.key.sign(&proposal.signing_bytes(&self.chain_id)),
        };
        self.state.record(Message::Proposal(signed.clone()));
        Ok(signed)
    }

    /// Signs a vote under conditions 1-4. `pol_round` is the proof-of-lock round that
    /// justifies a prevote (the proposal's valid round, when the engine acted on line 28).
    pub fn sign_vote(
        &mut self,
        vote: Vote,
        pol_round: Option<u32>,
    ) -> Result<SignedVote, SafetyError> {
        let same = |m: &Message| matches!(m, Message::Vote(v) if v.vote == vote);
        if let Some(Message::Vote(stored)) =
            self.check_watermark(Watermark::of_vote(&vote), same)?
        {
            return Ok(stored);
        }
        if vote.kind == VoteKind::Prevote {
            self.check_lock(&vote, pol_round)?;
        }
        let signed = SignedVote {
            vote,
            validator: self.public,
            signature: self.key.sign(&vote.signing_bytes(&self.chain_id)),
        };
        if let (VoteKind::Precommit, Some(block_hash)) = (vote.kind, vote.block_hash) {
            self.state.lock = Some(Lock {
                height: vote.height,
                round: vote.round,
                block_hash,
            });
        }
        self.state.record(Message::Vote(signed.clone()));
        Ok(signed)
    }

    /// Conditions 1 and 2: `Ok(Some(stored))` for a re-request, `Ok(None)` for a request above
    /// the watermark.
    fn check_watermark(
        &self,
        requested: Watermark,
        same_content: impl Fn(&Message) -> bool,
    ) -> Result<Option<Message>, SafetyError> {
        let Some(last) = &self.state.last_signed else {
            return Ok(None);
        };
        let watermark = Watermark::of(last);
        if let Some(stored) = self.state.signed_at(requested) {
            // A re-request of a message of this round (e.g. after a restart): the stored one
            // if the content is the same, refused otherwise.
            return if same_content(stored) {
                Ok(Some(stored.clone()))
            } else {
                Err(SafetyError::Conflict(requested))
            };
        }
        if requested < watermark {
            return Err(SafetyError::Regression {
                watermark,
                requested,
            });
        }
        Ok(None)
    }

    /// Condition 3.
    fn check_lock(&self, vote: &Vote, pol_round: Option<u32>) -> Result<(), SafetyError> {
        let (Some(block), Some(lock)) = (vote.block_hash, self.state.lock_at(vote.height)) else {
            return Ok(());
        };
        let justified = pol_round.is_some_and(|vr| lock.round <= vr && vr < vote.round);
        if block == lock.block_hash || justified {
            return Ok(());
        }
        Err(SafetyError::LockViolation {
            locked_round: lock.round,
            locked_block: lock.block_hash,
            round: vote.round,
            pol_round,
        })
    }
}
