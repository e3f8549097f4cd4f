//! Why an input was refused or a signature was withheld.
//!
//! [`InputError`] describes untrusted or out-of-place input; it never indicates a bug in the
//! engine. A refused input leaves the engine unchanged. [`SafetyError`] is a signing request
//! that the [`crate::safety`] rules refuse.

use concordat_primitives::{Hash, PublicKey};

use crate::safety::Watermark;

/// An input the engine refused (the engine state is unchanged).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum InputError {
    /// The message is for another height. The node may keep messages of the next height and
    /// replay them into the next engine.
    #[error("message for height {got}, this engine runs height {expected}")]
    WrongHeight {
        /// The engine's height.
        expected: u64,
        /// The message's height.
        got: u64,
    },
    /// The height is already decided.
    #[error("height already decided")]
    Decided,
    /// `StartHeight` arrived twice.
    #[error("height already started")]
    AlreadyStarted,
    /// The signer is not in the validator set.
    #[error("{0} is not a validator of this height")]
    UnknownValidator(PublicKey),
    /// A proposal from someone other than the round's proposer.
    #[error("round {round} is proposed by {expected}, not {got}")]
    NotProposer {
        /// Round of the proposal.
        round: u32,
        /// The proposer of that round.
        expected: PublicKey,
        /// The signer of the proposal.
        got: PublicKey,
    },
    /// A proposal whose `pol_round` is not lower than its round.
    #[error("proposal of round {round} claims a proof-of-lock at round {pol_round}")]
    BadPolRound {
        /// Round of the proposal.
        round: u32,
        /// Its claimed valid round.
        pol_round: u32,
    },
    /// The signature does not verify.
    #[error("invalid signature from {0}")]
    BadSignature(PublicKey),
    /// Exactly this message was already received.
    #[error("duplicate message")]
    Duplicate,
    /// The signer already fills its quota of rounds above ours; the message is dropped.
    #[error("{validator} already has messages in too many rounds above ours (round {round})")]
    TooFarAhead {
        /// The signer.
        validator: PublicKey,
        /// The refused round.
        round: u32,
    },
    /// `ProposeValue` without a matching `RequestProposal` in the current round and step.
    #[error("no proposal was requested for round {0}")]
    UnexpectedProposeValue(u32),
    /// `ProposeValue` with another block than the `valid_value` that must be re-proposed.
    #[error("round must re-propose the valid value {expected}, got {got}")]
    NotValidValue {
        /// The valid value.
        expected: Hash,
        /// The block offered.
        got: Hash,
    },
    /// `ProposalValidity` contradicting an earlier answer for the same block.
    #[error("validity of block {0} was already reported differently")]
    ConflictingValidity(Hash),
}

/// A signing request refused by the safety rules (see [`crate::safety`] for the conditions).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SafetyError {
    /// The stored state was signed by another key.
    #[error("safety state belongs to {found}, not {expected}")]
    ForeignState {
        /// This signer's key.
        expected: PublicKey,
        /// The key of the stored last message.
        found: PublicKey,
    },
    /// Condition 1: the request is below the watermark.
    #[error("request at {requested:?} is below the watermark {watermark:?}")]
    Regression {
        /// The current watermark.
        watermark: Watermark,
        /// The request.
        requested: Watermark,
    },
    /// Condition 2: a different message at the watermark (would equivocate).
    #[error("a different message was already signed at {0:?}")]
    Conflict(Watermark),
    /// Condition 3: a prevote for another block than the lock without a recent enough
    /// proof-of-lock.
    #[error("locked on {locked_block} since round {locked_round}; prevote at round {round} needs a proof-of-lock at a round in [{locked_round}, {round}), got {pol_round:?}")]
    LockViolation {
        /// Round of the lock.
        locked_round: u32,
        /// Locked block.
        locked_block: Hash,
        /// Round of the prevote.
        round: u32,
        /// The claimed proof-of-lock round.
        pol_round: Option<u32>,
    },
    /// Condition 5: a proposal whose proof-of-lock round is not below its round.
    #[error("proposal of round {round} with proof-of-lock round {pol_round}")]
    BadPolRound {
        /// Round.
        round: u32,
        /// Claimed proof-of-lock round.
        pol_round: u32,
    },
}
