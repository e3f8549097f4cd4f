//! The BFT driver: runs the Tendermint [`Engine`] of the consensus crate on top of the
//! [`NodeCore`], one engine per height. It turns the engine's requests into node work
//! (build or re-execute a block, commit with the certificate) and its messages into network
//! effects, without doing any IO itself: the caller persists, sends and schedules. Time and
//! randomness come in from the caller (`set_time`, `with_clock`, the core's seed), so the
//! deterministic simulation (`tests/src/sim`) runs this very driver.
//!
//! # Contract (see docs/protocol.md §7)
//! - Effects are returned in order; `Persist` must be durable before any later `Send` of the
//!   same call.
//! - A proposal travels with its block body ([`NetMsg::Proposal`]), so a validator never needs
//!   an extra round trip for the transactions. A body is kept only when it comes with a
//!   proposal signed by the round's proposer: nobody else can make a body take space.
//! - A block is validated by re-executing it ([`NodeCore::validate_proposal`]); the execution
//!   is kept and committed on `Decide` without executing again.
//! - Messages for the next heights are kept (checked signatures, bounded per signer) and
//!   replayed when that height starts.
//! - When a height stalls the caller calls [`BftDriver::resend`]: our own messages of the
//!   height and what liveness needs from others ([`Engine::relay_messages`]) go out again.
//! - After a restart the messages signed in the round the node was in (kept in the persisted
//!   [`SafetyState`]) are counted by the engine and sent again by [`BftDriver::start`].

use std::collections::BTreeMap;

use concordat_consensus::{
    proposer, CommitCertificate, Engine, Equivocation, Input, Message, Output, SafetyState,
    SignedProposal, SignedVote, Step, TimeoutConfig, TimeoutKind, VoteKind,
};
use concordat_contracts::block::Block;
use concordat_primitives::{Hash, PublicKey, SecretKey};
use serde::{Deserialize, Serialize};

use crate::core::{Executed, NodeCore};
use crate::store::NodeStore;

/// Most bodies kept per height (a Byzantine proposer cannot fill memory).
pub const MAX_BODIES_PER_HEIGHT: usize = 64;
/// Most bodies kept per round (an honest proposer sends one; an equivocating one a few).
pub const MAX_BODIES_PER_ROUND: usize = 4;
/// Most messages kept for later heights, per signer (each validator gets its own share, so
/// one cannot crowd out the others).
pub const MAX_FUTURE_PER_SIGNER: usize = 64;
/// How many heights ahead messages are kept (further behind, a node syncs).
pub const FUTURE_HEIGHTS: u64 = 2;

/// What travels between validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetMsg {
    /// A signed vote, or a proposal relayed without its body.
    Consensus(Message),
    /// A signed proposal with the block it proposes.
    Proposal {
        /// The proposal (its `block_hash` is the body's hash).
        proposal: SignedProposal,
        /// The body.
        block: Box<Block>,
    },
}

impl NetMsg {
    fn height(&self) -> u64 {
        match self {
            NetMsg::Consensus(m) => m.height(),
            NetMsg::Proposal { proposal, .. } => proposal.proposal.height,
        }
    }

    fn signer(&self) -> PublicKey {
        match self {
            NetMsg::Consensus(Message::Vote(v)) => v.validator,
            NetMsg::Consensus(Message::Proposal(p)) | NetMsg::Proposal { proposal: p, .. } => {
                p.proposer
            }
        }
    }
}

/// What a validator keeps durably with its lock: the locked block and the prevotes that
/// justified the lock (its proof-of-lock). A locked validator prevotes only that block (or a
/// later proof-of-lock's), so after a restart it must still be able to re-propose it and show
/// the others why (Tendermint's write-ahead log keeps the same). Without it, a network whose
/// locked validators all restarted could lose the only copies of the block and of its
/// proof-of-lock, and halt for good.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LockEvidence {
    /// Height of the lock.
    pub height: u64,
    /// Round of the lock.
    pub round: u32,
    /// The locked block.
    pub block: Block,
    /// More than 2/3 of the power's prevotes for it in `round`.
    pub prevotes: Vec<SignedVote>,
}

