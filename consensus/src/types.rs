//! Wire types (proposals, signed votes, messages) and the engine's inputs and outputs.
//!
//! Everything signed is signed over `signing_bytes(namespace, chain_id, BCS(content))`: votes
//! under `VOTE` (see [`crate::vote`]), proposals under `PROPOSAL`. Only the [`crate::safety`]
//! module produces these signatures.

use concordat_primitives::crypto::CryptoError;
use concordat_primitives::{encoding, namespace, Hash, PublicKey, Signature};
use serde::{Deserialize, Serialize};

use crate::certificate::CommitCertificate;
use crate::evidence::Equivocation;
use crate::safety::SafetyState;
use crate::vote::Vote;

/// The content of a proposal: `⟨PROPOSAL, h, r, v, vr⟩` of the paper (line 19).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposal {
    /// Height proposed at.
    pub height: u64,
    /// Round within the height.
    pub round: u32,
    /// Header hash of the proposed block: the paper's value id, `id(v)`.
    pub block_hash: Hash,
    /// The paper's `validRound` (`vr`): the round of a proof-of-lock for this block, or
    /// `None` for `-1`. Always lower than `round` when present.
    pub pol_round: Option<u32>,
}

impl Proposal {
    /// The exact bytes a proposer signs for this proposal on `chain_id`.
    pub fn signing_bytes(&self, chain_id: &str) -> Vec<u8> {
        namespace::signing_bytes(namespace::PROPOSAL, chain_id, &encoding::to_bytes(self))
    }
}

/// A proposal with its proposer's key and signature.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SignedProposal {
    /// What is proposed.
    pub proposal: Proposal,
    /// The proposer (must be `proposer(set, height, round)`).
    pub proposer: PublicKey,
    /// Signature over [`Proposal::signing_bytes`].
    pub signature: Signature,
}

impl SignedProposal {
    /// Checks the signature (the one ed25519 rule).
    pub fn verify(&self, chain_id: &str) -> Result<(), CryptoError> {
        self.proposer
            .verify(&self.proposal.signing_bytes(chain_id), &self.signature)
    }
}

/// A vote with its validator's key and signature.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SignedVote {
    /// What is voted.
    pub vote: Vote,
    /// The voting validator.
    pub validator: PublicKey,
    /// Signature over [`Vote::signing_bytes`].
    pub signature: Signature,
}

impl SignedVote {
    /// Checks the signature (the one ed25519 rule).
    pub fn verify(&self, chain_id: &str) -> Result<(), CryptoError> {
        self.validator
            .verify(&self.vote.signing_bytes(chain_id), &self.signature)
    }
}

/// A consensus message sent between validators.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A signed proposal (the node gossips the block body next to it).
    Proposal(SignedProposal),
    /// A signed prevote or precommit.
    Vote(SignedVote),
}

impl Message {
    /// Height the message belongs to.
    pub fn height(&self) -> u64 {
        match self {
            Message::Proposal(p) => p.proposal.height,
            Message::Vote(v) => v.vote.height,
        }
    }

    /// Round the message belongs to.
    pub fn round(&self) -> u32 {
        match self {
            Message::Proposal(p) => p.proposal.round,
            Message::Vote(v) => v.vote.round,
        }
    }
}

/// The step of the engine within a round (the paper's `step_p`), plus the states before the
/// first round and after the decision.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// Constructed, `StartHeight` not yet handled.
    Unstarted,
    /// Waiting for the round's proposal.
    Propose,
    /// Prevoted (or decided not to), waiting for prevotes.
    Prevote,
    /// Precommitted (or decided not to), waiting for precommits.
    Precommit,
    /// The height is decided; the engine handles nothing more.
    Decided,
}

/// The three timeouts of the paper.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimeoutKind {
    /// `timeoutPropose` (lines 21, 57).
    Propose,
    /// `timeoutPrevote` (lines 35, 61).
    Prevote,
    /// `timeoutPrecommit` (lines 48, 65).
    Precommit,
}

/// A block hash together with the round it is tied to (the paper's `lockedValue/lockedRound`
/// and `validValue/validRound` pairs).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundValue {
    /// The round.
    pub round: u32,
    /// The block.
    pub block_hash: Hash,
}

/// What the node feeds into the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Start the height (line 10: `upon start do StartRound(0)`).
    StartHeight,
    /// A proposal received from the network.
    Proposal(SignedProposal),
    /// A vote received from the network.
    Vote(SignedVote),
    /// A timeout scheduled by [`Output::ScheduleTimeout`] has elapsed.
    TimeoutElapsed {
        /// Which timeout.
        kind: TimeoutKind,
        /// Height it was scheduled for.
        height: u64,
        /// Round it was scheduled for.
        round: u32,
    },
    /// The node executed the block `block_hash` and reports the paper's `valid(v)`.
    ProposalValidity {
        /// Round of the proposal that carried the block (informational).
        round: u32,
        /// The block.
        block_hash: Hash,
        /// Whether the block executed and matched its header.
        valid: bool,
    },
    /// The node's answer to [`Output::RequestProposal`]: the block to propose, already built
    /// and executed by the node (so it is valid).
    ProposeValue {
        /// The round of the request.
        round: u32,
        /// The block's header hash.
        block_hash: Hash,
    },
}

/// What the engine asks the node to do.
///
/// # Ordering contract
/// Within the outputs of one [`crate::Engine::handle`] call there is at most one
/// `PersistSafety`, and when present it is the FIRST output. The node must write it durably
/// (synced) before it performs any later output of the same call, in particular before any
/// `Broadcast`. Every `Broadcast` produced by the engine is covered by such a `PersistSafety`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Persist (synced) the signer's safety state before anything else of this call.
    PersistSafety(SafetyState),
    /// Send a message to all validators.
    Broadcast(Message),
    /// Feed [`Input::TimeoutElapsed`] with these fields after `duration_ms`.
    ScheduleTimeout {
        /// Which timeout.
        kind: TimeoutKind,
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// Delay in milliseconds.
        duration_ms: u64,
    },
    /// We are the proposer of `round` (lines 14-18): if `valid_value` is set, re-propose that
    /// block; otherwise build a new one. Answer with [`Input::ProposeValue`].
    RequestProposal {
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// The paper's `validValue`, which must be proposed again when present.
        valid_value: Option<Hash>,
    },
    /// Execute the block of an accepted proposal and answer with [`Input::ProposalValidity`].
    /// Emitted once per block hash whose validity is not yet known.
    ValidateProposal {
        /// Height.
        height: u64,
        /// Round of the proposal.
        round: u32,
        /// The block to execute.
        block_hash: Hash,
    },
    /// The height is decided (line 49): commit the block with this certificate.
    Decide {
        /// Height.
        height: u64,
        /// Round whose precommits decided.
        round: u32,
        /// The decided block.
        block_hash: Hash,
        /// Compact certificate built from the deciding precommits.
        certificate: CommitCertificate,
    },
    /// A validator signed two conflicting messages.
    Evidence(Equivocation),
}
