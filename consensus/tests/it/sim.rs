//! A small deterministic in-process network: 4 engines exchange messages directly (no
//! sockets, no clock). Each step delivers one pending input chosen by a seeded PRNG, or fires
//! the earliest timer (always when nothing is pending, sometimes before, so that timeouts
//! race with messages). The harness plays the node: it persists `PersistSafety`, answers
//! `RequestProposal`/`ValidateProposal`, keeps messages of the next height and replays them,
//! and starts a new engine after each `Decide`.
//!
//! Checked after every step: the persistence contract of every output batch, agreement (no
//! two nodes decide different blocks at a height), every certificate verifies.

use std::collections::BTreeMap;

use concordat_consensus::{Engine, Input, InputError, Message, Output, SafetyState, TimeoutConfig};
use concordat_primitives::Hash;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common::{assert_persist_first, summarize, Net, CHAIN};

struct Node {
    engine: Engine,
    /// The "disk": the last persisted safety state.
    safety: SafetyState,
    later: Vec<Message>,
    silent: bool,
}

struct Sim {
    net: Net,
    rng: ChaCha8Rng,
    nodes: Vec<Node>,
    inbox: Vec<(usize, Input)>,
    timers: BTreeMap<(u64, u64), (usize, Input)>,
    now: u64,
    seq: u64,
    decided: BTreeMap<u64, Hash>,
    decided_by: BTreeMap<(usize, u64), Hash>,
    max_round: u32,
    trace: Vec<u8>,
}

fn input_of(m: Message) -> Input {
    match m {
        Message::Proposal(p) => Input::Proposal(p),
        Message::Vote(v) => Input::Vote(v),
    }
}

/// The block a node builds for `(height, round)`: distinct per proposer and round.
fn new_block(height: u64, round: u32, node: usize) -> Hash {
    Hash::digest(format!("block {height}/{round} by {node}").as_bytes())
}

impl Sim {
    fn new(seed: u64, silent: Option<usize>) -> Sim {
        let net = Net::equal(4);
        let nodes = (0..4)
            .map(|i| Node {
                engine: net
                    .engine(1, Some(i))
                    .with_timeouts(TimeoutConfig::default()),
                safety: SafetyState::default(),
                later: Vec::new(),
                silent: silent == Some(i),
            })
            .collect();
        let mut sim = Sim {
            net,
            rng: ChaCha8Rng::seed_from_u64(seed),
            nodes,
            inbox: Vec::new(),
            timers: BTreeMap::new(),
            now: 0,
            seq: 0,
            decided: BTreeMap::new(),
            decided_by: BTreeMap::new(),
            max_round: 0,
            trace: Vec::new(),
        };
        for i in 0..4 {
            sim.inbox.push((i, Input::StartHeight));
        }
        sim
    }

    /// Runs until every live node decided `heights` heights; returns the decided blocks.
    fn run(&mut self, heights: u64, max_steps: u64) -> BTreeMap<u64, Hash> {
        for _ in 0..max_steps {
            let done = self
                .nodes
                .iter()
                .all(|n| n.silent || n.engine.height() > heights);
            if done {
                return self.decided.clone();
            }
            self.step();
        }
        let states: Vec<String> = self
            .nodes
            .iter()
            .map(|n| {
                let e = &n.engine;
                format!(
                    "h{} r{} {:?} later={}",
                    e.height(),
                    e.round(),
                    e.step(),
                    n.later.len()
                )
            })
            .collect();
        panic!("no progress within {max_steps} steps: {states:?}");
    }

    fn step(&mut self) {
        let fire_timer =
            !self.timers.is_empty() && (self.inbox.is_empty() || self.rng.gen_ratio(1, 30));
        let (node, input) = if fire_timer {
            let Some(((at, _), ev)) = self.timers.pop_first() else {
                unreachable!()
            };
            self.now = self.now.max(at);
            ev
        } else {
            let i = self.rng.gen_range(0..self.inbox.len());
            self.inbox.swap_remove(i)
        };
        self.deliver(node, input);
    }

    fn deliver(&mut self, i: usize, input: Input) {
        if self.nodes[i].silent {
            return;
        }
        let outputs = match self.nodes[i].engine.try_handle(input.clone()) {
            Ok(outputs) => outputs,
            Err(InputError::WrongHeight { expected, got }) if got > expected => {
                if let Input::Proposal(p) = input {
                    self.nodes[i].later.push(Message::Proposal(p));
                } else if let Input::Vote(v) = input {
                    self.nodes[i].later.push(Message::Vote(v));
                }
                return;
            }
            Err(_) => return,
        };
        assert_persist_first(&outputs);
        self.trace
            .extend(format!("{i}:{:?};", summarize(&outputs)).as_bytes());
        for o in outputs {
            self.perform(i, o);
        }
    }