/// What the caller must do.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Persist the safety state durably (before any later `Send`), with the evidence of a
    /// new lock when this step locked (both in one synced write).
    Persist(SafetyState, Option<Box<LockEvidence>>),
    /// Send to every validator.
    Send(NetMsg),
    /// Call [`BftDriver::on_timeout`] after `duration_ms`.
    Timer {
        /// Which timeout.
        kind: TimeoutKind,
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// Delay.
        duration_ms: u64,
    },
    /// A height was committed.
    Committed {
        /// The height.
        height: u64,
        /// Its block hash.
        block_hash: Hash,
        /// Its transaction count.
        txs: usize,
        /// Its transactions' hashes, in block order.
        tx_hashes: Vec<Hash>,
        /// Time spent writing it durably (µs, by the driver's clock).
        commit_micros: u64,
    },
    /// Equivocation evidence.
    Evidence(Equivocation),
}

/// Counters of what the driver refused or dropped (exported as metrics by the daemon).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DriverStats {
    /// Signing requests the safety rules refused (all heights).
    pub signing_refusals: u64,
    /// Bodies dropped: no matching signed proposal, bad shape, or over a cap.
    pub bodies_dropped: u64,
    /// Messages for later heights dropped (bad signature, unknown signer, or over the cap).
    pub future_dropped: u64,
    /// Messages the engine refused (bad signature, unknown signer, wrong proposer, ...).
    pub messages_refused: u64,
}

/// Runs consensus over a node core.
pub struct BftDriver<S: NodeStore> {
    core: NodeCore<S>,
    engine: Engine,
    key: Option<SecretKey>,
    safety: SafetyState,
    executed: BTreeMap<Hash, Executed>,
    bodies: BTreeMap<Hash, Block>,
    body_rounds: BTreeMap<u32, usize>,
    awaiting: BTreeMap<Hash, u32>,
    future: BTreeMap<PublicKey, Vec<NetMsg>>,
    now_ms: u64,
    clock_micros: fn() -> u64,
    /// Our own messages of the current height, re-sent when the height stalls.
    sent: Vec<NetMsg>,
    /// A proposal we owe for this round, waiting for transactions (see `poll`).
    pending_proposal: Option<(u32, u64)>,
    empty_block_interval_ms: u64,
    /// With nothing to commit, a height is not started before this many ms (0: at once).
    idle_block_interval_ms: u64,
    /// The height is not started yet: nothing to commit since this time (see `poll`).
    idle_since: Option<u64>,
    stats: DriverStats,
    timeouts: TimeoutConfig,
    /// Prevotes of our lock's proof-of-lock, fed to the engine at start after a restart.
    restored_prevotes: Vec<SignedVote>,
}

/// Why a block from sync was not applied.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Not the next height.
    #[error("block {got} does not follow the tip {tip}")]
    NotNext {
        /// The block's height.
        got: u64,
        /// Our tip.
        tip: u64,
    },
    /// The certificate does not commit this block under the set of its height.
    #[error("certificate of height {height} rejected: {reason}")]
    Certificate {
        /// The height.
        height: u64,
        /// Why.
        reason: String,
    },
    /// The block does not re-execute to its header.
    #[error("block {height} is invalid: {reason}")]
    Invalid {
        /// The height.
        height: u64,
        /// Why.
        reason: String,
    },
}

fn engine_for<S: NodeStore>(
    core: &NodeCore<S>,
    key: &Option<SecretKey>,
    safety: &SafetyState,
    timeouts: TimeoutConfig,
) -> Engine {
    match Engine::new(
        core.chain_id(),
        core.tip().height + 1,
        core.validator_set().clone(),
        key.clone(),
        safety.clone(),
    ) {
        Ok(e) => e.with_timeouts(timeouts),
        Err(e) => panic!(
            "cannot start consensus at height {}: {e}",
            core.tip().height + 1
        ),
    }
}

