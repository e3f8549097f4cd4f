//! Four validators, each a `BftDriver` over its own in-memory store, exchanging messages
//! in-process: they commit the same blocks, also with one validator silent.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use concordat_consensus::{SafetyState, TimeoutKind};
use concordat_contracts::party::PartyCall;
use concordat_contracts::{Call, Transaction};
use concordat_genesis::{demo_spec, Genesis};
use concordat_node::bft::{BftDriver, Effect, NetMsg};
use concordat_node::core::{ConsensusConfig, NodeCore, SoloDecider};
use concordat_node::mempool::MempoolConfig;
use concordat_node::store::MemStore;
use concordat_primitives::{PublicKey, SecretKey};

use concordat_testkit::key;

fn genesis() -> Genesis {
    let members: Vec<PublicKey> = (1..=5).map(|i| key(i).public_key()).collect();
    let validators: Vec<PublicKey> = (100..104).map(|i| key(i).public_key()).collect();
    demo_spec(
        "concordat-test",
        "2026-11-28T00:00:00+08:00",
        &members,
        &validators,
    )
    .validate()
    .expect("valid")
}

fn driver(i: u8) -> BftDriver<MemStore> {
    let core = NodeCore::open(
        Arc::new(MemStore::new()),
        &genesis(),
        key(100 + i),
        ConsensusConfig::default(),
        MempoolConfig::default(),
        Box::new(SoloDecider::new(key(100 + i))),
        [i; 32],
    )
    .expect("opens");
    BftDriver::new(core, Some(key(100 + i)), SafetyState::default())
}

fn uscc(n: u32) -> String {
    let first17 = format!("91110105MA{n:07}");
    let c = concordat_contracts::ids::uscc_check_char(first17.as_bytes()).expect("charset");
    format!("{first17}{c}")
}

fn reg(nonce: u64) -> Vec<u8> {
    Transaction {
        chain_id: "concordat-test".into(),
        signer: key(1).public_key(),
        nonce,
        expiry_height: 1000,
        call: Call::Party(PartyCall::Register {
            uscc: uscc(nonce as u32),
            name: "样例".into(),
            legal_rep_ref: None,
            registered_address: "样例路".into(),
        }),
    }
    .sign(&key(1))
    .to_bytes()
}

/// Runs the cluster until every live node reaches `target` height; `silent` nodes receive
/// nothing and send nothing. Timers fire only when no message is in flight.
fn run(silent: &[usize], target: u64) -> Vec<BftDriver<MemStore>> {
    let mut nodes: Vec<BftDriver<MemStore>> = (0..4).map(driver).collect();
    for n in nodes.iter_mut() {
        for nonce in 0..6 {
            n.core_mut().submit(&reg(nonce)).expect("admitted");
        }
    }
    let mut queue: VecDeque<(usize, NetMsg)> = VecDeque::new();
    let mut timers: BTreeMap<(u64, usize, u64), (TimeoutKind, u64, u32)> = BTreeMap::new();
    let mut clock = 1_800_000_000_000u64;
    let mut seq = 0u64;
    let mut handle = |from: usize,
                      effects: Vec<Effect>,
                      queue: &mut VecDeque<(usize, NetMsg)>,
                      timers: &mut BTreeMap<(u64, usize, u64), (TimeoutKind, u64, u32)>,
                      clock: u64| {
        let mut persisted = false;
        for e in effects {
            match e {
                Effect::Persist(..) => persisted = true,
                Effect::Send(m) => {
                    if let NetMsg::Consensus(concordat_consensus::Message::Vote(v)) = &m {
                        // Persist before speak: a vote of ours leaves only after a Persist.
                        if v.validator == key(100 + from as u8).public_key() {
                            assert!(persisted, "vote sent before its safety state was persisted");
                        }
                    }
                    for to in 0..4 {
                        if to != from && !silent.contains(&from) && !silent.contains(&to) {
                            queue.push_back((to, m.clone()));
                        }
                    }
                }
                Effect::Timer {
                    kind,
                    height,
                    round,
                    duration_ms,
                } => {
                    seq += 1;
                    timers.insert((clock + duration_ms, from, seq), (kind, height, round));
                }
                Effect::Committed { .. } | Effect::Evidence(_) => {}
            }
        }
    };
    for (i, node) in nodes.iter_mut().enumerate() {
        node.set_time(clock);
        let effects = node.start();
        handle(i, effects, &mut queue, &mut timers, clock);
    }
    let live: Vec<usize> = (0..4).filter(|i| !silent.contains(i)).collect();
    for _step in 0..200_000 {
        if live.iter().all(|i| nodes[*i].core().tip().height >= target) {
            return nodes;
        }
        if let Some((to, m)) = queue.pop_front() {
            nodes[to].set_time(clock);
            let effects = nodes[to].on_message(m);
            handle(to, effects, &mut queue, &mut timers, clock);
        } else if let Some(((at, who, _), (kind, h, r))) = timers.pop_first() {
            clock = clock.max(at);
            if silent.contains(&who) {
                continue;
            }
            nodes[who].set_time(clock);
            let effects = nodes[who].on_timeout(kind, h, r);
            handle(who, effects, &mut queue, &mut timers, clock);
        } else {
            panic!("nothing left to do before height {target}");
        }
    }
    panic!("no progress to height {target}");
}

