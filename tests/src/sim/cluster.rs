//! The simulated cluster: node instances each running the node's real [`BftDriver`] and
//! [`NodeCore`] over an in-memory store, a seeded network, a virtual clock and an event queue
//! ordered by `(virtual time, sequence)`. Blocks are built, re-executed by the contract
//! modules, committed and synced exactly as in the daemon; the cluster plays only the
//! runtime's part (`service.rs`): persisting the safety state, timers, the periodic tick with
//! its stall re-send and block sync, and the network.
//!
//! Everything random comes from one `ChaCha8Rng` seeded with the run's seed (node cores get
//! their batch-verification seeds from it too), and the queue is a `BTreeMap`, so a seed fully
//! determines the run; the trace hash (SHA-256 over every processed event and every effect)
//! witnesses it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use concordat_consensus::{
    CommitCertificate, Message, Proposal, SafetyState, SignedProposal, SignedVote, Vote, VoteKind,
    Watermark,
};
use concordat_contracts::block::Block;
use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, Transaction};
use concordat_genesis::{demo_spec, Genesis};
use concordat_node::bft::{BftDriver, Effect, LockEvidence, NetMsg, SyncError};
use concordat_node::core::{ConsensusConfig, ExternalConsensus, NodeCore};
use concordat_node::mempool::MempoolConfig;
use concordat_node::store::{MemStore, NodeStore};
use concordat_primitives::ledger::ValidatorSet;
use concordat_primitives::{Hash, SecretKey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::check::{Checker, Invariant, Violation};
use super::{Behaviour, Config};

/// Chain id of every simulated cluster.
pub const SIM_CHAIN: &str = "concordat-sim";
/// Genesis time of every simulated cluster; virtual time 0 is one second later.
const GENESIS_TIME: &str = "2026-01-01T00:00:00+08:00";
/// Most decided heights handed over in one sync answer.
const SYNC_BATCH: u64 = 16;
/// Hard cap on processed events per run (a run above it is reported as a liveness failure).
const MAX_EVENTS: u64 = 3_000_000;

/// A scheduled event.
#[derive(Debug, Clone)]
enum Event {
    /// A network delivery to node instance `to`.
    Deliver { to: usize, msg: NetMsg },
    /// A block-sync answer: blocks with certificates, consecutive.
    Sync {
        to: usize,
        blocks: Vec<(Block, CommitCertificate)>,
    },
    /// A consensus timer of node `node` in incarnation `epoch`.
    Timer {
        node: usize,
        epoch: u64,
        kind: concordat_consensus::TimeoutKind,
        height: u64,
        round: u32,
    },
    /// The runtime's periodic work of node `node`: poll, stall re-send, block sync.
    Tick { node: usize, epoch: u64 },
    /// Node `node` crashes (possibly in the middle of its next step).
    Crash { node: usize },
    /// Node `node` stops gracefully (after the step it is in).
    Stop { node: usize },
    /// Node `node` restarts from its storage.
    Restart { node: usize },
    /// A partition starts: `groups[i]` is the group of node instance `i`.
    Partition { groups: Vec<u8> },
    /// Every partition heals.
    Heal,
    /// A client submits a transaction to node `node`.
    Submit { node: usize, tx: Vec<u8> },
    /// The fault window ends: heal, stop loss and duplication, restart stopped nodes.
    FaultsEnd,
}

/// One node instance (a validator key; twins are two instances of one key; observers hold
/// keys outside the set).
struct Node {
    /// Index of its key in `Cluster::keys`.
    key: usize,
    /// Byzantine behaviour, if any.
    byz: Option<Behaviour>,
    /// The driver; `None` while down.
    driver: Option<BftDriver<MemStore>>,
    /// Storage that survives a crash: committed blocks and state (one atomic batch per
    /// height, as RocksDB's synced write batch).
    store: Arc<MemStore>,
    /// Storage that survives a crash: the last completed `Persist`.
    safety: SafetyState,
    /// Storage that survives a crash: the evidence of the last lock.
    lock_evidence: Option<LockEvidence>,
    /// Incarnation: bumped at each stop, so stale timers and ticks are ignored.
    epoch: u64,
    /// The node crashes in the middle of its next step.
    crash_armed: bool,
    /// Peers a withholding node still sends to.
    withhold_to: BTreeSet<usize>,
    /// Virtual time the current height started (for the stall re-send).
    height_since: u64,
    /// The height at `height_since`.
    height_seen: u64,
    /// Last stall re-send.
    last_resend: u64,
    /// Precommits a sync-forging node has seen: (height, round, block) -> votes.
    precommits: BTreeMap<(u64, u32, Option<Hash>), Vec<SignedVote>>,
    /// Proposed bodies a sync-forging node has seen.
    seen_bodies: BTreeMap<Hash, Block>,
    /// Committed height (the store's tip).
    committed: u64,
}

impl Node {
    fn up(&self) -> bool {
        self.driver.is_some()
    }

    /// The committed height (kept from the commits seen, so no store read per event).
    fn tip(&self) -> u64 {
        self.committed
    }
}

/// What a run produced (also on failure).
#[derive(Debug, Clone)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// SHA-256 over the ordered event log, hex.
    pub trace_hash: String,
    /// Events processed.
    pub events: u64,
    /// Virtual time at the end, in ms.
    pub end_ms: u64,
    /// Heights decided by some honest node.
    pub heights: usize,
    /// The target height honest nodes had to reach after the faults stopped.
    pub target_height: u64,
    /// Highest round any honest commit needed.
    pub max_round: u32,
    /// Crashes and stops that happened.
    pub crashes: u64,
    /// Equivocation evidence reported by honest drivers.
    pub evidence: u64,
    /// Heights committed through block sync (certificate verified).
    pub synced: u64,
    /// Synced blocks refused (bad certificate or execution).
    pub sync_rejected: u64,
    /// Transactions committed (on the first honest node).
    pub txs_committed: u64,
    /// Signing refusals summed over honest nodes (the stored message was sent instead).
    pub signing_refusals: u64,
    /// Bodies dropped by honest drivers.
    pub bodies_dropped: u64,
    /// Virtual ms per honest height in the quiet phase after the faults (mean).
    pub ms_per_height_after_faults: u64,
    /// The first violation, if any.
    pub violation: Option<Violation>,
}