fn no_clock() -> u64 {
    0
}

impl<S: NodeStore> BftDriver<S> {
    /// A driver for the height after the core's tip. `safety` is the persisted state (default
    /// for a fresh validator); `key` is `None` for an observer.
    pub fn new(core: NodeCore<S>, key: Option<SecretKey>, safety: SafetyState) -> BftDriver<S> {
        let engine = engine_for(&core, &key, &safety, TimeoutConfig::default());
        BftDriver {
            core,
            engine,
            key,
            safety,
            executed: BTreeMap::new(),
            bodies: BTreeMap::new(),
            body_rounds: BTreeMap::new(),
            awaiting: BTreeMap::new(),
            future: BTreeMap::new(),
            now_ms: 0,
            clock_micros: no_clock,
            sent: Vec::new(),
            pending_proposal: None,
            empty_block_interval_ms: 0,
            idle_block_interval_ms: 0,
            idle_since: None,
            stats: DriverStats::default(),
            timeouts: TimeoutConfig::default(),
            restored_prevotes: Vec::new(),
        }
    }

    /// Replaces the consensus timeouts (the simulation runs faster ones).
    pub fn with_timeouts(mut self, timeouts: TimeoutConfig) -> BftDriver<S> {
        self.timeouts = timeouts;
        self.engine = engine_for(&self.core, &self.key, &self.safety, timeouts);
        self
    }

    /// When this node is the proposer and no pending transaction can be included, it waits up
    /// to `ms` for one before proposing an empty block (0, the default, proposes at once).
    /// Keep it well below the propose timeout.
    pub fn with_empty_block_interval(mut self, ms: u64) -> BftDriver<S> {
        self.empty_block_interval_ms = ms;
        self
    }

    /// An idle network makes no empty blocks: after a commit, when no pending transaction can
    /// be included, the next height is not started until one can, until a peer's message for
    /// that height arrives (someone else started it), or until `ms` have passed for the
    /// height's first proposer (twice that for the others, in case it is down). 0, the
    /// default, starts every height at once.
    pub fn with_idle_block_interval(mut self, ms: u64) -> BftDriver<S> {
        self.idle_block_interval_ms = ms;
        self
    }

    /// True while the height waits, idle, for something to commit (it has not started).
    pub fn is_idle(&self) -> bool {
        self.idle_since.is_some()
    }

    /// A monotonic clock in microseconds, used only to time commits (for metrics). Without
    /// one, commit times read 0.
    pub fn with_clock(mut self, clock_micros: fn() -> u64) -> BftDriver<S> {
        self.clock_micros = clock_micros;
        self
    }

    /// The height being decided.
    pub fn height(&self) -> u64 {
        self.engine.height()
    }

    /// The round and step of the height being decided.
    pub fn round_step(&self) -> (u32, Step) {
        (self.engine.round(), self.engine.step())
    }

    /// What was refused or dropped so far.
    pub fn stats(&self) -> DriverStats {
        DriverStats {
            signing_refusals: self
                .stats
                .signing_refusals
                .saturating_add(self.engine.signing_refusals()),
            ..self.stats
        }
    }

    /// The engine of the current height (read-only; for tests and diagnostics).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Proposes now if a proposal is owed and either a pending transaction can be included or
    /// the empty block interval has passed. Call it on every tick and after admitting
    /// transactions.
    pub fn poll(&mut self) -> Vec<Effect> {
        if let Some(since) = self.idle_since {
            let first = proposer(self.core.validator_set(), self.engine.height(), 0);
            let ours = self.key.as_ref().is_some_and(|k| k.public_key() == first);
            let due = if ours {
                self.idle_block_interval_ms
            } else {
                self.idle_block_interval_ms.saturating_mul(2)
            };
            if self.now_ms.saturating_sub(since) < due && !self.core.has_ready_txs() {
                return Vec::new();
            }
            return self.begin_height();
        }
        let Some((round, since)) = self.pending_proposal else {
            return Vec::new();
        };
        let waited = self.now_ms.saturating_sub(since);
        if waited < self.empty_block_interval_ms && !self.core.has_ready_txs() {
            return Vec::new();
        }
        self.pending_proposal = None;
        self.propose(round)
    }

