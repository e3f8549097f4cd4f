//! Invariant checkers of the simulation. They record violations instead of panicking, so a
//! run reports the first violation with its seed and the control scenario can assert that a
//! violation is found.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use concordat_consensus::{Message, SignedProposal, VoteKind};
use concordat_primitives::{Hash, PublicKey};

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
    /// An honest validator voted against Tendermint's locking rules (Algorithm 1 of
    /// arXiv:1807.04938, lines 22-43), judged from every message on the network: a prevote
    /// for a value needs a proposal of that round for it that claims no proof-of-lock and a
    /// validator not locked on another value (line 22), or a proof-of-lock round `vr` below
    /// the round with a polka for the value there and a lock no later than `vr` (line 28); a
    /// precommit for a value needs a polka for it in that round (line 36). A validator is
    /// locked on the value of its latest non-nil precommit of the height, from the signatures
    /// it sent (so a node that forgets its lock across a restart is caught too).
    Locking,
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
    /// Voting power per validator key (the checker's own quorum arithmetic, so that a broken
    /// quorum rule in the code under test cannot hide a violation).
    powers: BTreeMap<PublicKey, u64>,
    /// Every prevote seen on the network: signers per `(height, round, value)`.
    prevotes: BTreeMap<(u64, u32, Option<Hash>), BTreeSet<PublicKey>>,
    /// Every proposal seen on the network: the proof-of-lock rounds claimed per
    /// `(height, round, block)` (`None` for no claim).
    proposals: BTreeMap<(u64, u32, Hash), BTreeSet<Option<u32>>>,
    /// The lock of an honest key per height: its latest non-nil precommit `(round, block)`.
    locks: BTreeMap<(usize, u64), (u32, Hash)>,
    /// Violations found so far, in order.
    pub violations: Vec<Violation>,
}

impl Checker {
    /// A checker for validators with these voting powers.
    pub fn new(powers: impl IntoIterator<Item = (PublicKey, u64)>) -> Checker {
        Checker {
            powers: powers.into_iter().collect(),
            ..Checker::default()
        }
    }

    /// A message went on the network (from anyone, honest or not, signed by its sender or
    /// relayed): remember proposals and prevotes for the locking check.
    pub fn on_wire(&mut self, m: &Message) {
        match m {
            Message::Proposal(p) => self.on_wire_proposal(p),
            Message::Vote(v) if v.vote.kind == VoteKind::Prevote => {
                let slot = (v.vote.height, v.vote.round, v.vote.block_hash);
                self.prevotes.entry(slot).or_default().insert(v.validator);
            }
            Message::Vote(_) => {}
        }
    }

    /// A proposal went on the network.
    pub fn on_wire_proposal(&mut self, p: &SignedProposal) {
        let p = &p.proposal;
        let claims = self
            .proposals
            .entry((p.height, p.round, p.block_hash))
            .or_default();
        claims.insert(p.pol_round);
    }

    /// More than 2/3 of the power prevoted (as seen on the network) `value` at `(height, round)`.
    pub fn polka(&self, height: u64, round: u32, value: Hash) -> bool {
        let total: u128 = self.powers.values().map(|p| u128::from(*p)).sum();
        let power: u128 = self
            .prevotes
            .get(&(height, round, Some(value)))
            .map(|keys| {
                keys.iter()
                    .map(|k| u128::from(self.powers.get(k).copied().unwrap_or(0)))
                    .sum()
            })
            .unwrap_or(0);
        3 * power > 2 * total
    }

    /// Why the honest key `key` may not have signed `m`, if it may not (the locking rules).
    fn locking_breach(&self, key: usize, m: &Message) -> Option<String> {
        let Message::Vote(v) = m else { return None };
        let (h, r) = (v.vote.height, v.vote.round);
        let value = v.vote.block_hash?;
        if v.vote.kind == VoteKind::Precommit {
            return (!self.polka(h, r, value))
                .then(|| format!("precommit for {value:?} at {h}/{r} without a polka"));
        }
        // The lock that applies: from a precommit of an earlier round.
        let lock = self.locks.get(&(key, h)).filter(|(lr, _)| *lr < r);
        let claims = self.proposals.get(&(h, r, value));
        let free = |vr: Option<u32>| match (lock, vr) {
            (None, _) => true,
            (Some((_, locked)), _) if *locked == value => true,
            (Some((lr, _)), Some(vr)) => *lr <= vr,
            (Some(_), None) => false,
        };
        let justified = claims.is_some_and(|claims| {
            claims.iter().any(|vr| match vr {
                None => free(None),
                Some(vr) => *vr < r && self.polka(h, *vr, value) && free(Some(*vr)),
            })
        });
        (!justified).then(|| {
            format!(
                "prevote for {value:?} at {h}/{r}: lock {lock:?}, proposals claim proof-of-lock \
                 rounds {claims:?}"
            )
        })
    }

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
                if let Some(why) = self.locking_breach(key, m) {
                    self.violations.push(Violation {
                        invariant: Invariant::Locking,
                        at_ms: now,
                        detail: format!("node {node} (key {key}): {why}"),
                    });
                }
                if let Message::Vote(v) = m {
                    if let (VoteKind::Precommit, Some(b)) = (v.vote.kind, v.vote.block_hash) {
                        let lock = self.locks.entry((key, v.vote.height)).or_insert((0, b));
                        if v.vote.round >= lock.0 {
                            *lock = (v.vote.round, b);
                        }
                    }
                }
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