/// A simulated cluster. Build with [`Cluster::new`], run with [`Cluster::run`].
pub struct Cluster {
    cfg: Config,
    /// Validator keys by key index, then observer keys.
    keys: Vec<SecretKey>,
    set: ValidatorSet,
    genesis: Genesis,
    registrar: SecretKey,
    rng: ChaCha8Rng,
    nodes: Vec<Node>,
    queue: BTreeMap<(u64, u64), Event>,
    seq: u64,
    now: u64,
    base_ms: u64,
    partition: Option<Vec<u8>>,
    faults: bool,
    faults_end_ms: u64,
    height_at_faults_end: u64,
    /// Blocks Byzantine proposers made invalid on purpose.
    invalid: BTreeSet<Hash>,
    checker: Checker,
    trace: Sha256,
    events: u64,
    target: Option<u64>,
    max_round: u32,
    crashes: u64,
    lock_crashes: u32,
    evidence: u64,
    synced: u64,
    sync_rejected: u64,
    next_nonce: u64,
    /// Commits per honest node instance with their virtual times (for rate checks).
    commit_times: BTreeMap<usize, Vec<u64>>,
}

fn key_of(i: usize) -> SecretKey {
    let b = u8::try_from(i + 1).expect("at most 255 keys");
    SecretKey::from_seed([b; 32])
}

fn member_key(i: u8) -> SecretKey {
    SecretKey::from_seed([200u8.wrapping_add(i); 32])
}

fn uscc(n: u64) -> String {
    let first17 = format!("91110105MA{:07}", n % 10_000_000);
    let c = concordat_contracts::ids::uscc_check_char(first17.as_bytes()).expect("charset");
    format!("{first17}{c}")
}

impl Cluster {
    /// A cluster for `cfg` (keys are derived from the key index, not the seed).
    ///
    /// # Panics
    /// If the configuration is inconsistent (e.g. a Byzantine index out of range).
    pub fn new(cfg: Config) -> Cluster {
        let n = cfg.validators;
        let keys: Vec<SecretKey> = (0..n + cfg.observers).map(key_of).collect();
        let members: Vec<_> = (0..5).map(|i| member_key(i).public_key()).collect();
        let validators: Vec<_> = keys[..n].iter().map(SecretKey::public_key).collect();
        let mut spec = demo_spec(SIM_CHAIN, GENESIS_TIME, &members, &validators);
        for (i, v) in spec.validators.iter_mut().enumerate() {
            v.power = cfg.powers.get(i).copied().unwrap_or(1);
        }
        let genesis = spec.validate().expect("simulation genesis is valid");
        let set = genesis.validator_set().expect("set");
        let base_ms = genesis.genesis_time_ms + 1_000;
        for (k, _) in &cfg.byzantine {
            assert!(*k < n + cfg.observers, "Byzantine key {k} out of range");
        }
        let byz: BTreeMap<usize, Behaviour> = cfg.byzantine.iter().copied().collect();
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let checker = Checker::new(set.validators().iter().map(|v| (v.key, v.power)));
        let mut nodes = Vec::new();
        for key in 0..n + cfg.observers {
            let b = byz.get(&key).copied();
            let copies = if b == Some(Behaviour::Twins) { 2 } else { 1 };
            for _ in 0..copies {
                nodes.push(Node {
                    key,
                    byz: b,
                    driver: None,
                    store: Arc::new(MemStore::new()),
                    safety: SafetyState::default(),
                    lock_evidence: None,
                    epoch: 0,
                    crash_armed: false,
                    withhold_to: BTreeSet::new(),
                    height_since: 0,
                    height_seen: 0,
                    last_resend: 0,
                    precommits: BTreeMap::new(),
                    seen_bodies: BTreeMap::new(),
                    committed: 0,
                });
            }
        }
        Cluster {
            cfg,
            keys,
            set,
            genesis,
            registrar: member_key(0),
            rng,
            nodes,
            queue: BTreeMap::new(),
            seq: 0,
            now: 0,
            base_ms,
            partition: None,
            faults: true,
            faults_end_ms: 0,
            height_at_faults_end: 0,
            invalid: BTreeSet::new(),
            checker,
            trace: Sha256::new(),
            events: 0,
            target: None,
            max_round: 0,
            crashes: 0,
            lock_crashes: 0,
            evidence: 0,
            synced: 0,
            sync_rejected: 0,
            next_nonce: 0,
            commit_times: BTreeMap::new(),
        }
    }

    /// Number of node instances (validators, twin copies and observers).
    pub fn instances(&self) -> usize {
        self.nodes.len()
    }

    fn honest(&self, node: usize) -> bool {
        self.nodes[node].byz.is_none() && self.nodes[node].key < self.cfg.validators
    }

    fn honest_key(&self, key: &concordat_primitives::PublicKey) -> bool {
        (0..self.nodes.len())
            .any(|j| self.honest(j) && self.keys[self.nodes[j].key].public_key() == *key)
    }