    /// What to send when the height stalls: our own proposal, bodies and votes of the current
    /// height, and the messages of others that peers may lack ([`Engine::relay_messages`]:
    /// the current and previous rounds' proposals and votes, equivocations included, and the
    /// valid round's proof-of-lock). Tendermint's thresholds assume this gossip.
    pub fn resend(&self) -> Vec<Effect> {
        let mut out: Vec<NetMsg> = self.sent.clone();
        for m in self.engine.relay_messages() {
            let msg = match m {
                Message::Proposal(p) => self.with_body(p),
                vote => NetMsg::Consensus(vote),
            };
            if !out.contains(&msg) {
                out.push(msg);
            }
        }
        out.into_iter().map(Effect::Send).collect()
    }

    /// The evidence of a lock on `block_hash` at `(height, round)`: its body and the prevotes
    /// for it in that round.
    fn lock_evidence(&self, height: u64, round: u32, block_hash: Hash) -> Option<LockEvidence> {
        let block = self
            .executed
            .get(&block_hash)
            .map(|e| e.block.clone())
            .or_else(|| self.bodies.get(&block_hash).cloned())?;
        let prevotes = self
            .engine
            .votes()
            .all_votes(height, round, VoteKind::Prevote)
            .into_iter()
            .filter(|v| v.vote.block_hash == Some(block_hash))
            .collect();
        Some(LockEvidence {
            height,
            round,
            block,
            prevotes,
        })
    }

    /// After a restart: the persisted evidence of our lock. If it is for the height being
    /// decided and matches the lock in the safety state, the block is held again (so it can
    /// be re-proposed and validated) and its prevotes are counted (and relayed on a stall, so
    /// that others accept the re-proposal). Call before [`BftDriver::start`].
    pub fn with_lock_evidence(mut self, evidence: Option<LockEvidence>) -> BftDriver<S> {
        let height = self.engine.height();
        let Some(ev) = evidence.filter(|e| {
            e.height == height
                && self
                    .safety
                    .lock_at(height)
                    .is_some_and(|l| l.round == e.round && l.block_hash == e.block.hash())
        }) else {
            return self;
        };
        self.bodies.insert(ev.block.hash(), ev.block);
        self.restored_prevotes = ev.prevotes;
        self
    }

    /// A proposal with its body when we hold it.
    fn with_body(&self, proposal: SignedProposal) -> NetMsg {
        let hash = proposal.proposal.block_hash;
        let body = self
            .executed
            .get(&hash)
            .map(|e| e.block.clone())
            .or_else(|| self.bodies.get(&hash).cloned());
        match body {
            Some(block) => NetMsg::Proposal {
                proposal,
                block: Box::new(block),
            },
            None => NetMsg::Consensus(Message::Proposal(proposal)),
        }
    }

    /// Applies a block fetched by sync: its certificate must commit it under the validator set
    /// of its height (every signature checked), and it must re-execute to its header. Then the
    /// next height starts.
    pub fn apply_synced(
        &mut self,
        block: Block,
        certificate: CommitCertificate,
    ) -> Result<Vec<Effect>, SyncError> {
        let tip = self.core.tip().height;
        let height = block.header.height;
        if height != tip + 1 {
            return Err(SyncError::NotNext { got: height, tip });
        }
        let hash = block.hash();
        self.core
            .verify_certificate(&certificate, height, &hash)
            .map_err(|e| SyncError::Certificate {
                height,
                reason: e.to_string(),
            })?;
        let executed = self
            .core
            .validate_block(&block)
            .map_err(|reason| SyncError::Invalid { height, reason })?;
        let mut effects = vec![self.commit_timed(executed, certificate)];
        effects.extend(self.next_height());
        Ok(effects)
    }

    /// The node core (tip, mempool, submissions).
    pub fn core(&self) -> &NodeCore<S> {
        &self.core
    }

