//! The BFT driver: runs the Tendermint [`Engine`] of the consensus crate on top of the
//! [`NodeCore`], one engine per height. It turns the engine's requests into node work
//! (build or re-execute a block, commit with the certificate) and its messages into network
//! effects, without doing any IO itself: the caller persists, sends and schedules.
//!
//! # Contract (see docs/protocol.md §7)
//! - Effects are returned in order; `Persist` must be durable before any later `Send` of the
//!   same call.
//! - A proposal's block body is sent before the proposal itself, so a validator never needs an
//!   extra round trip for the transactions.
//! - A block is validated by re-executing it ([`NodeCore::validate_block`]); the execution is
//!   kept and committed on `Decide` without executing again.
//! - Messages for a later height are kept (bounded) and replayed when that height starts.

use std::collections::BTreeMap;

use concordat_consensus::{
    CommitCertificate, Engine, Equivocation, Input, Message, Output, SafetyState, TimeoutKind,
};
use concordat_contracts::block::Block;
use concordat_primitives::{Hash, SecretKey};

use crate::core::{Executed, NodeCore};
use crate::store::NodeStore;

/// Most bodies kept per height (a Byzantine proposer cannot fill memory).
pub const MAX_BODIES_PER_HEIGHT: usize = 64;
/// Most messages kept for later heights.
pub const MAX_FUTURE_MESSAGES: usize = 10_000;
/// How many heights ahead messages are kept (further behind, a node syncs).
pub const FUTURE_HEIGHTS: u64 = 2;

/// What travels between validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetMsg {
    /// A signed proposal or vote.
    Consensus(Message),
    /// A proposed block body.
    Block(Block),
}

/// What the caller must do.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Persist the safety state durably (before any later `Send`).
    Persist(SafetyState),
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
        /// Time spent writing it durably (µs).
        commit_micros: u64,
    },
    /// Equivocation evidence.
    Evidence(Equivocation),
}

/// Runs consensus over a node core.
pub struct BftDriver<S: NodeStore> {
    core: NodeCore<S>,
    engine: Engine,
    key: Option<SecretKey>,
    safety: SafetyState,
    executed: BTreeMap<Hash, Executed>,
    bodies: BTreeMap<Hash, Block>,
    awaiting: BTreeMap<Hash, u32>,
    future: Vec<Message>,
    future_bodies: Vec<Block>,
    now_ms: u64,
    /// Our own messages of the current height, re-sent when the height stalls.
    sent: Vec<NetMsg>,
    /// A proposal we owe for this round, waiting for transactions (see `poll`).
    pending_proposal: Option<(u32, u64)>,
    empty_block_interval_ms: u64,
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
) -> Engine {
    match Engine::new(
        core.chain_id(),
        core.tip().height + 1,
        core.validator_set().clone(),
        key.clone(),
        safety.clone(),
    ) {
        Ok(e) => e,
        Err(e) => panic!(
            "cannot start consensus at height {}: {e}",
            core.tip().height + 1
        ),
    }
}

impl<S: NodeStore> BftDriver<S> {
    /// A driver for the height after the core's tip. `safety` is the persisted state (default
    /// for a fresh validator); `key` is `None` for an observer.
    pub fn new(core: NodeCore<S>, key: Option<SecretKey>, safety: SafetyState) -> BftDriver<S> {
        let engine = engine_for(&core, &key, &safety);
        BftDriver {
            core,
            engine,
            key,
            safety,
            executed: BTreeMap::new(),
            bodies: BTreeMap::new(),
            awaiting: BTreeMap::new(),
            future: Vec::new(),
            future_bodies: Vec::new(),
            now_ms: 0,
            sent: Vec::new(),
            pending_proposal: None,
            empty_block_interval_ms: 0,
        }
    }

    /// When this node is the proposer and its mempool is empty, it waits up to `ms` for a
    /// transaction before proposing an empty block (0, the default, proposes at once). Keep it
    /// well below the propose timeout.
    pub fn with_empty_block_interval(mut self, ms: u64) -> BftDriver<S> {
        self.empty_block_interval_ms = ms;
        self
    }

    /// The height being decided.
    pub fn height(&self) -> u64 {
        self.engine.height()
    }

    /// Proposes now if a proposal is owed and either the mempool has transactions or the empty
    /// block interval has passed. Call it on every tick and after admitting transactions.
    pub fn poll(&mut self) -> Vec<Effect> {
        let Some((round, since)) = self.pending_proposal else {
            return Vec::new();
        };
        let waited = self.now_ms.saturating_sub(since);
        if self.core.mempool().is_empty() && waited < self.empty_block_interval_ms {
            return Vec::new();
        }
        self.pending_proposal = None;
        self.propose(round)
    }