    fn schedule(&mut self, at: u64, ev: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), ev);
    }

    fn log(&mut self, parts: &[&[u8]]) {
        for p in parts {
            self.trace.update(p);
        }
    }

    /// Runs to completion: until every honest node reached the target height after the
    /// faults stopped, a violation, or the liveness bound.
    pub fn run(mut self) -> Report {
        self.setup();
        while self.checker.violations.is_empty() {
            if self.done() {
                break;
            }
            let Some(((at, _), ev)) = self.queue.pop_first() else {
                let now = self.now;
                self.checker
                    .violation(Invariant::Liveness, now, "event queue ran dry".into());
                break;
            };
            self.now = self.now.max(at);
            self.events += 1;
            if let Some(target) = self.target {
                let bound = self.faults_end_ms + self.cfg.liveness_bound_ms;
                if self.now > bound || self.events > MAX_EVENTS {
                    if self.cfg.check_liveness {
                        let detail = format!(
                            "target height {target} not reached; nodes: {}",
                            self.describe()
                        );
                        let now = self.now;
                        self.checker.violation(Invariant::Liveness, now, detail);
                    }
                    break;
                }
            }
            self.process(ev);
            self.check_rate();
        }
        let violation = self.checker.violations.first().cloned();
        let hash = self.trace.clone().finalize();
        let honest: Vec<usize> = (0..self.nodes.len()).filter(|i| self.honest(*i)).collect();
        let stats: Vec<_> = honest
            .iter()
            .filter_map(|i| self.nodes[*i].driver.as_ref().map(BftDriver::stats))
            .collect();
        let first = honest.first().copied().unwrap_or(0);
        let tip = self.nodes[first].store.tip().ok().flatten();
        let after = self.nodes[first]
            .tip()
            .saturating_sub(self.height_at_faults_end);
        Report {
            seed: self.cfg.seed,
            trace_hash: hex::encode(hash),
            events: self.events,
            end_ms: self.now,
            heights: self.checker.heights_decided(),
            target_height: self.target.unwrap_or(0),
            max_round: self.max_round,
            crashes: self.crashes,
            evidence: self.evidence,
            synced: self.synced,
            sync_rejected: self.sync_rejected,
            txs_committed: tip.map_or(0, |t| t.tx_log_size),
            signing_refusals: stats.iter().map(|s| s.signing_refusals).sum(),
            bodies_dropped: stats.iter().map(|s| s.bodies_dropped).sum(),
            ms_per_height_after_faults: self
                .now
                .saturating_sub(self.faults_end_ms)
                .checked_div(after)
                .unwrap_or(u64::MAX),
            violation,
        }
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| match &n.driver {
                Some(d) => {
                    let (r, s) = d.round_step();
                    format!(
                        "{i}{}: h{} r{r} {s:?} locked {:?} valid {:?} refusals {}",
                        n.byz.map_or(String::new(), |b| format!("({b:?})")),
                        d.height(),
                        d.engine().locked().map(|l| l.round),
                        d.engine().valid().map(|l| l.round),
                        d.stats().signing_refusals
                    )
                }
                None => format!("{i}: tip {} down", n.tip()),
            })
            .collect();
        parts.join("; ")
    }

    fn done(&self) -> bool {
        let Some(target) = self.target else {
            return false;
        };
        (0..self.nodes.len())
            .filter(|i| self.honest(*i))
            .all(|i| self.nodes[i].tip() >= target)
    }

    fn setup(&mut self) {
        for i in 0..self.nodes.len() {
            self.start(i);
            let at = self.rng.gen_range(0..self.cfg.tick_ms);
            self.schedule(at, Event::Tick { node: i, epoch: 0 });
            if self.nodes[i].byz == Some(Behaviour::Withhold) && self.rng.gen_bool(0.5) {
                // Withhold from everyone, or send to one random peer only.
                let peer = self.rng.gen_range(0..self.nodes.len());
                if peer != i {
                    self.nodes[i].withhold_to.insert(peer);
                }
            }
        }
        for p in self.cfg.partitions.clone() {
            self.schedule(
                p.start_ms,
                Event::Partition {
                    groups: p.groups.clone(),
                },
            );
            self.schedule(p.end_ms, Event::Heal);
        }
        let window = self.cfg.fault_window_ms;
        if self.cfg.random_partitions && window > 0 {
            let count = self.rng.gen_range(1..=3);
            for _ in 0..count {
                let start = self.rng.gen_range(0..window);
                let len = self.rng.gen_range(200..=window / 2 + 200);
                let groups: Vec<u8> = (0..self.nodes.len())
                    .map(|_| u8::from(self.rng.gen_bool(0.5)))
                    .collect();
                self.schedule(start, Event::Partition { groups });
                self.schedule(start + len, Event::Heal);
            }
        }
        if self.cfg.crashes > 0 && window > 0 {
            for _ in 0..self.cfg.crashes {
                let node = self.rng.gen_range(0..self.nodes.len());
                let at = self.rng.gen_range(0..window);
                let down = self.rng.gen_range(100..=window);
                self.schedule(at, Event::Crash { node });
                self.schedule(at + down, Event::Restart { node });
            }
        }
        // Whole-network restarts: every instance stops within a short spread (gracefully or
        // by crash), then all start again in random order.
        for _ in 0..self.cfg.restart_all {
            let at = self.rng.gen_range(window / 4..=window.max(4) * 3 / 4);
            let spread = self.rng.gen_range(0..=self.cfg.restart_spread_ms);
            let down = self.rng.gen_range(50..=500);
            for node in 0..self.nodes.len() {
                let t = at + self.rng.gen_range(0..=spread);
                let ev = if self.cfg.graceful_restarts {
                    Event::Stop { node }
                } else {
                    Event::Crash { node }
                };
                self.schedule(t, ev);
                let back = at + spread + down + self.rng.gen_range(0..=spread);
                self.schedule(back, Event::Restart { node });
            }
        }
        // Client load: party registrations with consecutive nonces, sent to a random node
        // (and gossiped: every validator gets it a little later).
        for k in 0..self.cfg.txs {
            let at = self.rng.gen_range(0..window.max(1));
            let tx = self.registration(k as u64, 50_000);
            let first = self.rng.gen_range(0..self.nodes.len());
            self.schedule(
                at,
                Event::Submit {
                    node: first,
                    tx: tx.clone(),
                },
            );
            for node in 0..self.nodes.len() {
                if node != first {
                    let d = self.rng.gen_range(1..=self.cfg.max_delay_ms.max(1));
                    self.schedule(
                        at + d,
                        Event::Submit {
                            node,
                            tx: tx.clone(),
                        },
                    );
                }
            }
        }
        self.next_nonce = self.cfg.txs as u64;
        if self.cfg.nonce_gap {
            // One transaction whose nonce leaves a gap, with a far expiry: it can never be
            // included, and must not make proposers spin out empty blocks.
            let tx = self.registration(self.next_nonce + 1, 90_000);
            for node in 0..self.nodes.len() {
                self.schedule(
                    1,
                    Event::Submit {
                        node,
                        tx: tx.clone(),
                    },
                );
            }
        }
        self.schedule(window, Event::FaultsEnd);
    }

    fn registration(&self, nonce: u64, expiry_height: u64) -> Vec<u8> {
        Transaction {
            chain_id: SIM_CHAIN.into(),
            signer: self.registrar.public_key(),
            nonce,
            expiry_height,
            call: Call::Party(PartyCall::Register {
                uscc: uscc(nonce + 1),
                name: "模拟企业".into(),
                legal_rep_ref: None,
                registered_address: "模拟路".into(),
            }),
        }
        .sign(&self.registrar)
        .to_bytes()
    }

    /// Opens node `i` from its storage and starts its driver.
    fn start(&mut self, i: usize) {
        let seed: [u8; 32] = self.rng.gen();
        let key = self.keys[self.nodes[i].key].clone();
        let core = match NodeCore::open(
            self.nodes[i].store.clone(),
            &self.genesis,
            key.clone(),
            ConsensusConfig::default(),
            MempoolConfig::default(),
            Box::new(ExternalConsensus),
            seed,
        ) {
            Ok(c) => c,
            Err(e) => {
                let now = self.now;
                self.checker.violation(
                    Invariant::Agreement,
                    now,
                    format!("node {i} cannot open: {e}"),
                );
                return;
            }
        };
        let driver = BftDriver::new(core, Some(key), self.nodes[i].safety.clone())
            .with_timeouts(self.cfg.timeouts)
            .with_empty_block_interval(self.cfg.empty_block_interval_ms)
            .with_lock_evidence(self.nodes[i].lock_evidence.clone());
        self.nodes[i].driver = Some(driver);
        self.nodes[i].committed = self.nodes[i]
            .store
            .tip()
            .ok()
            .flatten()
            .map_or(0, |t| t.height);
        self.nodes[i].height_since = self.now;
        self.nodes[i].height_seen = self.nodes[i].tip();
        self.nodes[i].last_resend = self.now;
        let t = self.now.to_le_bytes();
        self.log(&[b"start", &t, &(i as u64).to_le_bytes()]);
        self.drive(i, |d| d.start());
    }

    fn process(&mut self, ev: Event) {
        let t = self.now.to_le_bytes();
        match ev {
            Event::Deliver { to, msg } => {
                if !self.nodes[to].up() {
                    return;
                }
                self.log(&[b"dlv", &t, &(to as u64).to_le_bytes(), &msg_digest(&msg)]);
                if matches!(
                    self.nodes[to].byz,
                    Some(Behaviour::ForgedSync | Behaviour::BadPolRound)
                ) {
                    self.note_precommit(to, &msg);
                }
                self.drive(to, |d| d.on_message(msg));
            }
            Event::Sync { to, blocks } => {
                if !self.nodes[to].up() {
                    return;
                }
                self.log(&[b"sync", &t, &(to as u64).to_le_bytes()]);
                self.on_sync(to, blocks);
            }
            Event::Timer {
                node,
                epoch,
                kind,
                height,
                round,
            } => {
                if self.nodes[node].epoch != epoch || !self.nodes[node].up() {
                    return;
                }
                self.log(&[b"timer", &t, &(node as u64).to_le_bytes()]);
                self.drive(node, |d| d.on_timeout(kind, height, round));
            }
            Event::Tick { node, epoch } => {
                if self.nodes[node].epoch != epoch || !self.nodes[node].up() {
                    return;
                }
                self.log(&[b"tick", &t, &(node as u64).to_le_bytes()]);
                self.tick(node);
                if self.nodes[node].epoch == epoch {
                    let at = self.now + self.cfg.tick_ms;
                    self.schedule(at, Event::Tick { node, epoch });
                }
            }
            Event::Crash { node } => {
                if !self.faults || !self.nodes[node].up() {
                    return;
                }
                self.log(&[b"crash", &t, &(node as u64).to_le_bytes()]);
                if self.rng.gen_bool(0.5) {
                    self.nodes[node].crash_armed = true;
                } else {
                    self.stop(node);
                }
            }
            Event::Stop { node } => {
                if !self.faults || !self.nodes[node].up() {
                    return;
                }
                self.log(&[b"stop", &t, &(node as u64).to_le_bytes()]);
                self.stop(node);
            }
            Event::Restart { node } => self.restart(node),
            Event::Partition { groups } => {
                if self.faults {
                    self.log(&[b"part", &t, &groups]);
                    self.partition = Some(groups);
                }
            }
            Event::Heal => {
                self.log(&[b"heal", &t]);
                self.partition = None;
            }
            Event::Submit { node, tx } => {
                if !self.nodes[node].up() {
                    return;
                }
                self.log(&[b"submit", &t, &(node as u64).to_le_bytes()]);
                let now = self.base_ms + self.now;
                self.drive(node, |d| {
                    let _ = d.core_mut().submit(&tx);
                    d.set_time(now);
                    d.poll()
                });
            }
            Event::FaultsEnd => {
                self.log(&[b"faults-end", &t]);
                self.faults = false;
                self.partition = None;
                for i in 0..self.nodes.len() {
                    self.nodes[i].crash_armed = false;
                    self.restart(i);
                }
                let top = (0..self.nodes.len())
                    .filter(|i| self.honest(*i))
                    .map(|i| self.nodes[i].tip())
                    .max()
                    .unwrap_or(0);
                self.faults_end_ms = self.now;
                self.height_at_faults_end = (0..self.nodes.len())
                    .filter(|i| self.honest(*i))
                    .map(|i| self.nodes[i].tip())
                    .next()
                    .unwrap_or(0);
                self.target = Some(top.max(self.cfg.min_heights) + self.cfg.extra_heights);
            }
        }
    }

    fn stop(&mut self, node: usize) {
        let n = &mut self.nodes[node];
        n.driver = None;
        n.epoch += 1;
        n.crash_armed = false;
        self.crashes += 1;
        let t = self.now.to_le_bytes();
        self.log(&[b"down", &t, &(node as u64).to_le_bytes()]);
    }

    /// "Lock, then crash": after an honest precommit for a block, maybe crash the node.
    fn maybe_crash_locked(&mut self, i: usize, m: &Message) {
        let Message::Vote(v) = m else { return };
        if v.vote.kind != VoteKind::Precommit
            || v.vote.block_hash.is_none()
            || !self.faults
            || self.cfg.crash_on_lock <= 0.0
            || self.lock_crashes >= MAX_LOCK_CRASHES
            || !self.rng.gen_bool(self.cfg.crash_on_lock)
        {
            return;
        }
        self.lock_crashes += 1;
        let at = self.now + self.rng.gen_range(1..40);
        let back = at + self.rng.gen_range(200..1_500);
        self.schedule(at, Event::Crash { node: i });
        self.schedule(back, Event::Restart { node: i });
    }

    fn restart(&mut self, node: usize) {
        if self.nodes[node].up() {
            return;
        }
        self.start(node);
        let epoch = self.nodes[node].epoch;
        let at = self.now + 1;
        self.schedule(at, Event::Tick { node, epoch });
    }

    /// Runs one driver call on node `i` (with the virtual clock set) and performs its effects.
    fn drive(&mut self, i: usize, f: impl FnOnce(&mut BftDriver<MemStore>) -> Vec<Effect>) {
        let now = self.base_ms + self.now;
        let Some(driver) = self.nodes[i].driver.as_mut() else {
            return;
        };
        driver.set_time(now);
        let effects = f(driver);
        let cut = if self.nodes[i].crash_armed {
            self.rng.gen_range(0..=effects.len())
        } else {
            usize::MAX
        };
        for (k, e) in effects.into_iter().enumerate() {
            if k == cut {
                break;
            }
            self.perform(i, e);
            if !self.nodes[i].up() {
                return;
            }
        }
        if cut != usize::MAX {
            // The crash hits after `cut` effects: what was not yet performed is lost.
            self.stop(i);
            return;
        }
        if let Some(d) = &self.nodes[i].driver {
            let h = d.core().tip().height;
            if h != self.nodes[i].height_seen {
                self.nodes[i].height_seen = h;
                self.nodes[i].height_since = self.now;
            }
        }
    }

    fn perform(&mut self, i: usize, e: Effect) {
        let t = self.now.to_le_bytes();
        let id = (i as u64).to_le_bytes();
        match e {
            Effect::Persist(s, lock) => {
                self.log(&[b"persist", &t, &id]);
                self.nodes[i].safety = s;
                if let Some(lock) = lock {
                    self.nodes[i].lock_evidence = Some(*lock);
                }
            }
            Effect::Send(msg) => {
                self.log(&[b"send", &t, &id, &msg_digest(&msg)]);
                if std::env::var_os("CONCORDAT_SIM_DEBUG").is_some() {
                    eprintln!("{} node {i} sends {}", self.now, describe_msg(&msg));
                }
                let own = self.keys[self.nodes[i].key].public_key();
                // Honest nodes only: a Byzantine one signs around its safety rules, and a
                // twin relays what its other instance signed under the same key.
                let mine = signed_message(&msg).filter(|m| signer(m) == own && self.honest(i));
                if let Some(m) = mine {
                    // Persist before speak: what we signed is on "disk" before it leaves.
                    let w = Watermark::of(&m);
                    let disk = &self.nodes[i].safety;
                    let durable = disk.watermark().is_some_and(|d| w <= d)
                        && disk.signed_at(w).is_none_or(|held| held == &m);
                    if !durable {
                        let now = self.now;
                        self.checker.violation(
                            Invariant::PersistFirst,
                            now,
                            format!("node {i} sent {m:?} before persisting it"),
                        );
                    }
                    let now = self.now;
                    let key = self.nodes[i].key;
                    self.checker.on_signed(now, i, key, &m);
                    self.maybe_crash_locked(i, &m);
                }
                self.broadcast(i, msg);
            }
            Effect::Timer {
                kind,
                height,
                round,
                duration_ms,
            } => {
                let epoch = self.nodes[i].epoch;
                let at = self.now + duration_ms;
                self.schedule(
                    at,
                    Event::Timer {
                        node: i,
                        epoch,
                        kind,
                        height,
                        round,
                    },
                );
            }
            Effect::Committed {
                height, block_hash, ..
            } => {
                self.nodes[i].committed = self.nodes[i].committed.max(height);
                self.log(&[b"commit", &t, &id, &height.to_le_bytes(), &block_hash.0]);
                self.on_commit(i, height, block_hash);
            }
            Effect::Evidence(e) => {
                self.evidence += 1;
                if self.honest_key(&e.offender()) {
                    let now = self.now;
                    self.checker.violation(
                        Invariant::HonestDoubleSign,
                        now,
                        format!("node {i} holds equivocation evidence against an honest key"),
                    );
                }
            }
        }
    }

    fn on_commit(&mut self, i: usize, height: u64, block_hash: Hash) {
        if !self.honest(i) {
            return;
        }
        let now = self.now;
        self.checker.on_commit(now, i, height, block_hash);
        if self.invalid.contains(&block_hash) {
            self.checker.violation(
                Invariant::Agreement,
                now,
                format!("node {i} committed an invalid block at height {height}"),
            );
        }
        let store = &self.nodes[i].store;
        match store.certificate(height) {
            Ok(Some(cert)) => {
                self.max_round = self.max_round.max(cert.round);
                let power = signer_power(&self.set, &cert);
                if power * 3 <= self.set.total_power() * 2 {
                    self.checker.violation(
                        Invariant::Certificate,
                        now,
                        format!(
                            "node {i} committed height {height} with a certificate of {power} of {} power (not more than 2/3)",
                            self.set.total_power()
                        ),
                    );
                }
                let ok = cert
                    .verify(
                        SIM_CHAIN,
                        &self.set,
                        height,
                        &block_hash,
                        ChaCha8Rng::seed_from_u64(height),
                    )
                    .is_ok();
                if !ok {
                    self.checker.violation(
                        Invariant::Certificate,
                        now,
                        format!("node {i} committed height {height} with a bad certificate"),
                    );
                }
            }
            _ => self.checker.violation(
                Invariant::Certificate,
                now,
                format!("node {i} committed height {height} without a stored certificate"),
            ),
        }
        self.commit_times.entry(i).or_default().push(now);
    }

    /// With a nonce gap pending, the chain must not spin: honest nodes commit at most one
    /// block per empty-block interval (plus slack) over any second of virtual time.
    fn check_rate(&mut self) {
        let Some(max) = self.cfg.max_blocks_per_second else {
            return;
        };
        let now = self.now;
        for (i, times) in &self.commit_times {
            let recent = times.iter().filter(|t| **t + 1_000 > now).count() as u64;
            if recent > max {
                let detail =
                    format!("node {i} committed {recent} blocks in the last second (max {max})");
                self.checker.violation(Invariant::Liveness, now, detail);
                return;
            }
        }
    }

    /// Sends `msg` from node `i` according to its behaviour.
    fn broadcast(&mut self, i: usize, msg: NetMsg) {
        let peers: Vec<usize> = (0..self.nodes.len()).filter(|j| *j != i).collect();
        match self.nodes[i].byz {
            None | Some(Behaviour::Twins) | Some(Behaviour::ForgedSync) => {
                for j in peers {
                    self.send(i, j, msg.clone());
                }
            }
            Some(Behaviour::Withhold) => {
                let to: Vec<usize> = self.nodes[i].withhold_to.iter().copied().collect();
                for j in to {
                    self.send(i, j, msg.clone());
                }
            }
            Some(Behaviour::Equivocate) => {
                let other = self.conflicting(i, &msg);
                for j in peers {
                    let m = match &other {
                        Some(o) if self.rng.gen_bool(0.5) => o.clone(),
                        _ => msg.clone(),
                    };
                    self.send(i, j, m);
                }
            }
            Some(Behaviour::InvalidProposals) => {
                let m = match &msg {
                    NetMsg::Proposal { proposal, block } => self.tampered(i, proposal, block),
                    _ => msg.clone(),
                };
                for j in peers {
                    self.send(i, j, m.clone());
                }
            }
            Some(Behaviour::BadPolRound) => {
                let NetMsg::Proposal { proposal, block } = &msg else {
                    for j in peers {
                        self.send(i, j, msg.clone());
                    }
                    return;
                };
                let p = proposal.proposal;
                // Prefer the attack that has a target: a block with an earlier polka to
                // re-propose, or a peer seen locked on another block to mislead.
                let stale = self.stale_polka(i, p.height, p.round, p.block_hash);
                let target = p.round > 0
                    && peers
                        .iter()
                        .any(|j| self.seen_locked(i, *j, p.height, p.round, Hash::ZERO));
                let attack = match (stale.is_some(), target) {
                    (true, _) if self.rng.gen_bool(0.5) => 0,
                    (_, true) => 1,
                    _ => self.rng.gen_range(0..3),
                };
                match attack {
                    // A stale proof-of-lock: re-propose a block that had a polka in an
                    // earlier round (one honest validators may since have locked against),
                    // claiming that round. Only a validator that accepts a proof-of-lock
                    // older than its lock prevotes it.
                    0 => {
                        let m = match stale {
                            Some((vr, body)) => NetMsg::Proposal {
                                proposal: self.sign_proposal(
                                    i,
                                    Proposal {
                                        block_hash: body.hash(),
                                        pol_round: Some(vr),
                                        ..p
                                    },
                                ),
                                block: Box::new(body),
                            },
                            None => msg.clone(),
                        };
                        for j in peers {
                            self.send(i, j, m.clone());
                        }
                    }
                    // Two proposals of a fresh block: no proof-of-lock claim to some peers
                    // (they prevote it and may make a polka in this round), a claim at this
                    // very round (or the next) to the others, above all to those it saw lock
                    // on another block. Only a validator that accepts
                    // vr >= round takes that polka as a proof-of-lock.
                    1 => {
                        // A fresh block of its own (not the value its engine re-proposes).
                        let fresh = self.fresh_block(i).unwrap_or_else(|| (**block).clone());
                        let w = fresh.hash();
                        let claim = Some(p.round + self.rng.gen_range(0..2));
                        let signed = |claim: Option<u32>| NetMsg::Proposal {
                            proposal: self.sign_proposal(
                                i,
                                Proposal {
                                    block_hash: w,
                                    pol_round: claim,
                                    ..p
                                },
                            ),
                            block: Box::new(fresh.clone()),
                        };
                        let honest = signed(None);
                        let bad = signed(claim);
                        for j in peers {
                            // Aimed at the peers it saw lock on another block (their
                            // precommits), at random for the rest.
                            let locked = self.seen_locked(i, j, p.height, p.round, w);
                            let m = if locked || self.rng.gen_bool(0.5) {
                                bad.clone()
                            } else {
                                honest.clone()
                            };
                            self.send(i, j, m);
                        }
                    }
                    // A claim at or above its own round, or an older random round.
                    _ => {
                        let pol = if self.rng.gen_bool(0.5) || p.round == 0 {
                            Some(p.round + self.rng.gen_range(0..2))
                        } else {
                            Some(self.rng.gen_range(0..p.round))
                        };
                        let m = NetMsg::Proposal {
                            proposal: self.sign_proposal(
                                i,
                                Proposal {
                                    pol_round: pol,
                                    ..p
                                },
                            ),
                            block: block.clone(),
                        };
                        for j in peers {
                            self.send(i, j, m.clone());
                        }
                    }
                }
            }
            Some(Behaviour::BodyFlood) => {}
        }
    }

    fn sign_proposal(&self, i: usize, proposal: Proposal) -> SignedProposal {
        let key = &self.keys[self.nodes[i].key];
        SignedProposal {
            proposal,
            proposer: key.public_key(),
            signature: key.sign(&proposal.signing_bytes(SIM_CHAIN)),
        }
    }

    /// Another valid block node `i` could propose now (built a little later than the clock).
    fn fresh_block(&mut self, i: usize) -> Option<Block> {
        let later = self.base_ms + self.now + self.rng.gen_range(1..50);
        let driver = self.nodes[i].driver.as_ref()?;
        Some(driver.core().build_proposal(later).block)
    }

    /// A message conflicting with `msg`, signed with node `i`'s key directly (bypassing its
    /// safety rules): another valid block for a proposal, another block or nil for a vote.
    fn conflicting(&mut self, i: usize, msg: &NetMsg) -> Option<NetMsg> {
        let key = self.keys[self.nodes[i].key].clone();
        match msg {
            NetMsg::Proposal { proposal, .. } => {
                let block = self.fresh_block(i)?;
                let p = Proposal {
                    block_hash: block.hash(),
                    ..proposal.proposal
                };
                Some(NetMsg::Proposal {
                    proposal: self.sign_proposal(i, p),
                    block: Box::new(block),
                })
            }
            NetMsg::Consensus(Message::Vote(v)) => {
                let block_hash = match v.vote.block_hash {
                    Some(_) if self.rng.gen_bool(0.5) => None,
                    _ => Some(Hash::digest_parts(&[
                        b"sim-other",
                        &v.vote.height.to_le_bytes(),
                        &self.rng.gen::<u64>().to_le_bytes(),
                    ])),
                };
                let vote = Vote {
                    block_hash,
                    ..v.vote
                };
                Some(NetMsg::Consensus(Message::Vote(SignedVote {
                    vote,
                    validator: key.public_key(),
                    signature: key.sign(&vote.signing_bytes(SIM_CHAIN)),
                })))
            }
            NetMsg::Consensus(Message::Proposal(_)) => None,
        }
    }

    /// The proposal with a body whose header lies about its state root (re-signed).
    fn tampered(&mut self, i: usize, proposal: &SignedProposal, block: &Block) -> NetMsg {
        let mut bad = block.clone();
        bad.header.state_root =
            Hash::digest_parts(&[b"sim-lie", &self.rng.gen::<u64>().to_le_bytes()]);
        let hash = bad.hash();
        self.invalid.insert(hash);
        let p = Proposal {
            block_hash: hash,
            ..proposal.proposal
        };
        NetMsg::Proposal {
            proposal: self.sign_proposal(i, p),
            block: Box::new(bad),
        }
    }

    fn connected(&self, a: usize, b: usize) -> bool {
        match &self.partition {
            Some(groups) => groups.get(a) == groups.get(b),
            None => true,
        }
    }

    /// Puts one message on the network from `from` to `to`: partitions, loss, duplication
    /// and delay apply.
    fn send(&mut self, from: usize, to: usize, msg: NetMsg) {
        match &msg {
            NetMsg::Consensus(m) => self.checker.on_wire(m),
            NetMsg::Proposal { proposal, .. } => self.checker.on_wire_proposal(proposal),
        }
        if !self.connected(from, to) {
            return;
        }
        if self.faults && self.cfg.loss > 0.0 && self.rng.gen_bool(self.cfg.loss) {
            return;
        }
        let precommit = matches!(
            &msg,
            NetMsg::Consensus(Message::Vote(v)) if v.vote.kind == VoteKind::Precommit
        );
        if precommit
            && self.faults
            && self.cfg.precommit_loss > 0.0
            && self.rng.gen_bool(self.cfg.precommit_loss)
        {
            return;
        }
        let copies =
            if self.faults && self.cfg.duplication > 0.0 && self.rng.gen_bool(self.cfg.duplication)
            {
                2
            } else {
                1
            };
        let (lo, hi) = (
            self.cfg.min_delay_ms,
            self.cfg.max_delay_ms.max(self.cfg.min_delay_ms),
        );
        for _ in 0..copies {
            let at = self.now + self.rng.gen_range(lo..=hi);
            self.schedule(
                at,
                Event::Deliver {
                    to,
                    msg: msg.clone(),
                },
            );
        }
    }

    /// The runtime's periodic work for node `i` (as `service.rs`): poll for an owed proposal,
    /// re-send and relay when the height stalls, and block sync from a random peer.
    fn tick(&mut self, i: usize) {
        self.drive(i, BftDriver::poll);
        if !self.nodes[i].up() {
            return;
        }
        let n = &self.nodes[i];
        if self.now.saturating_sub(n.height_since) >= self.cfg.resend_after_ms
            && self.now.saturating_sub(n.last_resend) >= self.cfg.resend_after_ms
        {
            self.nodes[i].last_resend = self.now;
            self.drive(i, |d| d.resend());
        }
        if self.nodes[i].byz == Some(Behaviour::BodyFlood) {
            self.flood(i);
        }
        // Block sync: ask a random peer for what it has beyond our tip.
        let peer = self.rng.gen_range(0..self.nodes.len());
        if peer == i || !self.nodes[peer].up() || !self.connected(i, peer) {
            return;
        }
        let from = self.nodes[i].tip() + 1;
        let have = self.nodes[peer].tip();
        if self.nodes[peer].byz == Some(Behaviour::ForgedSync) {
            if let Some(blocks) = self.forged_sync(peer, from) {
                let at = self.now + self.rng.gen_range(1..=self.cfg.max_delay_ms.max(1));
                self.schedule(at, Event::Sync { to: i, blocks });
                return;
            }
        }
        if have < from {
            return;
        }
        let store = self.nodes[peer].store.clone();
        let blocks: Vec<(Block, CommitCertificate)> = (from..=have.min(from + SYNC_BATCH - 1))
            .map_while(|h| match (store.block(h), store.certificate(h)) {
                (Ok(Some(b)), Ok(Some(c))) => Some((b, c)),
                _ => None,
            })
            .collect();
        if !blocks.is_empty() {
            let at = self.now + self.rng.gen_range(1..=self.cfg.max_delay_ms.max(1));
            self.schedule(at, Event::Sync { to: i, blocks });
        }
    }

    /// An observer (admitted, not a validator) sends block bodies for the current height
    /// with proposals it signed itself, as fast as the tick allows.
    fn flood(&mut self, i: usize) {
        let Some(d) = self.nodes[i].driver.as_ref() else {
            return;
        };
        let height = d.height();
        let mut msgs = Vec::new();
        for k in 0..MAX_FLOOD_PER_TICK {
            let later = self.base_ms + self.now + k as u64 + 1;
            let block = d.core().build_proposal(later).block;
            let proposal = Proposal {
                height,
                round: (k % 3) as u32,
                block_hash: block.hash(),
                pol_round: None,
            };
            msgs.push(NetMsg::Proposal {
                proposal: self.sign_proposal(i, proposal),
                block: Box::new(block),
            });
        }
        for m in msgs {
            for j in 0..self.nodes.len() {
                if j != i {
                    self.send(i, j, m.clone());
                }
            }
        }
    }

    /// Whether node `i` saw node `j` precommit a block other than `not` at `height` in a
    /// round before `round` (so `j` is locked on another block).
    fn seen_locked(&self, i: usize, j: usize, height: u64, round: u32, not: Hash) -> bool {
        let key = self.keys[self.nodes[j].key].public_key();
        self.nodes[i].precommits.iter().any(|((h, r, b), votes)| {
            *h == height
                && *r < round
                && *b != Some(not)
                && votes.iter().any(|v| v.validator == key)
        })
    }

    /// The latest earlier round of `height` (before `round`) in which a block other than
    /// `not` had a polka, with that block's body as node `i` received it.
    fn stale_polka(&self, i: usize, height: u64, round: u32, not: Hash) -> Option<(u32, Block)> {
        (0..round).rev().find_map(|vr| {
            self.nodes[i]
                .seen_bodies
                .iter()
                .filter(|(b, body)| **b != not && body.header.height == height)
                .find(|(b, _)| self.checker.polka(height, vr, **b))
                .map(|(_, body)| (vr, body.clone()))
        })
    }

    /// Records precommits and bodies a sync-forging (or stale-proof-of-lock) node sees.
    fn note_precommit(&mut self, i: usize, msg: &NetMsg) {
        if let NetMsg::Proposal { proposal, block } = msg {
            let bodies = &mut self.nodes[i].seen_bodies;
            if bodies.len() >= 256 {
                let h = block.header.height;
                bodies.retain(|_, b| b.header.height + 1 >= h);
            }
            if bodies.len() < 256 {
                bodies.insert(proposal.proposal.block_hash, (**block).clone());
            }
        }
        if let NetMsg::Consensus(Message::Vote(v)) = msg {
            if v.vote.kind == VoteKind::Precommit && v.vote.block_hash.is_some() {
                let slot = (v.vote.height, v.vote.round, v.vote.block_hash);
                let list = self.nodes[i].precommits.entry(slot).or_default();
                if !list.contains(v) && list.len() < 64 {
                    list.push(v.clone());
                }
            }
        }
    }

    /// What a sync-forging node serves for height `from`: a block honest nodes did NOT
    /// commit (a real proposal of that height it saw), with a certificate of the precommits
    /// it saw for it in some round plus its own signature (a weak certificate: not more than
    /// 2/3 of the power), or else a block of its own with a forged certificate (its own
    /// signature in every slot).
    fn forged_sync(&mut self, i: usize, from: u64) -> Option<Vec<(Block, CommitCertificate)>> {
        // Half of the time, when it holds the committed block: the real block with its
        // certificate thinned to at most 2/3 of the power (exactly 2/3 where the powers allow,
        // e.g. 3 + 1 of [1, 1, 1, 3]). Only a verifier that accepts 2/3 takes it.
        if self.rng.gen_bool(0.5) {
            let store = &self.nodes[i].store;
            if let (Ok(Some(block)), Ok(Some(cert))) = (store.block(from), store.certificate(from))
            {
                if let Some(thin) = thinned(&self.set, &cert) {
                    return Some(vec![(block, thin)]);
                }
            }
        }
        let committed = self.checker.decided_at(from);
        let key = self.keys[self.nodes[i].key].clone();
        let weak = self.nodes[i]
            .precommits
            .iter()
            .filter(|((h, _, b), _)| *h == from && *b != committed)
            .find_map(|((_, r, b), votes)| {
                let b = (*b)?;
                let body = self.nodes[i].seen_bodies.get(&b)?;
                Some((*r, b, votes.clone(), body.clone()))
            });
        if let Some((round, block_hash, votes, body)) = weak {
            let mut sigs: Vec<_> = votes.iter().map(|v| (v.validator, v.signature)).collect();
            if !sigs.iter().any(|(k, _)| *k == key.public_key()) {
                let own = Vote {
                    kind: VoteKind::Precommit,
                    height: from,
                    round,
                    block_hash: Some(block_hash),
                };
                sigs.push((key.public_key(), key.sign(&own.signing_bytes(SIM_CHAIN))));
            }
            let cert =
                CommitCertificate::from_signatures(&self.set, from, round, block_hash, &sigs)
                    .ok()?;
            return Some(vec![(body, cert)]);
        }
        let tip = self.nodes[i].store.tip().ok().flatten()?;
        if tip.height + 1 != from {
            return None;
        }
        let later = self.base_ms + self.now;
        let body = self.nodes[i]
            .driver
            .as_ref()?
            .core()
            .build_proposal(later)
            .block;
        let vote = Vote {
            kind: VoteKind::Precommit,
            height: from,
            round: 0,
            block_hash: Some(body.hash()),
        };
        let sig = key.sign(&vote.signing_bytes(SIM_CHAIN));
        let sigs: Vec<_> = self.set.validators().iter().map(|v| (v.key, sig)).collect();
        let cert =
            CommitCertificate::from_signatures(&self.set, from, 0, body.hash(), &sigs).ok()?;
        Some(vec![(body, cert)])
    }

    /// Block sync: apply each handed-over block through the driver (certificate and
    /// execution verified there).
    fn on_sync(&mut self, i: usize, blocks: Vec<(Block, CommitCertificate)>) {
        for (block, cert) in blocks {
            let Some(d) = self.nodes[i].driver.as_mut() else {
                return;
            };
            match d.apply_synced(block, cert) {
                Ok(effects) => {
                    self.synced += 1;
                    // Feed the effects through `drive` so crashes and checks apply.
                    let mut effects = Some(effects);
                    self.drive(i, |_| effects.take().unwrap_or_default());
                }
                Err(SyncError::NotNext { got, tip }) if got <= tip => {}
                Err(_) => {
                    self.sync_rejected += 1;
                    return;
                }
            }
        }
    }
}