    fn perform(&mut self, i: usize, output: Output) {
        let height = self.nodes[i].engine.height();
        match output {
            Output::PersistSafety(s) => self.nodes[i].safety = s,
            Output::Broadcast(m) => {
                for j in (0..4).filter(|j| *j != i) {
                    self.inbox.push((j, input_of(m.clone())));
                }
            }
            Output::ScheduleTimeout {
                kind,
                height,
                round,
                duration_ms,
            } => {
                self.seq += 1;
                let ev = Input::TimeoutElapsed {
                    kind,
                    height,
                    round,
                };
                self.timers
                    .insert((self.now + duration_ms, self.seq), (i, ev));
            }
            Output::RequestProposal {
                round, valid_value, ..
            } => {
                let block_hash = valid_value.unwrap_or_else(|| new_block(height, round, i));
                self.inbox
                    .push((i, Input::ProposeValue { round, block_hash }));
            }
            Output::ValidateProposal {
                round, block_hash, ..
            } => {
                let valid = Input::ProposalValidity {
                    round,
                    block_hash,
                    valid: true,
                };
                self.inbox.push((i, valid));
            }
            Output::Decide {
                height,
                round,
                block_hash,
                certificate,
            } => {
                self.max_round = self.max_round.max(round);
                let power = certificate
                    .verify(
                        CHAIN,
                        &self.net.set,
                        height,
                        &block_hash,
                        ChaCha8Rng::seed_from_u64(0),
                    )
                    .unwrap();
                assert!(self.net.set.is_quorum(power));
                let first = *self.decided.entry(height).or_insert(block_hash);
                assert_eq!(first, block_hash, "agreement violated at height {height}");
                self.decided_by.insert((i, height), block_hash);
                self.next_height(i, height + 1);
            }
            Output::Evidence(e) => panic!("honest validators never equivocate: {e:?}"),
        }
    }

    /// Lines 52-54 on the node side: a new engine, from the persisted safety state; the
    /// messages received early go back through the normal input path (they may be for a
    /// height even further ahead, or decide this one at once).
    fn next_height(&mut self, i: usize, height: u64) {
        let key = self.net.keys[i].clone();
        let safety = self.nodes[i].safety.clone();
        self.nodes[i].engine =
            Engine::new(CHAIN, height, self.net.set.clone(), Some(key), safety).unwrap();
        self.deliver(i, Input::StartHeight);
        for m in std::mem::take(&mut self.nodes[i].later) {
            self.inbox.push((i, input_of(m)));
        }
    }
}

const HEIGHTS: u64 = 5;

#[test]
fn four_engines_decide_the_same_blocks_over_several_heights() {
    for seed in 0..40 {
        let mut sim = Sim::new(seed, None);
        let decided = sim.run(HEIGHTS, 20_000);
        assert!(decided.len() as u64 >= HEIGHTS, "seed {seed}");
        for h in 1..=HEIGHTS {
            for i in 0..4 {
                assert_eq!(
                    sim.decided_by.get(&(i, h)),
                    decided.get(&h),
                    "seed {seed} node {i} height {h}"
                );
            }
        }
    }
}

#[test]
fn three_of_four_still_decide_with_one_silent() {
    for silent in 0..4 {
        for seed in 0..5 {
            let mut sim = Sim::new(100 + seed, Some(silent));
            let decided = sim.run(HEIGHTS, 50_000);
            assert!(
                decided.len() as u64 >= HEIGHTS,
                "silent {silent} seed {seed}"
            );
            for (i, _) in sim.nodes.iter().enumerate().filter(|(i, _)| *i != silent) {
                for h in 1..=HEIGHTS {
                    assert_eq!(sim.decided_by.get(&(i, h)), decided.get(&h));
                }
            }
            // The silent node was proposer of round 0 at some height: that cost a round.
            assert!(sim.max_round > 0, "silent {silent} seed {seed}");
        }
    }
}

#[test]
fn same_seed_same_trace() {
    let run = |seed| {
        let mut sim = Sim::new(seed, Some(2));
        sim.run(3, 50_000);
        sim.trace
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}
