//! Invariant checkers of the simulation. They record violations instead of panicking, so a
//! run reports the first violation with its seed and the control scenario can assert that a
//! violation is found.

use std::collections::BTreeMap;
use std::fmt;

use concordat_consensus::{Message, VoteKind};
use concordat_primitives::Hash;

/// Which invariant was broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invariant {
    /// Two honest nodes decided different blocks at one height.
    Agreement,
    /// An honest key signed two different messages for one height/round/kind.
    HonestDoubleSign,
    /// A decision came with a certificate that does not verify against the validator set.
    Certificate,
    /// The engine broke its output ordering contract (`PersistSafety` first, covering every
    /// broadcast of the step).
    PersistFirst,
    /// Honest nodes did not reach the target height in time after the faults stopped.
    Liveness,
}

/// One violation, with enough context to understand it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The invariant.
    pub invariant: Invariant,
    /// Virtual time (ms) at which it was detected.
    pub at_ms: u64,
    /// Human-readable detail.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} violated at t={}ms: {}",
            self.invariant, self.at_ms, self.detail
        )
    }
}

/// The kind of a signed message, for the double-sign table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SignedKind {
    Proposal,
    Prevote,
    Precommit,
}

/// `(key index, height, round, kind)` of a signed message and what it carried.
fn signed_slot(key: usize, m: &Message) -> ((usize, u64, u32, SignedKind), Option<Hash>) {
    match m {
        Message::Proposal(p) => (
            (
                key,
                p.proposal.height,
                p.proposal.round,
                SignedKind::Proposal,
            ),
            Some(p.proposal.block_hash),
        ),
        Message::Vote(v) => {
            let kind = match v.vote.kind {
                VoteKind::Prevote => SignedKind::Prevote,
                VoteKind::Precommit => SignedKind::Precommit,
            };
            ((key, v.vote.height, v.vote.round, kind), v.vote.block_hash)
        }
    }
}

/// The safety checkers' state.
#[derive(Debug, Default)]
pub struct Checker {
    /// First honest decision per height: block and the node instance that decided it.
    decided: BTreeMap<u64, (Hash, usize)>,
    /// Every message signed by an honest key: what it carried.
    signed: BTreeMap<(usize, u64, u32, SignedKind), Option<Hash>>,
    /// Violations found so far, in order.
    pub violations: Vec<Violation>,
}

impl Checker {
    /// An honest node `node` committed `block` at `height` (by deciding or by sync).
    pub fn on_commit(&mut self, now: u64, node: usize, height: u64, block: Hash) {
        match self.decided.get(&height) {
            Some((first, by)) if *first != block => self.violations.push(Violation {
                invariant: Invariant::Agreement,
                at_ms: now,
                detail: format!(
                    "height {height}: node {by} decided {first:?}, node {node} decided {block:?}"
                ),
            }),
            Some(_) => {}
            None => {
                self.decided.insert(height, (block, node));
            }
        }
    }

    /// The honest key `key` (node instance `node`) signed and sent `m`.
    pub fn on_signed(&mut self, now: u64, node: usize, key: usize, m: &Message) {
        let (slot, value) = signed_slot(key, m);
        match self.signed.get(&slot) {
            Some(prev) if *prev != value => self.violations.push(Violation {
                invariant: Invariant::HonestDoubleSign,
                at_ms: now,
                detail: format!(
                    "node {node} (key {key}) signed {value:?} after {prev:?} at {slot:?}"
                ),
            }),
            Some(_) => {}
            None => {
                self.signed.insert(slot, value);
            }
        }
    }

    /// Records any other violation.
    pub fn violation(&mut self, invariant: Invariant, now: u64, detail: String) {
        self.violations.push(Violation {
            invariant,
            at_ms: now,
            detail,
        });
    }

    /// The block honest nodes decided at `height`, if any did.
    pub fn decided_at(&self, height: u64) -> Option<Hash> {
        self.decided.get(&height).map(|(h, _)| *h)
    }

    /// Number of heights decided by some honest node.
    pub fn heights_decided(&self) -> usize {
        self.decided.len()
    }
}
