//! Concordat consensus (pure): votes, compact commit certificates and, with issue 4, the
//! Tendermint state machine and the `safety` module.
//!
//! # Invariants
//! - No IO, clock or OS randomness; randomness for batch verification comes in as an argument.
//! - Every signature counted towards a quorum is verified with the one rule of
//!   `concordat_primitives::crypto`.
//! - A certificate is accepted only with signatures of distinct members of the validator set
//!   holding strictly more than 2/3 of its voting power.

pub mod certificate;
pub mod vote;

pub use certificate::{CertificateError, CommitCertificate};
pub use vote::{Vote, VoteKind};