    /// Mutable access to the core (to submit transactions).
    pub fn core_mut(&mut self) -> &mut NodeCore<S> {
        &mut self.core
    }

    /// Sets the clock used for new proposals and for judging proposed block times.
    pub fn set_time(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
    }

    /// Starts the current height. After a restart, the messages signed in the round the node
    /// was in go out again first (peers may never have received them).
    pub fn start(&mut self) -> Vec<Effect> {
        let height = self.engine.height();
        let mut effects = Vec::new();
        for m in self.safety.signed_in_round() {
            if m.height() != height {
                continue;
            }
            let msg = match m {
                Message::Proposal(p) => self.with_body(p),
                vote => NetMsg::Consensus(vote),
            };
            if !self.sent.contains(&msg) {
                self.sent.push(msg.clone());
                effects.push(Effect::Send(msg));
            }
        }
        effects.extend(self.feed(Input::StartHeight));
        for v in std::mem::take(&mut self.restored_prevotes) {
            effects.extend(self.feed(Input::Vote(v)));
        }
        effects
    }

    /// A timer fired.
    pub fn on_timeout(&mut self, kind: TimeoutKind, height: u64, round: u32) -> Vec<Effect> {
        if height != self.engine.height() {
            return Vec::new();
        }
        self.feed(Input::TimeoutElapsed {
            kind,
            height,
            round,
        })
    }

    /// A message arrived from the network.
    pub fn on_message(&mut self, msg: NetMsg) -> Vec<Effect> {
        let height = self.engine.height();
        let h = msg.height();
        if h > height && h <= height.saturating_add(FUTURE_HEIGHTS) {
            self.buffer_future(msg);
            return Vec::new();
        }
        if h != height {
            // Older heights are done; a node further behind catches up by sync.
            return Vec::new();
        }
        let mut effects = Vec::new();
        if self.idle_since.is_some() && self.core.validator_set().index_of(&msg.signer()).is_some()
        {
            // A validator started this height: so do we.
            effects = self.begin_height();
        }
        effects.extend(self.on_current(msg));
        effects
    }

    /// A message of the height being decided.
    fn on_current(&mut self, msg: NetMsg) -> Vec<Effect> {
        match msg {
            NetMsg::Proposal { proposal, block } => {
                let held = self.take_body(&proposal, *block);
                if !held {
                    self.stats.bodies_dropped += 1;
                }
                let hash = proposal.proposal.block_hash;
                // The proposal counts on its own merits (the engine checks it again).
                let mut effects = self.feed(Input::Proposal(proposal));
                // The engine may have asked for this body before (a proposal relayed alone).
                if held {
                    if let Some(round) = self.awaiting.remove(&hash) {
                        effects.extend(self.validate(round, hash));
                    }
                }
                effects
            }
            NetMsg::Consensus(m) => self.feed(match m {
                Message::Proposal(p) => Input::Proposal(p),
                Message::Vote(v) => Input::Vote(v),
            }),
        }
    }

    /// Keeps `block` if it is the body of `proposal`, a proposal signed by the proposer of its
    /// round at this height, within the caps. True if the body is held afterwards.
    fn take_body(&mut self, proposal: &SignedProposal, block: Block) -> bool {
        let hash = block.hash();
        if self.bodies.contains_key(&hash) || self.executed.contains_key(&hash) {
            return true;
        }
        let p = &proposal.proposal;
        if p.block_hash != hash || block.check_shape().is_err() {
            return false;
        }
        let expected = proposer(self.core.validator_set(), p.height, p.round);
        if proposal.proposer != expected || proposal.verify(self.core.chain_id()).is_err() {
            return false;
        }
        let in_round = self.body_rounds.get(&p.round).copied().unwrap_or(0);
        if in_round >= MAX_BODIES_PER_ROUND || self.bodies.len() >= MAX_BODIES_PER_HEIGHT {
            return false;
        }
        self.body_rounds.insert(p.round, in_round + 1);
        self.bodies.insert(hash, block);
        true
    }

