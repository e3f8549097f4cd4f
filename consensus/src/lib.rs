//! Concordat consensus (pure): Tendermint (Buchman, Kwon, Milosevic, arXiv:1807.04938,
//! Algorithm 1) as a sans-IO state machine, its safety rules, votes and compact commit
//! certificates. The protocol, with the paper's line numbers, is in `docs/protocol.md`.
//!
//! # Map
//! - [`Engine`] (`engine.rs`): one height of Tendermint; `handle(Input) -> Vec<Output>`.
//!   Input handlers live in `handle/` (one file per input), the `upon` rules in `rules.rs`.
//! - [`safety`]: the only code that signs votes and proposals; its watermark is persisted
//!   before anything it signs leaves the node.
//! - [`votekeeper`]: votes per round and kind, with power tallies.
//! - [`mod@proposer`]: deterministic proposer selection weighted by voting power.
//! - [`types`]: proposals, signed votes, messages, inputs and outputs.
//! - [`vote`], [`certificate`], [`evidence`]: signed formats that leave the engine.
//!
//! # Invariants
//! - No IO, clock, threads or OS randomness; time arrives as `TimeoutElapsed` inputs and
//!   randomness for batch verification as an argument. `BTreeMap`/`BTreeSet` only.
//! - Every signature counted towards a quorum is verified with the one rule of
//!   `concordat_primitives::crypto`, and its signer is in the height's validator set.
//! - "2f+1" means strictly more than 2/3 of the total voting power, "f+1" strictly more than
//!   1/3: counts are by power, never by number of validators.
//! - A certificate is accepted only with signatures of distinct members of the validator set
//!   holding strictly more than 2/3 of its voting power.
//! - Persist before speaking: in the outputs of one step, `PersistSafety` comes first and
//!   covers every signed message broadcast by that step.

pub mod certificate;
pub mod config;
pub mod engine;
pub mod error;
pub mod evidence;
mod handle;
pub mod proposer;
mod rules;
pub mod safety;
pub mod types;
pub mod vote;
pub mod votekeeper;

pub use certificate::{CertificateError, CommitCertificate};
pub use config::{Backoff, TimeoutConfig};
pub use engine::{Decision, Engine, MAX_FUTURE_ROUNDS_PER_VALIDATOR};
pub use error::{InputError, SafetyError};
pub use evidence::Equivocation;
pub use proposer::proposer;
pub use safety::{SafetyRules, SafetyState, Watermark};
pub use types::{
    Input, Message, Output, Proposal, RoundValue, SignedProposal, SignedVote, Step, TimeoutKind,
};
pub use vote::{Vote, VoteKind};