#[test]
fn four_validators_commit_the_same_blocks() {
    let nodes = run(&[], 3);
    let tip = nodes[0].core().tip().clone();
    for n in &nodes[1..] {
        let t = n.core().tip();
        if t.height == tip.height {
            assert_eq!(t, &tip);
        }
    }
    assert!(
        nodes.iter().all(|n| n.core().tip().tx_log_size == 6),
        "all six transactions committed"
    );
}

#[test]
fn three_of_four_still_commit_with_one_silent() {
    for silent in 0..4 {
        let nodes = run(&[silent], 3);
        let live: Vec<&BftDriver<MemStore>> = nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != silent)
            .map(|(_, n)| n)
            .collect();
        let h = live
            .iter()
            .map(|n| n.core().tip().height)
            .min()
            .expect("live");
        assert!(h >= 3);
        // Same block hashes at a common height.
        let tips: Vec<_> = live
            .iter()
            .filter(|n| n.core().tip().height == live[0].core().tip().height)
            .map(|n| n.core().tip().block_hash)
            .collect();
        assert!(tips.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(
            nodes[silent].core().tip().height,
            0,
            "the silent node saw nothing"
        );
    }
}

#[test]
fn sync_applies_only_blocks_whose_certificates_and_execution_verify() {
    use concordat_node::bft::SyncError;
    use concordat_node::store::NodeStore;

    let mut nodes = run(&[3], 3);
    let source = nodes[0].core().store().clone();
    let tip = nodes[0].core().tip().clone();
    let lagging = &mut nodes[3];
    assert_eq!(lagging.core().tip().height, 0);
    let block = |h: u64| source.block(h).expect("read").expect("block");
    let cert = |h: u64| source.certificate(h).expect("read").expect("certificate");

    // A flipped signature bit.
    let mut forged = cert(1);
    forged.signatures[0].0[5] ^= 1;
    let e = lagging
        .apply_synced(block(1), forged)
        .expect_err("forged signature");
    assert!(matches!(e, SyncError::Certificate { .. }), "{e}");

    // Only two of four signers: not more than 2/3 of the power.
    let mut thin = cert(1);
    let mut kept = 0;
    for (i, byte) in thin.signers.clone().iter().enumerate() {
        for bit in 0..8 {
            if byte & (1 << bit) != 0 {
                kept += 1;
                if kept > 2 {
                    thin.signers[i] &= !(1 << bit);
                }
            }
        }
    }
    thin.signatures.truncate(2);
    let e = lagging
        .apply_synced(block(1), thin)
        .expect_err("two of four");
    assert!(matches!(e, SyncError::Certificate { .. }), "{e}");

    // The certificate of another height.
    let e = lagging
        .apply_synced(block(1), cert(2))
        .expect_err("wrong height");
    assert!(matches!(e, SyncError::Certificate { .. }), "{e}");

    // A body that does not match its (certified) header.
    let mut altered = block(1);
    assert!(!altered.txs.is_empty(), "block 1 carries transactions");
    altered.txs.pop();
    let e = lagging
        .apply_synced(altered, cert(1))
        .expect_err("altered body");
    assert!(matches!(e, SyncError::Invalid { .. }), "{e}");

    // A gap.
    let e = lagging.apply_synced(block(2), cert(2)).expect_err("gap");
    assert!(matches!(e, SyncError::NotNext { got: 2, tip: 0 }), "{e}");
    assert_eq!(
        lagging.core().tip().height,
        0,
        "nothing refused was applied"
    );

    // The genuine chain applies, height by height, to the same tip.
    for h in 1..=tip.height {
        let effects = lagging.apply_synced(block(h), cert(h)).expect("genuine");
        assert!(effects
            .iter()
            .any(|e| matches!(e, Effect::Committed { height, .. } if *height == h)));
    }
    assert_eq!(lagging.core().tip(), &tip);
    let e = lagging
        .apply_synced(block(1), cert(1))
        .expect_err("already applied");
    assert!(matches!(e, SyncError::NotNext { got: 1, .. }), "{e}");
}