    /// Buffers a message of a later height if its signature verifies under the current set
    /// (the set of the next heights is the same unless governance changed it; a message lost
    /// that way is re-sent on a stall) and its signer has room.
    fn buffer_future(&mut self, msg: NetMsg) {
        let signer = msg.signer();
        let chain = self.core.chain_id();
        let verified = self.core.validator_set().index_of(&signer).is_some()
            && match &msg {
                NetMsg::Consensus(Message::Vote(v)) => v.verify(chain).is_ok(),
                NetMsg::Consensus(Message::Proposal(p)) => p.verify(chain).is_ok(),
                NetMsg::Proposal { proposal, block } => {
                    block.hash() == proposal.proposal.block_hash
                        && block.check_shape().is_ok()
                        && proposal.verify(chain).is_ok()
                }
            };
        let queue = self.future.entry(signer).or_default();
        if !verified || queue.len() >= MAX_FUTURE_PER_SIGNER || queue.contains(&msg) {
            if !verified || queue.len() >= MAX_FUTURE_PER_SIGNER {
                self.stats.future_dropped += 1;
            }
            if queue.is_empty() {
                self.future.remove(&signer);
            }
            return;
        }
        queue.push(msg);
    }

    fn validate(&mut self, round: u32, hash: Hash) -> Vec<Effect> {
        let valid = match self
            .bodies
            .get(&hash)
            .map(|b| self.core.validate_proposal(b, self.now_ms))
        {
            Some(Ok(executed)) => {
                self.executed.insert(hash, executed);
                true
            }
            Some(Err(reason)) => {
                tracing::warn!(%hash, %reason, "proposed block is invalid");
                false
            }
            None => return Vec::new(),
        };
        self.feed(Input::ProposalValidity {
            round,
            block_hash: hash,
            valid,
        })
    }

    fn feed(&mut self, input: Input) -> Vec<Effect> {
        let from_network = matches!(input, Input::Proposal(_) | Input::Vote(_));
        let outputs = match self.engine.try_handle(input) {
            Ok(o) => o,
            Err(e) => {
                if from_network && !matches!(e, concordat_consensus::InputError::Duplicate) {
                    self.stats.messages_refused += 1;
                    tracing::debug!(error = %e, "consensus message refused");
                }
                return Vec::new();
            }
        };
        let mut effects = Vec::new();
        for out in outputs {
            effects.extend(self.on_output(out));
        }
        effects
    }

    fn on_output(&mut self, out: Output) -> Vec<Effect> {
        match out {
            Output::PersistSafety(s) => {
                let height = self.engine.height();
                let lock = s
                    .lock_at(height)
                    .filter(|l| self.safety.lock_at(height) != Some(*l))
                    .and_then(|l| self.lock_evidence(height, l.round, l.block_hash))
                    .map(Box::new);
                self.safety = s.clone();
                vec![Effect::Persist(s, lock)]
            }
            Output::Broadcast(m) => {
                let msg = match m {
                    Message::Proposal(p) => self.with_body(p),
                    vote => NetMsg::Consensus(vote),
                };
                if !self.sent.contains(&msg) {
                    self.sent.push(msg.clone());
                }
                vec![Effect::Send(msg)]
            }
            Output::ScheduleTimeout {
                kind,
                height,
                round,
                duration_ms,
            } => {
                vec![Effect::Timer {
                    kind,
                    height,
                    round,
                    duration_ms,
                }]
            }
            Output::RequestProposal {
                round, valid_value, ..
            } => match valid_value.filter(|v| self.held_executed(v)) {
                Some(hash) => self.feed(Input::ProposeValue {
                    round,
                    block_hash: hash,
                }),
                None => {
                    self.pending_proposal = Some((round, self.now_ms));
                    self.poll()
                }
            },
            Output::ValidateProposal {
                round, block_hash, ..
            } => {
                if self.executed.contains_key(&block_hash) {
                    return self.feed(Input::ProposalValidity {
                        round,
                        block_hash,
                        valid: true,
                    });
                }
                if self.bodies.contains_key(&block_hash) {
                    return self.validate(round, block_hash);
                }
                self.awaiting.insert(block_hash, round);
                Vec::new()
            }
            Output::Decide {
                height,
                block_hash,
                certificate,
                ..
            } => self.commit(height, block_hash, certificate),
            Output::Evidence(e) => vec![Effect::Evidence(e)],
        }
    }