    /// Our own proposal, bodies and votes of the current height, to send again (a peer that
    /// restarted or lost them needs them for the height to progress).
    pub fn resend(&self) -> Vec<Effect> {
        self.sent.iter().cloned().map(Effect::Send).collect()
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
        certificate
            .verify(
                self.core.chain_id(),
                self.core.validator_set(),
                height,
                &hash,
                rand::rngs::OsRng,
            )
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

    /// Sets the clock used for new proposals.
    pub fn set_time(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
    }

    /// Starts the current height.
    pub fn start(&mut self) -> Vec<Effect> {
        self.feed(Input::StartHeight)
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
        match msg {
            NetMsg::Block(block) => {
                let hash = block.hash();
                // A body whose transactions do not match its header is never stored, so a
                // forged copy cannot displace the real one.
                if block.check_shape().is_err() {
                    return Vec::new();
                }
                if block.header.height == height + 1 {
                    if self.future_bodies.len() < MAX_BODIES_PER_HEIGHT {
                        self.future_bodies.push(block);
                    }
                    return Vec::new();
                }
                if block.header.height != height {
                    return Vec::new();
                }
                // A body we wait for is always taken; others only while there is room.
                let awaited = self.awaiting.contains_key(&hash);
                if !awaited && self.bodies.len() >= MAX_BODIES_PER_HEIGHT {
                    return Vec::new();
                }
                self.bodies.entry(hash).or_insert(block);
                match self.awaiting.remove(&hash) {
                    Some(round) => self.validate(round, hash),
                    None => Vec::new(),
                }
            }
            NetMsg::Consensus(m) if m.height() == height => self.feed(match m {
                Message::Proposal(p) => Input::Proposal(p),
                Message::Vote(v) => Input::Vote(v),
            }),
            // Only the next heights are kept: a node further behind catches up by sync.
            NetMsg::Consensus(m)
                if m.height() > height && m.height() <= height + FUTURE_HEIGHTS =>
            {
                if self.future.len() < MAX_FUTURE_MESSAGES {
                    self.future.push(m);
                }
                Vec::new()
            }
            NetMsg::Consensus(_) => Vec::new(),
        }
    }

    fn validate(&mut self, round: u32, hash: Hash) -> Vec<Effect> {
        let valid = match self.bodies.get(&hash).map(|b| self.core.validate_block(b)) {
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
        let outputs = self.engine.try_handle(input).unwrap_or_default();
        let mut effects = Vec::new();
        for out in outputs {
            effects.extend(self.on_output(out));
        }
        effects
    }

    fn on_output(&mut self, out: Output) -> Vec<Effect> {
        match out {
            Output::PersistSafety(s) => {
                self.safety = s.clone();
                vec![Effect::Persist(s)]
            }
            Output::Broadcast(m) => {
                let mut msgs = Vec::new();
                if let Message::Proposal(p) = &m {
                    if let Some(ex) = self.executed.get(&p.proposal.block_hash) {
                        msgs.push(NetMsg::Block(ex.block.clone()));
                    }
                }
                msgs.push(NetMsg::Consensus(m));
                self.sent.extend(msgs.iter().cloned());
                msgs.into_iter().map(Effect::Send).collect()
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
            } => match valid_value.filter(|v| self.executed.contains_key(v)) {
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
        let started = std::time::Instant::now();
        let height = executed.block.header.height;
        let block_hash = executed.block.hash();
        let txs = executed.block.txs.len();
        self.core.commit_executed(executed, certificate);
        Effect::Committed {
            height,
            block_hash,
            txs,
            commit_micros: started.elapsed().as_micros() as u64,
        }
    }

    /// Starts the height after the core's tip, replaying messages buffered for it.
    fn next_height(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.executed.clear();
        self.sent.clear();
        self.pending_proposal = None;
        self.bodies.clear();
        self.awaiting.clear();
        self.engine = engine_for(&self.core, &self.key, &self.safety);
        effects.extend(self.feed(Input::StartHeight));
        let next = self.engine.height();
        let (now, later): (Vec<Message>, Vec<Message>) = std::mem::take(&mut self.future)
            .into_iter()
            .partition(|m| m.height() == next);
        self.future = later.into_iter().filter(|m| m.height() > next).collect();
        // Bodies first, so that replayed proposals find them.
        for b in std::mem::take(&mut self.future_bodies) {
            effects.extend(self.on_message(NetMsg::Block(b)));
        }
        for m in now {
            effects.extend(self.on_message(NetMsg::Consensus(m)));
        }
        effects
    }
}