fn reg_by(nonce: u64, expiry_height: u64) -> Vec<u8> {
    Transaction {
        chain_id: "concordat-test".into(),
        signer: key(1).public_key(),
        nonce,
        expiry_height,
        call: Call::Party(PartyCall::Register {
            uscc: uscc(nonce as u32 + 100),
            name: "样例".into(),
            legal_rep_ref: None,
            registered_address: "样例路".into(),
        }),
    }
    .sign(&key(1))
    .to_bytes()
}

/// The index (0..4) of the proposer of `(height, round)`.
fn proposer_index(height: u64, round: u32) -> usize {
    let d = driver(0);
    let p = concordat_consensus::proposer(d.core().validator_set(), height, round);
    (0..4u8)
        .position(|i| key(100 + i).public_key() == p)
        .expect("a validator")
}

fn proposals(
    effects: &[Effect],
) -> Vec<(
    concordat_consensus::SignedProposal,
    concordat_contracts::block::Block,
)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(NetMsg::Proposal { proposal, block }) => {
                Some((proposal.clone(), (**block).clone()))
            }
            _ => None,
        })
        .collect()
}

/// Issue 11, defect 3: a transaction behind a nonce gap cannot be included, so the proposer
/// waits the empty-block interval as for an empty mempool (it used to propose at once, and
/// the chain built empty blocks as fast as it could).
#[test]
fn a_nonce_gap_does_not_make_the_proposer_hurry() {
    let p = proposer_index(1, 0);
    let mut d = driver(p as u8).with_empty_block_interval(1_000);
    let t0 = 1_800_000_000_000u64;
    d.core_mut()
        .submit(&reg_by(1, 1000))
        .expect("nonce 1 admitted (0 missing)");
    d.set_time(t0);
    let effects = d.start();
    assert!(
        proposals(&effects).is_empty(),
        "proposed at once: {effects:?}"
    );
    d.set_time(t0 + 999);
    assert!(
        proposals(&d.poll()).is_empty(),
        "proposed before the interval"
    );
    // The missing nonce arrives: now there is something to include, so it proposes at once.
    d.core_mut().submit(&reg_by(0, 1000)).expect("nonce 0");
    let effects = d.poll();
    let sent = proposals(&effects);
    assert_eq!(sent.len(), 1, "{effects:?}");
    assert_eq!(sent[0].1.txs.len(), 2, "both nonces in the block");
}

/// Without anything includable the proposer still proposes (an empty block) after the
/// interval, so heights keep coming.
#[test]
fn an_idle_proposer_proposes_an_empty_block_after_the_interval() {
    let p = proposer_index(1, 0);
    let mut d = driver(p as u8).with_empty_block_interval(1_000);
    let t0 = 1_800_000_000_000u64;
    d.core_mut().submit(&reg_by(3, 1000)).expect("gap");
    d.set_time(t0);
    assert!(proposals(&d.start()).is_empty());
    d.set_time(t0 + 1_000);
    let sent = proposals(&d.poll());
    assert_eq!(sent.len(), 1);
    assert!(sent[0].1.txs.is_empty());
}

