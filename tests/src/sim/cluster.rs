//! The simulated cluster: node instances running one consensus [`Engine`] per height, a
//! seeded network, a virtual clock and an event queue ordered by `(virtual time, sequence)`.
//!
//! Everything random comes from one `ChaCha8Rng` seeded with the run's seed, and the queue is
//! a `BTreeMap`, so a seed fully determines the run; the trace hash (SHA-256 over every
//! processed event and every output) witnesses it.

use std::collections::{BTreeMap, BTreeSet};

use concordat_consensus::{
    CommitCertificate, Engine, Input, InputError, Message, Output, Proposal, SafetyState,
    SignedProposal, SignedVote, TimeoutConfig, Vote, VoteKind, Watermark,
};
use concordat_primitives::ledger::{Validator, ValidatorSet};
use concordat_primitives::{Hash, SecretKey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::check::{Checker, Invariant, Violation};
use super::{Behaviour, Config};

/// Chain id of every simulated cluster.
pub const SIM_CHAIN: &str = "concordat-sim";

/// How far ahead (in heights) a node buffers messages for later heights.
const BUFFER_HEIGHTS: u64 = 3;
/// Most messages a node buffers for later heights.
const BUFFER_MAX: usize = 4_096;
/// Most decided heights handed over in one sync answer.
const SYNC_BATCH: u64 = 16;
/// Hard cap on processed events per run (a run above it is reported as a liveness failure).
const MAX_EVENTS: u64 = 3_000_000;

/// What travels on the simulated network.
#[derive(Debug, Clone)]
enum Payload {
    /// A consensus message.
    Consensus(Message),
    /// A block-sync answer: decided blocks with their certificates, from `height` upwards.
    Sync(Vec<(u64, Hash, CommitCertificate)>),
}

/// A scheduled event.
#[derive(Debug, Clone)]
enum Event {
    /// A network delivery to node instance `to`.
    Deliver { to: usize, payload: Payload },
    /// A local input of node `node` in incarnation `epoch` (timeouts, validity, values).
    Local {
        node: usize,
        epoch: u64,
        input: Input,
    },
    /// Periodic block sync and rebroadcast of node `node`.
    Tick { node: usize, epoch: u64 },
    /// Node `node` crashes (possibly in the middle of its next step).
    Crash { node: usize },
    /// Node `node` restarts from its synced storage.
    Restart { node: usize },
    /// A partition starts: `groups[i]` is the group of node instance `i`.
    Partition { groups: Vec<u8> },
    /// Every partition heals.
    Heal,
    /// The fault window ends: heal, stop loss and duplication, restart crashed nodes.
    FaultsEnd,
}

/// One node instance (a validator key; twins are two instances of one key).
#[derive(Debug)]
struct Node {
    /// Index of its key in the validator set.
    key: usize,
    /// Byzantine behaviour, if any.
    byz: Option<Behaviour>,
    /// The engine of the current height; `None` while crashed.
    engine: Option<Engine>,
    /// Incarnation: bumped at each crash, so stale timers are ignored.
    epoch: u64,
    /// Synced storage: the last completed `PersistSafety`.
    safety: SafetyState,
    /// Synced storage: decided blocks with certificates, by height.
    chain: BTreeMap<u64, (Hash, CommitCertificate)>,
    /// Messages for later heights, replayed when the node gets there (volatile).
    later: Vec<Message>,
    /// Messages this node signed at its current height, rebroadcast on ticks (volatile).
    sent: Vec<Message>,
    /// The node crashes in the middle of its next step.
    crash_armed: bool,
    /// Peers a withholding node still sends to.
    withhold_to: BTreeSet<usize>,
}

impl Node {
    fn height(&self) -> u64 {
        self.chain.len() as u64 + 1
    }

    fn up(&self) -> bool {
        self.engine.is_some()
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
    /// Highest round any decision needed.
    pub max_round: u32,
    /// Crashes that happened.
    pub crashes: u64,
    /// Equivocation evidence reported by honest engines.
    pub evidence: u64,
    /// Heights committed through block sync (certificate verified).
    pub synced: u64,
    /// The first violation, if any.
    pub violation: Option<Violation>,
}

/// A simulated cluster. Build with [`Cluster::new`], run with [`Cluster::run`].
#[derive(Debug)]
pub struct Cluster {
    cfg: Config,
    keys: Vec<SecretKey>,
    set: ValidatorSet,
    rng: ChaCha8Rng,
    nodes: Vec<Node>,
    queue: BTreeMap<(u64, u64), Event>,
    seq: u64,
    now: u64,
    /// Group of each node instance while a partition is active.
    partition: Option<Vec<u8>>,
    faults: bool,
    /// Blocks Byzantine proposers marked invalid: honest nodes answer `valid: false`.
    invalid: BTreeSet<Hash>,
    block_counter: u64,
    checker: Checker,
    trace: Sha256,
    events: u64,
    target: Option<u64>,
    max_round: u32,
    crashes: u64,
    evidence: u64,
    synced: u64,
}

fn input_of(m: Message) -> Input {
    match m {
        Message::Proposal(p) => Input::Proposal(p),
        Message::Vote(v) => Input::Vote(v),
    }
}

impl Cluster {
    /// A cluster for `cfg` (validator keys are derived from the key index, not the seed).
    ///
    /// # Panics
    /// If the configuration is inconsistent (e.g. a Byzantine index out of range).
    pub fn new(cfg: Config) -> Cluster {
        let mut keys: Vec<SecretKey> = (0..cfg.validators)
            .map(|i| {
                let b = u8::try_from(i + 1).expect("at most 255 validators");
                SecretKey::from_seed([b; 32])
            })
            .collect();
        keys.sort_by_key(SecretKey::public_key);
        let set = ValidatorSet::new(
            keys.iter()
                .map(|k| Validator {
                    key: k.public_key(),
                    power: 1,
                })
                .collect(),
        )
        .expect("simulation validator set is valid");
        let mut nodes = Vec::new();
        let byz: BTreeMap<usize, Behaviour> = cfg.byzantine.iter().copied().collect();
        for key in 0..cfg.validators {
            let b = byz.get(&key).copied();
            let copies = if b == Some(Behaviour::Twins) { 2 } else { 1 };
            for _ in 0..copies {
                nodes.push(Node {
                    key,
                    byz: b,
                    engine: None,
                    epoch: 0,
                    safety: SafetyState::default(),
                    chain: BTreeMap::new(),
                    later: Vec::new(),
                    sent: Vec::new(),
                    crash_armed: false,
                    withhold_to: BTreeSet::new(),
                });
            }
        }
        for (k, _) in &cfg.byzantine {
            assert!(*k < cfg.validators, "Byzantine key {k} out of range");
        }
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        Cluster {
            cfg,
            keys,
            set,
            rng,
            nodes,
            queue: BTreeMap::new(),
            seq: 0,
            now: 0,
            partition: None,
            faults: true,
            invalid: BTreeSet::new(),
            block_counter: 0,
            checker: Checker::default(),
            trace: Sha256::new(),
            events: 0,
            target: None,
            max_round: 0,
            crashes: 0,
            evidence: 0,
            synced: 0,
        }
    }

    /// Number of node instances (validators plus twin copies).
    pub fn instances(&self) -> usize {
        self.nodes.len()
    }

    fn honest(&self, node: usize) -> bool {
        self.nodes[node].byz.is_none()
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

    fn timeouts(&self) -> TimeoutConfig {
        self.cfg.timeouts
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
                let bound = self.cfg.fault_window_ms + self.cfg.liveness_bound_ms;
                if (self.now > bound || self.events > MAX_EVENTS) && !self.cfg.check_liveness {
                    break;
                }
                if self.now > bound || self.events > MAX_EVENTS {
                    let heights: Vec<String> = self
                        .nodes
                        .iter()
                        .map(|n| match &n.engine {
                            Some(e) => format!(
                                "h{} r{} {:?} refusals {}",
                                e.height(),
                                e.round(),
                                e.step(),
                                e.signing_refusals()
                            ),
                            None => format!("h{} down", n.height()),
                        })
                        .collect();
                    let now = self.now;
                    self.checker.violation(
                        Invariant::Liveness,
                        now,
                        format!("target height {target} not reached; node heights {heights:?}"),
                    );
                    break;
                }
            }
            self.process(ev);
            self.check_step();
        }
        let violation = self.checker.violations.first().cloned();
        let hash = self.trace.clone().finalize();
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
            violation,
        }
    }

    fn done(&self) -> bool {
        let Some(target) = self.target else {
            return false;
        };
        (0..self.nodes.len())
            .filter(|i| self.honest(*i))
            .all(|i| self.nodes[i].height() > target)
    }

    /// Checks run after every step (besides those run where the event happens).
    fn check_step(&mut self) {
        for i in 0..self.nodes.len() {
            if !self.honest(i) {
                continue;
            }
            let node = &self.nodes[i];
            if let Some(e) = &node.engine {
                if e.height() != node.height() {
                    let detail = format!(
                        "node {i} runs height {} with {} decided heights",
                        e.height(),
                        node.chain.len()
                    );
                    let now = self.now;
                    self.checker.violation(Invariant::Agreement, now, detail);
                    return;
                }
            }
            if let Some((&h, (block, _))) = node.chain.last_key_value() {
                if self.checker.decided_at(h) != Some(*block) {
                    let detail = format!("node {i} holds {block:?} at height {h}");
                    let now = self.now;
                    self.checker.violation(Invariant::Agreement, now, detail);
                    return;
                }
            }
        }
    }

    fn setup(&mut self) {
        for i in 0..self.nodes.len() {
            self.start_engine(i);
            let at = self.rng.gen_range(0..self.cfg.tick_ms);
            self.schedule(at, Event::Tick { node: i, epoch: 0 });
            if self.nodes[i].byz == Some(Behaviour::Withhold) {
                // Withhold from everyone, or send to one random peer only.
                if self.rng.gen_bool(0.5) {
                    let peer = self.rng.gen_range(0..self.nodes.len());
                    if peer != i {
                        self.nodes[i].withhold_to.insert(peer);
                    }
                }
            }
        }
        // Scripted partitions.
        for p in self.cfg.partitions.clone() {
            self.schedule(
                p.start_ms,
                Event::Partition {
                    groups: p.groups.clone(),
                },
            );
            self.schedule(p.end_ms, Event::Heal);
        }
        // Random partitions and crashes within the fault window.
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
        self.schedule(window, Event::FaultsEnd);
    }

    fn start_engine(&mut self, i: usize) {
        let node = &self.nodes[i];
        let height = node.height();
        let key = self.keys[node.key].clone();
        let engine = match Engine::new(
            SIM_CHAIN,
            height,
            self.set.clone(),
            Some(key),
            node.safety.clone(),
        ) {
            Ok(e) => e.with_timeouts(self.timeouts()),
            Err(e) => {
                let now = self.now;
                self.checker.violation(
                    Invariant::PersistFirst,
                    now,
                    format!("node {i} cannot restore its safety state: {e}"),
                );
                return;
            }
        };
        self.nodes[i].engine = Some(engine);
        self.nodes[i].sent.clear();
        // After a restart the last signed message may never have left: send it again.
        if let Some(m) = self.nodes[i].safety.last_signed() {
            if m.height() == height {
                let m = m.clone();
                self.nodes[i].sent.push(m);
            }
        }
        let h = height.to_le_bytes();
        self.log(&[b"start", &(i as u64).to_le_bytes(), &h]);
        self.feed(i, Input::StartHeight);
        for m in std::mem::take(&mut self.nodes[i].later) {
            self.feed(i, input_of(m));
        }
    }

    fn process(&mut self, ev: Event) {
        let t = self.now.to_le_bytes();
        match ev {
            Event::Deliver { to, payload } => {
                if !self.nodes[to].up() {
                    return;
                }
                match payload {
                    Payload::Consensus(m) => {
                        let w = Watermark::of(&m);
                        let digest = msg_digest(&m);
                        self.log(&[
                            b"dlv",
                            &t,
                            &(to as u64).to_le_bytes(),
                            &w.height.to_le_bytes(),
                            &w.round.to_le_bytes(),
                            &digest,
                        ]);
                        self.feed(to, input_of(m));
                    }
                    Payload::Sync(blocks) => {
                        self.log(&[b"sync", &t, &(to as u64).to_le_bytes()]);
                        self.on_sync(to, blocks);
                    }
                }
            }
            Event::Local { node, epoch, input } => {
                if self.nodes[node].epoch != epoch || !self.nodes[node].up() {
                    return;
                }
                self.log(&[b"local", &t, &(node as u64).to_le_bytes()]);
                self.feed(node, input);
            }
            Event::Tick { node, epoch } => {
                if self.nodes[node].epoch != epoch || !self.nodes[node].up() {
                    return;
                }
                self.log(&[b"tick", &t, &(node as u64).to_le_bytes()]);
                self.tick(node);
                let at = self.now + self.cfg.tick_ms;
                self.schedule(at, Event::Tick { node, epoch });
            }
            Event::Crash { node } => {
                if !self.faults || !self.nodes[node].up() {
                    return;
                }
                self.log(&[b"crash", &t, &(node as u64).to_le_bytes()]);
                if self.rng.gen_bool(0.5) {
                    self.nodes[node].crash_armed = true;
                } else {
                    self.crash(node);
                }
            }
            Event::Restart { node } => {
                self.restart(node);
            }
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
                    .map(|i| self.nodes[i].height())
                    .max()
                    .unwrap_or(1);
                self.target = Some(top.max(self.cfg.min_heights) + self.cfg.extra_heights);
            }
        }
    }

    fn crash(&mut self, node: usize) {
        let n = &mut self.nodes[node];
        n.engine = None;
        n.epoch += 1;
        n.later.clear();
        n.sent.clear();
        n.crash_armed = false;
        self.crashes += 1;
        let t = self.now.to_le_bytes();
        self.log(&[b"down", &t, &(node as u64).to_le_bytes()]);
    }

    fn restart(&mut self, node: usize) {
        if self.nodes[node].up() {
            return;
        }
        let t = self.now.to_le_bytes();
        self.log(&[b"restart", &t, &(node as u64).to_le_bytes()]);
        self.start_engine(node);
        let epoch = self.nodes[node].epoch;
        let at = self.now + 1;
        self.schedule(at, Event::Tick { node, epoch });
    }

    /// Feeds one input to node `i`'s engine and performs the outputs.
    fn feed(&mut self, i: usize, input: Input) {
        let Some(engine) = self.nodes[i].engine.as_mut() else {
            return;
        };
        let outputs = match engine.try_handle(input.clone()) {
            Ok(o) => o,
            Err(InputError::WrongHeight { expected, got }) => {
                if got > expected && got <= expected + BUFFER_HEIGHTS {
                    let later = &mut self.nodes[i].later;
                    if later.len() < BUFFER_MAX {
                        match input {
                            Input::Proposal(p) => later.push(Message::Proposal(p)),
                            Input::Vote(v) => later.push(Message::Vote(v)),
                            _ => {}
                        }
                    }
                }
                return;
            }
            Err(_) => return,
        };
        self.check_persist_first(i, &outputs);
        let cut = if self.nodes[i].crash_armed {
            self.rng.gen_range(0..=outputs.len())
        } else {
            usize::MAX
        };
        for (k, o) in outputs.into_iter().enumerate() {
            if k == cut {
                break;
            }
            self.perform(i, o);
            if !self.nodes[i].up() {
                return;
            }
        }
        if cut != usize::MAX {
            // The crash hits after `cut` outputs: what was not yet performed is lost.
            self.crash(i);
        }
    }

    fn check_persist_first(&mut self, i: usize, outputs: &[Output]) {
        let persists = outputs
            .iter()
            .filter(|o| matches!(o, Output::PersistSafety(_)))
            .count();
        let mut bad = persists > 1;
        let mark = match outputs.first() {
            Some(Output::PersistSafety(s)) => s.watermark(),
            _ => None,
        };
        for o in outputs {
            if let Output::Broadcast(m) = o {
                match mark {
                    Some(w) if Watermark::of(m) <= w => {}
                    _ => bad = true,
                }
            }
        }
        if bad {
            let now = self.now;
            self.checker.violation(
                Invariant::PersistFirst,
                now,
                format!("node {i} outputs break the persist-first contract: {outputs:?}"),
            );
        }
    }

    fn new_block(&mut self, height: u64, round: u32, node: usize) -> Hash {
        self.block_counter += 1;
        Hash::digest_parts(&[
            b"sim-block",
            &height.to_le_bytes(),
            &round.to_le_bytes(),
            &(node as u64).to_le_bytes(),
            &self.block_counter.to_le_bytes(),
        ])
    }

    fn local(&mut self, node: usize, delay: u64, input: Input) {
        let epoch = self.nodes[node].epoch;
        let at = self.now + delay;
        self.schedule(at, Event::Local { node, epoch, input });
    }

    fn perform(&mut self, i: usize, o: Output) {
        let t = self.now.to_le_bytes();
        let id = (i as u64).to_le_bytes();
        match o {
            Output::PersistSafety(s) => {
                self.log(&[b"persist", &t, &id]);
                self.nodes[i].safety = s;
            }
            Output::Broadcast(m) => {
                self.log(&[b"bcast", &t, &id, &msg_digest(&m)]);
                self.broadcast(i, m);
            }
            Output::ScheduleTimeout {
                kind,
                height,
                round,
                duration_ms,
            } => {
                let input = Input::TimeoutElapsed {
                    kind,
                    height,
                    round,
                };
                self.local(i, duration_ms, input);
            }
            Output::RequestProposal {
                height,
                round,
                valid_value,
            } => {
                let block_hash = match valid_value {
                    Some(v) => v,
                    None => {
                        let b = self.new_block(height, round, i);
                        if self.nodes[i].byz == Some(Behaviour::InvalidProposals) {
                            self.invalid.insert(b);
                        }
                        b
                    }
                };
                self.local(i, 1, Input::ProposeValue { round, block_hash });
            }
            Output::ValidateProposal {
                round, block_hash, ..
            } => {
                let valid = !self.invalid.contains(&block_hash) || !self.honest(i);
                let delay = self.rng.gen_range(1..=self.cfg.max_delay_ms.max(1));
                self.local(
                    i,
                    delay,
                    Input::ProposalValidity {
                        round,
                        block_hash,
                        valid,
                    },
                );
            }
            Output::Decide {
                height,
                round,
                block_hash,
                certificate,
            } => {
                self.log(&[b"decide", &t, &id, &height.to_le_bytes(), &block_hash.0]);
                if let Err(e) = certificate.verify(
                    SIM_CHAIN,
                    &self.set,
                    height,
                    &block_hash,
                    ChaCha8Rng::seed_from_u64(height),
                ) {
                    let now = self.now;
                    self.checker.violation(
                        Invariant::Certificate,
                        now,
                        format!("node {i} decided height {height} with a bad certificate: {e}"),
                    );
                    return;
                }
                if self.invalid.contains(&block_hash) && self.honest(i) {
                    let now = self.now;
                    self.checker.violation(
                        Invariant::Agreement,
                        now,
                        format!("node {i} decided an invalid block at height {height}"),
                    );
                }
                self.max_round = self.max_round.max(round);
                self.commit(i, height, block_hash, certificate);
            }
            Output::Evidence(e) => {
                self.evidence += 1;
                let offender = e.offender();
                let honest_key = (0..self.nodes.len()).any(|j| {
                    self.honest(j) && self.keys[self.nodes[j].key].public_key() == offender
                });
                if honest_key {
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

    /// Commits a decided (or synced, verified) block on node `i` and starts the next height.
    fn commit(&mut self, i: usize, height: u64, block: Hash, cert: CommitCertificate) {
        if height != self.nodes[i].height() {
            return;
        }
        if self.honest(i) {
            let now = self.now;
            self.checker.on_commit(now, i, height, block);
        }
        self.nodes[i].chain.insert(height, (block, cert));
        self.start_engine(i);
    }

    /// Sends `m` from node `i` according to its behaviour.
    fn broadcast(&mut self, i: usize, m: Message) {
        if self.honest(i) {
            let now = self.now;
            let key = self.nodes[i].key;
            self.checker.on_signed(now, i, key, &m);
            self.nodes[i].sent.push(m.clone());
        }
        let peers: Vec<usize> = (0..self.nodes.len()).filter(|j| *j != i).collect();
        match self.nodes[i].byz {
            None | Some(Behaviour::Twins) | Some(Behaviour::InvalidProposals) => {
                for j in peers {
                    self.send(i, j, Payload::Consensus(m.clone()));
                }
            }
            Some(Behaviour::Withhold) => {
                let to: Vec<usize> = self.nodes[i].withhold_to.iter().copied().collect();
                for j in to {
                    self.send(i, j, Payload::Consensus(m.clone()));
                }
            }
            Some(Behaviour::Equivocate) => {
                let other = self.conflicting(i, &m);
                for j in peers {
                    let msg = if self.rng.gen_bool(0.5) {
                        m.clone()
                    } else {
                        other.clone()
                    };
                    self.send(i, j, Payload::Consensus(msg));
                }
            }
        }
    }

    /// A message conflicting with `m`, signed directly with node `i`'s key (bypassing its
    /// safety rules).
    fn conflicting(&mut self, i: usize, m: &Message) -> Message {
        let key = self.keys[self.nodes[i].key].clone();
        match m {
            Message::Proposal(p) => {
                let block_hash = self.new_block(p.proposal.height, p.proposal.round, i);
                let proposal = Proposal {
                    block_hash,
                    ..p.proposal
                };
                Message::Proposal(SignedProposal {
                    proposal,
                    proposer: key.public_key(),
                    signature: key.sign(&proposal.signing_bytes(SIM_CHAIN)),
                })
            }
            Message::Vote(v) => {
                let block_hash = match v.vote.block_hash {
                    Some(_) if self.rng.gen_bool(0.5) => None,
                    _ => Some(self.new_block(v.vote.height, v.vote.round, i)),
                };
                let vote = Vote {
                    block_hash,
                    ..v.vote
                };
                Message::Vote(SignedVote {
                    vote,
                    validator: key.public_key(),
                    signature: key.sign(&vote.signing_bytes(SIM_CHAIN)),
                })
            }
        }
    }

    fn connected(&self, a: usize, b: usize) -> bool {
        match &self.partition {
            Some(groups) => groups.get(a) == groups.get(b),
            None => true,
        }
    }

    /// Puts one payload on the network from `from` to `to`: partitions, loss, duplication
    /// and delay apply.
    fn send(&mut self, from: usize, to: usize, payload: Payload) {
        if !self.connected(from, to) {
            return;
        }
        let (lo, hi) = (
            self.cfg.min_delay_ms,
            self.cfg.max_delay_ms.max(self.cfg.min_delay_ms),
        );
        if self.faults && self.cfg.loss > 0.0 && self.rng.gen_bool(self.cfg.loss) {
            return;
        }
        let copies =
            if self.faults && self.cfg.duplication > 0.0 && self.rng.gen_bool(self.cfg.duplication)
            {
                2
            } else {
                1
            };
        for _ in 0..copies {
            let at = self.now + self.rng.gen_range(lo..=hi);
            self.schedule(
                at,
                Event::Deliver {
                    to,
                    payload: payload.clone(),
                },
            );
        }
    }

    /// Periodic work of node `i`: ask a random peer for decided blocks it lacks (simple block
    /// sync) and rebroadcast its own messages of the current height (gossip retransmission).
    fn tick(&mut self, i: usize) {
        let n = self.nodes.len();
        let peer = self.rng.gen_range(0..n);
        if peer != i && self.nodes[peer].up() {
            let from = self.nodes[i].height();
            let have = self.nodes[peer].height();
            if have > from {
                let blocks: Vec<(u64, Hash, CommitCertificate)> = (from..have
                    .min(from + SYNC_BATCH))
                    .filter_map(|h| {
                        self.nodes[peer]
                            .chain
                            .get(&h)
                            .map(|(b, c)| (h, *b, c.clone()))
                    })
                    .collect();
                self.send(peer, i, Payload::Sync(blocks));
            }
        }
        if self.honest(i) {
            let round = self.nodes[i].engine.as_ref().map_or(0, Engine::round);
            let mut again: Vec<Message> = self.nodes[i]
                .sent
                .iter()
                .filter(|m| m.round() + 1 >= round)
                .cloned()
                .collect();
            // Proof-of-lock gossip: relay the proposal and prevotes of our valid round, so
            // peers that missed them (partition, loss, restart) can accept its re-proposal.
            if let Some(e) = &self.nodes[i].engine {
                if let Some(vr) = e.valid().map(|v| v.round) {
                    if let Some(p) = e.proposal(vr) {
                        again.push(Message::Proposal(p.clone()));
                    }
                    for v in self.set.validators() {
                        if let Some(sv) = e.votes().get(vr, VoteKind::Prevote, &v.key) {
                            again.push(Message::Vote(sv.clone()));
                        }
                    }
                }
            }
            for m in again {
                for j in (0..n).filter(|j| *j != i) {
                    self.send(i, j, Payload::Consensus(m.clone()));
                }
            }
        }
    }

    /// Block sync: commit each handed-over block whose certificate verifies.
    fn on_sync(&mut self, i: usize, blocks: Vec<(u64, Hash, CommitCertificate)>) {
        for (h, block, cert) in blocks {
            if h != self.nodes[i].height() || !self.nodes[i].up() {
                continue;
            }
            let ok = cert
                .verify(
                    SIM_CHAIN,
                    &self.set,
                    h,
                    &block,
                    ChaCha8Rng::seed_from_u64(h),
                )
                .is_ok();
            if !ok {
                continue;
            }
            self.synced += 1;
            self.commit(i, h, block, cert);
        }
    }
}

/// A short digest of a message for the trace: kind, height, round, value and signer.
fn msg_digest(m: &Message) -> [u8; 32] {
    match m {
        Message::Proposal(p) => {
            Hash::digest_parts(&[
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