/// Most "lock, then crash" crashes per run.
const MAX_LOCK_CRASHES: u32 = 8;

/// Most proposals a flooding observer sends per tick.
const MAX_FLOOD_PER_TICK: usize = 8;

fn signed_message(msg: &NetMsg) -> Option<Message> {
    Some(match msg {
        NetMsg::Consensus(m) => m.clone(),
        NetMsg::Proposal { proposal, .. } => Message::Proposal(proposal.clone()),
    })
}

fn signer(m: &Message) -> concordat_primitives::PublicKey {
    match m {
        Message::Proposal(p) => p.proposer,
        Message::Vote(v) => v.validator,
    }
}

/// A short digest of a message for the trace: kind, height, round, value and signer.
fn msg_digest(msg: &NetMsg) -> [u8; 32] {
    let (tag, m) = match msg {
        NetMsg::Consensus(m) => (b"C", m.clone()),
        NetMsg::Proposal { proposal, .. } => (b"B", Message::Proposal(proposal.clone())),
    };
    match m {
        Message::Proposal(p) => {
            Hash::digest_parts(&[
                tag,
                b"P",
                &p.proposal.height.to_le_bytes(),
                &p.proposal.round.to_le_bytes(),
                &p.proposal.block_hash.0,
                p.proposer.as_bytes(),
            ])
            .0
        }
        Message::Vote(v) => {
            Hash::digest_parts(&[
                tag,
                b"V",
                &[v.vote.kind as u8],
                &v.vote.height.to_le_bytes(),
                &v.vote.round.to_le_bytes(),
                v.vote.block_hash.as_ref().map_or(&[0u8; 32], |h| &h.0),
                v.validator.as_bytes(),
            ])
            .0
        }
    }
}