/// Issue 11, defect 5: block bodies are kept only with a proposal signed by the round's
/// proposer, so nobody else (an admitted observer, another validator) can fill the body cap
/// and push out the real proposal's body.
#[test]
fn bodies_without_the_proposers_signature_take_no_space() {
    let p = proposer_index(1, 0);
    let v = (p + 1) % 4;
    let t0 = 1_800_000_000_000u64;
    let mut proposer = driver(p as u8);
    proposer.set_time(t0);
    let real = proposals(&proposer.start());
    assert_eq!(real.len(), 1);
    let mut validator = driver(v as u8);
    validator.set_time(t0);
    validator.start();
    let builder = driver(v as u8);
    // 200 bodies, each a valid block, under proposals signed by an observer key and by a
    // validator that is not the proposer.
    for i in 0..200u64 {
        let block = builder.core().build_proposal(t0 + 1 + i).block;
        let signer = if i % 2 == 0 {
            key(50)
        } else {
            key(100 + v as u8)
        };
        // Round 0, whose proposer is `p`: neither signer may propose it.
        let proposal = concordat_consensus::Proposal {
            height: 1,
            round: 0,
            block_hash: block.hash(),
            pol_round: None,
        };
        let signed = concordat_consensus::SignedProposal {
            proposal,
            proposer: signer.public_key(),
            signature: signer.sign(&proposal.signing_bytes("concordat-test")),
        };
        let effects = validator.on_message(NetMsg::Proposal {
            proposal: signed,
            block: Box::new(block),
        });
        assert!(
            !effects.iter().any(|e| matches!(e, Effect::Send(_))),
            "a forged proposal moved the validator: {effects:?}"
        );
    }
    assert_eq!(validator.stats().bodies_dropped, 200);
    // The real proposal is validated and prevoted at once.
    let (proposal, block) = real[0].clone();
    let hash = block.hash();
    let effects = validator.on_message(NetMsg::Proposal {
        proposal,
        block: Box::new(block),
    });
    assert!(
        effects.iter().any(|e| matches!(e,
            Effect::Send(NetMsg::Consensus(concordat_consensus::Message::Vote(sv)))
                if sv.vote.block_hash == Some(hash))),
        "no prevote for the real block: {effects:?}"
    );
}

/// Messages for later heights are kept only with a valid signature of a validator, and each
/// validator gets its own share of the buffer (one cannot fill it for the others).
#[test]
fn future_messages_are_checked_and_capped_per_signer() {
    use concordat_consensus::{Message, SignedVote, Vote, VoteKind};
    use concordat_node::bft::MAX_FUTURE_PER_SIGNER;
    let mut d = driver(0);
    d.set_time(1_800_000_000_000);
    d.start();
    let vote = |signer: &SecretKey, round: u32, kind: VoteKind| {
        let vote = Vote {
            kind,
            height: 2,
            round,
            block_hash: None,
        };
        SignedVote {
            vote,
            validator: signer.public_key(),
            signature: signer.sign(&vote.signing_bytes("concordat-test")),
        }
    };
    let noisy = key(101);
    for r in 0..200u32 {
        d.on_message(NetMsg::Consensus(Message::Vote(vote(
            &noisy,
            r,
            VoteKind::Prevote,
        ))));
    }
    let dropped = d.stats().future_dropped;
    assert_eq!(dropped, 200 - MAX_FUTURE_PER_SIGNER as u64);
    // A bad signature and an outsider are dropped; another validator still has room.
    let mut bad = vote(&key(102), 0, VoteKind::Prevote);
    bad.signature.0[3] ^= 1;
    d.on_message(NetMsg::Consensus(Message::Vote(bad)));
    d.on_message(NetMsg::Consensus(Message::Vote(vote(
        &key(50),
        0,
        VoteKind::Prevote,
    ))));
    assert_eq!(d.stats().future_dropped, dropped + 2);
    d.on_message(NetMsg::Consensus(Message::Vote(vote(
        &key(103),
        0,
        VoteKind::Prevote,
    ))));
    assert_eq!(
        d.stats().future_dropped,
        dropped + 2,
        "another validator's room is its own"
    );
}