    /// Whether `hash` is executed, executing its held body now if needed (a body restored
    /// with the lock after a restart).
    fn held_executed(&mut self, hash: &Hash) -> bool {
        if self.executed.contains_key(hash) {
            return true;
        }
        let Some(result) = self.bodies.get(hash).map(|b| self.core.validate_block(b)) else {
            return false;
        };
        match result {
            Ok(executed) => {
                self.executed.insert(*hash, executed);
                true
            }
            Err(reason) => {
                tracing::warn!(%hash, %reason, "held block no longer valid");
                false
            }
        }
    }

    fn propose(&mut self, round: u32) -> Vec<Effect> {
        let ex = self.core.build_proposal(self.now_ms);
        let hash = ex.block.hash();
        self.executed.insert(hash, ex);
        self.feed(Input::ProposeValue {
            round,
            block_hash: hash,
        })
    }

    fn commit(
        &mut self,
        height: u64,
        block_hash: Hash,
        certificate: CommitCertificate,
    ) -> Vec<Effect> {
        let Some(executed) = self.executed.remove(&block_hash) else {
            panic!("decided block {block_hash} at height {height} was never validated");
        };
        let mut effects = vec![self.commit_timed(executed, certificate)];
        effects.extend(self.next_height());
        effects
    }

    fn commit_timed(&mut self, executed: Executed, certificate: CommitCertificate) -> Effect {
        let started = (self.clock_micros)();
        let height = executed.block.header.height;
        let block_hash = executed.block.hash();
        let txs = executed.block.txs.len();
        let tx_hashes = match self.core.commit_executed(executed, certificate) {
            crate::core::Output::Committed { tx_hashes, .. } => tx_hashes,
            _ => Vec::new(),
        };
        Effect::Committed {
            height,
            block_hash,
            txs,
            tx_hashes,
            commit_micros: (self.clock_micros)().saturating_sub(started),
        }
    }

    /// Starts the height after the core's tip, replaying messages buffered for it.
    fn next_height(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.stats.signing_refusals = self
            .stats
            .signing_refusals
            .saturating_add(self.engine.signing_refusals());
        self.executed.clear();
        self.sent.clear();
        self.pending_proposal = None;
        self.bodies.clear();
        self.body_rounds.clear();
        self.awaiting.clear();
        self.engine = engine_for(&self.core, &self.key, &self.safety, self.timeouts);
        let next = self.engine.height();
        let woken = self
            .future
            .values()
            .any(|q| q.iter().any(|m| m.height() == next));
        if self.idle_block_interval_ms > 0 && !woken && !self.core.has_ready_txs() {
            self.idle_since = Some(self.now_ms);
            return effects;
        }
        effects.extend(self.begin_height());
        effects
    }

    /// Starts the height being decided, replaying the messages buffered for it.
    fn begin_height(&mut self) -> Vec<Effect> {
        self.idle_since = None;
        let mut effects = self.feed(Input::StartHeight);
        let next = self.engine.height();
        let mut now = Vec::new();
        for queue in self.future.values_mut() {
            let (this, later): (Vec<NetMsg>, Vec<NetMsg>) = std::mem::take(queue)
                .into_iter()
                .partition(|m| m.height() == next);
            *queue = later.into_iter().filter(|m| m.height() > next).collect();
            now.extend(this);
        }
        self.future.retain(|_, q| !q.is_empty());
        // Proposals with bodies first, so that the votes replayed after them find the block.
        now.sort_by_key(|m| !matches!(m, NetMsg::Proposal { .. }));
        for m in now {
            effects.extend(self.on_message(m));
        }
        effects
    }
}