fn describe_msg(msg: &NetMsg) -> String {
    let short = |h: &Hash| h.to_hex()[..8].to_string();
    match msg {
        NetMsg::Proposal { proposal, .. } => format!(
            "proposal+body h{} r{} {} vr {:?} by {}",
            proposal.proposal.height,
            proposal.proposal.round,
            short(&proposal.proposal.block_hash),
            proposal.proposal.pol_round,
            &proposal.proposer.to_hex()[..6]
        ),
        NetMsg::Consensus(Message::Proposal(p)) => format!(
            "proposal h{} r{} {} vr {:?} by {}",
            p.proposal.height,
            p.proposal.round,
            short(&p.proposal.block_hash),
            p.proposal.pol_round,
            &p.proposer.to_hex()[..6]
        ),
        NetMsg::Consensus(Message::Vote(v)) => format!(
            "{:?} h{} r{} {:?} by {}",
            v.vote.kind,
            v.vote.height,
            v.vote.round,
            v.vote.block_hash.as_ref().map(short),
            &v.validator.to_hex()[..6]
        ),
    }
}

/// The power of a certificate's signers, computed here from the bitmap and the set (not with
/// the consensus crate's quorum code, so that a weakened rule there cannot hide from it).
pub(crate) fn signer_power(set: &ValidatorSet, cert: &CommitCertificate) -> u64 {
    let mut power = 0u64;
    for (i, v) in set.validators().iter().enumerate() {
        if cert
            .signers
            .get(i / 8)
            .is_some_and(|b| b & (1 << (i % 8)) != 0)
        {
            power += v.power;
        }
    }
    power
}