/// A 4-validator network stepped by a simulated clock: every step sets the time, polls each
/// node, delivers every message (none from or to a `silent` node) and fires due timers.
struct Stepped {
    nodes: Vec<BftDriver<MemStore>>,
    clock: u64,
    seq: u64,
    timers: BTreeMap<(u64, usize, u64), (TimeoutKind, u64, u32)>,
    queue: VecDeque<(usize, NetMsg)>,
    silent: Vec<usize>,
    /// (height, time, transactions) of each commit on node 0 … 3.
    commits: Vec<Vec<(u64, u64, usize)>>,
    proposals_sent: usize,
}

impl Stepped {
    fn new(idle_ms: u64, silent: &[usize]) -> Stepped {
        let clock = 1_800_000_000_000u64;
        let nodes = (0..4u8)
            .map(|i| {
                driver(i)
                    .with_empty_block_interval(1_000)
                    .with_idle_block_interval(idle_ms)
            })
            .collect();
        let mut s = Stepped {
            nodes,
            clock,
            seq: 0,
            timers: BTreeMap::new(),
            queue: VecDeque::new(),
            silent: silent.to_vec(),
            commits: vec![Vec::new(); 4],
            proposals_sent: 0,
        };
        for i in 0..4 {
            if s.silent.contains(&i) {
                continue;
            }
            s.nodes[i].set_time(clock);
            let effects = s.nodes[i].start();
            s.apply(i, effects);
        }
        s
    }

    fn apply(&mut self, from: usize, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Send(m) => {
                    if matches!(m, NetMsg::Proposal { .. }) {
                        self.proposals_sent += 1;
                    }
                    for to in 0..4 {
                        if to != from && !self.silent.contains(&to) {
                            self.queue.push_back((to, m.clone()));
                        }
                    }
                }
                Effect::Timer {
                    kind,
                    height,
                    round,
                    duration_ms,
                } => {
                    self.seq += 1;
                    self.timers.insert(
                        (self.clock + duration_ms, from, self.seq),
                        (kind, height, round),
                    );
                }
                Effect::Committed { height, txs, .. } => {
                    self.commits[from].push((height, self.clock, txs));
                }
                Effect::Persist(..) | Effect::Evidence(_) => {}
            }
        }
    }

    fn step(&mut self, ms: u64) {
        self.clock += ms;
        for i in 0..4 {
            if self.silent.contains(&i) {
                continue;
            }
            self.nodes[i].set_time(self.clock);
            let effects = self.nodes[i].poll();
            self.apply(i, effects);
        }
        loop {
            while let Some((to, m)) = self.queue.pop_front() {
                let effects = self.nodes[to].on_message(m);
                self.apply(to, effects);
            }
            let due: Vec<_> = self
                .timers
                .range(..(self.clock + 1, 0, 0))
                .map(|(k, v)| (*k, *v))
                .collect();
            if due.is_empty() {
                break;
            }
            for (k, (kind, height, round)) in due {
                self.timers.remove(&k);
                let effects = self.nodes[k.1].on_timeout(kind, height, round);
                self.apply(k.1, effects);
            }
        }
    }

    /// Steps 50 ms at a time for `ms`.
    fn run_for(&mut self, ms: u64) {
        for _ in 0..ms / 50 {
            self.step(50);
        }
    }

    fn tip(&self, i: usize) -> u64 {
        self.nodes[i].core().tip().height
    }

    /// Submits `tx` to the nodes in `to` (the real network gossips it to all).
    fn submit(&mut self, to: &[usize], tx: &[u8]) {
        for &i in to {
            self.nodes[i].core_mut().submit(tx).expect("admitted");
            let effects = self.nodes[i].poll();
            self.apply(i, effects);
        }
    }
}

/// Issue 15: an idle network makes no empty blocks until the idle interval has passed; a
/// transaction starts the next height at once, and a node with nothing to commit joins a
/// height as soon as a peer's message for it arrives.
#[test]
fn an_idle_network_waits_for_transactions_instead_of_making_empty_blocks() {
    let mut net = Stepped::new(10_000, &[]);
    net.submit(&[0, 1, 2, 3], &reg(0));
    net.run_for(1_000);
    assert!((0..4).all(|i| net.tip(i) == 1), "height 1 committed");
    let committed_at = net.commits[0][0].1;
    assert_eq!(net.commits[0][0].2, 1, "the transaction is in block 1");
    assert!((0..4).all(|i| net.nodes[i].is_idle()), "every node waits");
    let proposals = net.proposals_sent;
    net.run_for(9_000);
    assert_eq!(net.proposals_sent, proposals, "nothing proposed while idle");
    assert!(
        (0..4).all(|i| net.tip(i) == 1),
        "no empty block before the interval"
    );
    net.run_for(2_000);
    assert!(
        (0..4).all(|i| net.tip(i) == 2),
        "the heartbeat block after the interval"
    );
    let (_, at, txs) = net.commits[0][1];
    assert_eq!(txs, 0, "an empty block");
    assert!(
        at >= committed_at + 10_000 && at <= committed_at + 11_000,
        "heartbeat at {} ms",
        at - committed_at
    );
    // A transaction (gossiped to all): the next height starts at once.
    net.run_for(3_000);
    let t = net.clock;
    net.submit(&[0, 1, 2, 3], &reg(1));
    net.run_for(500);
    assert!((0..4).all(|i| net.tip(i) == 3), "committed within 500 ms");
    assert_eq!(net.commits[0][2].2, 1);
    assert!(net.commits[0][2].1 <= t + 500);
    // Only the next proposer has a transaction: the others wake on its proposal.
    let p = proposer_index(4, 0);
    let t = net.clock;
    net.submit(&[p], &reg(2));
    net.run_for(500);
    assert!(
        (0..4).all(|i| net.tip(i) == 4),
        "tips {:?}",
        (0..4).map(|i| net.tip(i)).collect::<Vec<_>>()
    );
    assert!(net.commits[0][3].1 <= t + 500 && net.commits[0][3].2 == 1);
}

/// With the next proposer down, the others start the height after twice the idle interval
/// and commit in a later round: an idle network with a dead proposer still makes its
/// heartbeat blocks.
#[test]
fn an_idle_network_with_its_proposer_down_still_commits() {
    let p = proposer_index(2, 0);
    let mut net = Stepped::new(5_000, &[p]);
    let live: Vec<usize> = (0..4).filter(|&i| i != p).collect();
    net.submit(&live, &reg(0));
    net.run_for(6_000);
    assert!(live.iter().all(|&i| net.tip(i) == 1), "height 1");
    net.run_for(3_000);
    assert!(
        live.iter().all(|&i| net.tip(i) == 1),
        "no block before 2 × 5 s"
    );
    net.run_for(13_000);
    assert!(
        live.iter().all(|&i| net.tip(i) >= 2),
        "tips {:?}",
        live.iter().map(|&i| net.tip(i)).collect::<Vec<_>>()
    );
    let commits = &net.commits[live[0]];
    let (first, second) = (commits[0].1, commits[1].1);
    assert!(
        second >= first + 10_000,
        "height 2 only after twice the interval: {} ms",
        second - first
    );
}

/// 0 keeps the old behaviour: every height starts at once.
#[test]
fn an_idle_interval_of_zero_makes_blocks_at_the_empty_block_interval() {
    let mut net = Stepped::new(0, &[]);
    net.run_for(5_000);
    assert!((0..4).all(|i| net.tip(i) >= 3), "tip {}", net.tip(0));
    assert!((0..4).all(|i| !net.nodes[i].is_idle()));
}