/// `cert` with signers dropped (largest power first, then by index) until they hold at most
/// 2/3 of the total power, keeping as much power as possible; `None` if nothing was dropped.
fn thinned(set: &ValidatorSet, cert: &CommitCertificate) -> Option<CommitCertificate> {
    let total = set.total_power();
    let keys = cert.signer_keys(set).ok()?;
    let sigs: Vec<_> = keys
        .iter()
        .copied()
        .zip(cert.signatures.iter().copied())
        .collect();
    let power = |k: &concordat_primitives::PublicKey| {
        set.index_of(k).map_or(0, |i| set.validators()[i].power)
    };
    // Choose the subset with the most power not above 2/3 (sets here are small: try all).
    let n = sigs.len();
    if n > 16 {
        return None;
    }
    let mut best: Option<(u64, u32)> = None;
    for mask in 0u32..(1 << n) {
        let p: u64 = (0..n)
            .filter(|j| mask & (1 << j) != 0)
            .map(|j| power(&sigs[j].0))
            .sum();
        if p * 3 <= total * 2 && best.is_none_or(|(bp, _)| p > bp) {
            best = Some((p, mask));
        }
    }
    let (_, mask) = best?;
    let kept: Vec<_> = (0..n)
        .filter(|j| mask & (1 << j) != 0)
        .map(|j| sigs[j])
        .collect();
    if kept.len() == n || kept.is_empty() {
        return None;
    }
    CommitCertificate::from_signatures(set, cert.height, cert.round, cert.block_hash, &kept).ok()
}
