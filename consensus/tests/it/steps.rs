//! Table-driven step tests: each row is (description, input, expected outputs, expected
//! step, round and lock after the input). Rows cite the paper's lines they exercise.

use concordat_consensus::{Backoff, Engine, Input, Step, TimeoutConfig, TimeoutKind};
use concordat_primitives::Hash;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::common::{assert_persist_first, block, summarize, Net, Out, CHAIN};

const H: u64 = 1;

struct Row {
    desc: &'static str,
    input: Input,
    out: Vec<Out>,
    step: Step,
    round: u32,
    locked: Option<(u32, Hash)>,
}

fn row(
    desc: &'static str,
    input: Input,
    out: Vec<Out>,
    step: Step,
    round: u32,
    locked: Option<(u32, Hash)>,
) -> Row {
    Row {
        desc,
        input,
        out,
        step,
        round,
        locked,
    }
}

fn run(engine: &mut Engine, rows: Vec<Row>) {
    for r in rows {
        let outputs = engine.handle(r.input);
        assert_persist_first(&outputs);
        assert_eq!(summarize(&outputs), r.out, "outputs of: {}", r.desc);
        assert_eq!(engine.step(), r.step, "step after: {}", r.desc);
        assert_eq!(engine.round(), r.round, "round after: {}", r.desc);
        let lock = engine.locked().map(|l| (l.round, l.block_hash));
        assert_eq!(lock, r.locked, "lock after: {}", r.desc);
    }
}

fn timeout(kind: TimeoutKind, round: u32) -> Input {
    Input::TimeoutElapsed {
        kind,
        height: H,
        round,
    }
}

fn validity(round: u32, block_hash: Hash, valid: bool) -> Input {
    Input::ProposalValidity {
        round,
        block_hash,
        valid,
    }
}

/// The outputs of `StartRound(round)` with no valid value (lines 14-21).
fn start_outs(net: &Net, me: usize, round: u32) -> Vec<Out> {
    let mut out = vec![Timeout(Pp, round)];
    if net.proposer(H, round) == me {
        out.insert(0, Request(round, None));
    }
    out
}

/// A validator proposing none of rounds 0..3, and the three others.
fn roles(net: &Net) -> (usize, Vec<usize>) {
    let me = net.non_proposer(H, 0..3);
    (me, (0..4).filter(|i| *i != me).collect())
}

use concordat_consensus::TimeoutKind::{Precommit as Pc, Prevote as Pv, Propose as Pp};
use Out::*;

#[test]
fn decides_in_round_zero_and_certificate_verifies() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let b = block(1);
    let mut e = net.engine(H, Some(me));
    run(
        &mut e,
        vec![
            row(
                "L10: start",
                Input::StartHeight,
                vec![Timeout(Pp, 0)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "proposal: ask the node to execute",
                net.proposal(H, 0, b, None),
                vec![Validate(b)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "L22-24: valid, unlocked: prevote v",
                validity(0, b, true),
                vec![Persist, Prevote(0, Some(b))],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "2 of 4 prevotes: nothing",
                net.prevote(o[0], H, 0, Some(b)),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "L34 + L36-41: 2f+1 prevotes v: timeout, lock, precommit v",
                net.prevote(o[1], H, 0, Some(b)),
                vec![Persist, Timeout(Pv, 0), Precommit(0, Some(b))],
                Step::Precommit,
                0,
                Some((0, b)),
            ),
            row(
                "2 of 4 precommits: nothing",
                net.precommit(o[0], H, 0, Some(b)),
                vec![],
                Step::Precommit,
                0,
                Some((0, b)),
            ),
            row(
                "L49: 2f+1 precommits v: decide",
                net.precommit(o[1], H, 0, Some(b)),
                vec![Decide(0, b)],
                Step::Decided,
                0,
                Some((0, b)),
            ),
            row(
                "after the decision: nothing",
                net.precommit(o[2], H, 0, Some(b)),
                vec![],
                Step::Decided,
                0,
                Some((0, b)),
            ),
        ],
    );
    let d = e.decision().unwrap();
    assert_eq!((d.round, d.block_hash), (0, b));
    let power = d
        .certificate
        .verify(CHAIN, &net.set, H, &b, ChaCha8Rng::seed_from_u64(1))
        .unwrap();
    assert_eq!(
        power, 3,
        "our precommit and the two that completed the quorum"
    );
    assert!(e.try_handle(Input::StartHeight).is_err());
}

#[test]
fn prevote_waits_for_validity_and_invalid_gets_nil() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let b = block(1);
    let mut e = net.engine(H, Some(me));
    run(
        &mut e,
        vec![
            row(
                "start",
                Input::StartHeight,
                vec![Timeout(Pp, 0)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "proposal",
                net.proposal(H, 0, b, None),
                vec![Validate(b)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "polka for v while validity unknown: wait (L36 needs valid(v))",
                net.prevote(o[0], H, 0, Some(b)),
                vec![],
                Step::Propose,
                0,
                None,
            ),
            row(
                "L22-26: invalid: prevote nil",
                validity(0, b, false),
                vec![Persist, Prevote(0, None)],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "more prevotes for the invalid block",
                net.prevote(o[1], H, 0, Some(b)),
                vec![Timeout(Pv, 0)],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "2f+1 prevotes for an invalid block: never precommit it",
                net.prevote(o[2], H, 0, Some(b)),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
        ],
    );
}

/// Rows that lock `me` on `b` in round 0 and move to round 1 (no proposal for round 1 yet).
fn lock_in_round_zero(net: &Net, o: &[usize], b: Hash) -> Vec<Row> {
    vec![
        row(
            "start",
            Input::StartHeight,
            vec![Timeout(Pp, 0)],
            Step::Propose,
            0,
            None,
        ),
        row(
            "proposal b",
            net.proposal(H, 0, b, None),
            vec![Validate(b)],
            Step::Propose,
            0,
            None,
        ),
        row(
            "prevote b",
            validity(0, b, true),
            vec![Persist, Prevote(0, Some(b))],
            Step::Prevote,
            0,
            None,
        ),
        row(
            "prevote",
            net.prevote(o[0], H, 0, Some(b)),
            vec![],
            Step::Prevote,
            0,
            None,
        ),
        row(
            "L36-41: lock b",
            net.prevote(o[1], H, 0, Some(b)),
            vec![Persist, Timeout(Pv, 0), Precommit(0, Some(b))],
            Step::Precommit,
            0,
            Some((0, b)),
        ),
        row(
            "precommit nil",
            net.precommit(o[0], H, 0, None),
            vec![],
            Step::Precommit,
            0,
            Some((0, b)),
        ),
        row(
            "L47: 2f+1 precommits any",
            net.precommit(o[1], H, 0, None),
            vec![Timeout(Pc, 0)],
            Step::Precommit,
            0,
            Some((0, b)),
        ),
        row(
            "L65-67: next round, lock kept",
            timeout(Pc, 0),
            vec![Timeout(Pp, 1)],
            Step::Propose,
            1,
            Some((0, b)),
        ),
    ]
}

#[test]
fn locked_validator_prevotes_nil_for_another_value_without_pol() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let (b, c) = (block(1), block(2));
    let mut e = net.engine(H, Some(me));
    let mut rows = lock_in_round_zero(&net, &o, b);
    rows.extend(vec![
        row(
            "proposal c without POL",
            net.proposal(H, 1, c, None),
            vec![Validate(c)],
            Step::Propose,
            1,
            Some((0, b)),
        ),
        row(
            "L23/L26: valid but locked on b: prevote nil",
            validity(1, c, true),
            vec![Persist, Prevote(1, None)],
            Step::Prevote,
            1,
            Some((0, b)),
        ),
    ]);
    run(&mut e, rows);
}

#[test]
fn locked_validator_prevotes_its_locked_value_again() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let b = block(1);
    let mut e = net.engine(H, Some(me));
    let mut rows = lock_in_round_zero(&net, &o, b);
    rows.push(row(
        "L23-24: lockedValue = v (validity already known): prevote b at once",
        net.proposal(H, 1, b, None),
        vec![Persist, Prevote(1, Some(b))],
        Step::Prevote,
        1,
        Some((0, b)),
    ));
    run(&mut e, rows);
}

#[test]
fn pol_unlocks_a_locked_validator() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let (b, c) = (block(1), block(2));
    let mut e = net.engine(H, Some(me));
    let mut rows = lock_in_round_zero(&net, &o, b);
    rows.extend(vec![
        row(
            "L57-60: no proposal in round 1: prevote nil",
            timeout(Pp, 1),
            vec![Persist, Prevote(1, None)],
            Step::Prevote,
            1,
            Some((0, b)),
        ),
        row(
            "prevote c",
            net.prevote(o[0], H, 1, Some(c)),
            vec![],
            Step::Prevote,
            1,
            Some((0, b)),
        ),
        row(
            "L34",
            net.prevote(o[1], H, 1, Some(c)),
            vec![Timeout(Pv, 1)],
            Step::Prevote,
            1,
            Some((0, b)),
        ),
        row(
            "polka c in round 1, but we miss its proposal: no lock",
            net.prevote(o[2], H, 1, Some(c)),
            vec![],
            Step::Prevote,
            1,
            Some((0, b)),
        ),
        row(
            "L61-64",
            timeout(Pv, 1),
            vec![Persist, Precommit(1, None)],
            Step::Precommit,
            1,
            Some((0, b)),
        ),
        row(
            "precommit",
            net.precommit(o[0], H, 1, None),
            vec![],
            Step::Precommit,
            1,
            Some((0, b)),
        ),
        row(
            "L47",
            net.precommit(o[1], H, 1, None),
            vec![Timeout(Pc, 1)],
            Step::Precommit,
            1,
            Some((0, b)),
        ),
        row(
            "L65-67",
            timeout(Pc, 1),
            vec![Timeout(Pp, 2)],
            Step::Propose,
            2,
            Some((0, b)),
        ),
        row(
            "proposal c with vr = 1",
            net.proposal(H, 2, c, Some(1)),
            vec![Validate(c)],
            Step::Propose,
            2,
            Some((0, b)),
        ),
        row(
            "L28-30: POL at 1 >= lockedRound 0: prevote c",
            validity(2, c, true),
            vec![Persist, Prevote(2, Some(c))],
            Step::Prevote,
            2,
            Some((0, b)),
        ),
        row(
            "prevote c",
            net.prevote(o[0], H, 2, Some(c)),
            vec![],
            Step::Prevote,
            2,
            Some((0, b)),
        ),
        row(
            "L36-41: relock on c",
            net.prevote(o[1], H, 2, Some(c)),
            vec![Persist, Timeout(Pv, 2), Precommit(2, Some(c))],
            Step::Precommit,
            2,
            Some((2, c)),
        ),
    ]);
    run(&mut e, rows);
    assert_eq!(e.valid().map(|v| (v.round, v.block_hash)), Some((2, c)));
}

#[test]
fn pol_older_than_the_lock_does_not_unlock() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let (b, c) = (block(1), block(2));
    let mut e = net.engine(H, Some(me));
    run(
        &mut e,
        vec![
            row(
                "start",
                Input::StartHeight,
                vec![Timeout(Pp, 0)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "no proposal: prevote nil",
                timeout(Pp, 0),
                vec![Persist, Prevote(0, None)],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "POL c at round 0 (1)",
                net.prevote(o[0], H, 0, Some(c)),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "POL c at round 0 (2)",
                net.prevote(o[1], H, 0, Some(c)),
                vec![Timeout(Pv, 0)],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "POL c at round 0 (3)",
                net.prevote(o[2], H, 0, Some(c)),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "precommit nil",
                timeout(Pv, 0),
                vec![Persist, Precommit(0, None)],
                Step::Precommit,
                0,
                None,
            ),
            row(
                "precommit",
                net.precommit(o[0], H, 0, None),
                vec![],
                Step::Precommit,
                0,
                None,
            ),
            row(
                "L47",
                net.precommit(o[1], H, 0, None),
                vec![Timeout(Pc, 0)],
                Step::Precommit,
                0,
                None,
            ),
            row(
                "round 1",
                timeout(Pc, 0),
                vec![Timeout(Pp, 1)],
                Step::Propose,
                1,
                None,
            ),
            row(
                "proposal b",
                net.proposal(H, 1, b, None),
                vec![Validate(b)],
                Step::Propose,
                1,
                None,
            ),
            row(
                "prevote b",
                validity(1, b, true),
                vec![Persist, Prevote(1, Some(b))],
                Step::Prevote,
                1,
                None,
            ),
            row(
                "prevote b",
                net.prevote(o[0], H, 1, Some(b)),
                vec![],
                Step::Prevote,
                1,
                None,
            ),
            row(
                "lock b at round 1",
                net.prevote(o[1], H, 1, Some(b)),
                vec![Persist, Timeout(Pv, 1), Precommit(1, Some(b))],
                Step::Precommit,
                1,
                Some((1, b)),
            ),
            row(
                "precommit",
                net.precommit(o[0], H, 1, None),
                vec![],
                Step::Precommit,
                1,
                Some((1, b)),
            ),
            row(
                "L47",
                net.precommit(o[1], H, 1, None),
                vec![Timeout(Pc, 1)],
                Step::Precommit,
                1,
                Some((1, b)),
            ),
            row(
                "round 2",
                timeout(Pc, 1),
                vec![Timeout(Pp, 2)],
                Step::Propose,
                2,
                Some((1, b)),
            ),
            row(
                "proposal c with vr = 0",
                net.proposal(H, 2, c, Some(0)),
                vec![Validate(c)],
                Step::Propose,
                2,
                Some((1, b)),
            ),
            row(
                "L29/L32: vr 0 < lockedRound 1 and c != b: prevote nil",
                validity(2, c, true),
                vec![Persist, Prevote(2, None)],
                Step::Prevote,
                2,
                Some((1, b)),
            ),
        ],
    );
}

#[test]
fn proposal_with_pol_waits_for_the_pol_then_times_out() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let c = block(2);
    let mut e = net.engine(H, Some(me));
    run(
        &mut e,
        vec![
            row("start", Input::StartHeight, vec![Timeout(Pp, 0)], Step::Propose, 0, None),
            row("skip to round 2 (f+1 in round 2)", net.prevote(o[0], H, 2, None), vec![], Step::Propose, 0, None),
            row("L55", net.prevote(o[1], H, 2, None), vec![Timeout(Pp, 2)], Step::Propose, 2, None),
            row("proposal c with vr = 1", net.proposal(H, 2, c, Some(1)), vec![Validate(c)], Step::Propose, 2, None),
            row("valid, but no 2f+1 prevotes at round 1: wait", validity(2, c, true), vec![], Step::Propose, 2, None),
            row("one prevote at round 1 is not a POL", net.prevote(o[2], H, 1, Some(c)), vec![], Step::Propose, 2, None),
            row(
                "L57: timeout: prevote nil; with the two nil prevotes of round 2, L34 and L44 follow",
                timeout(Pp, 2),
                vec![Persist, Prevote(2, None), Timeout(Pv, 2), Precommit(2, None)],
                Step::Precommit, 2, None,
            ),
        ],
    );
}

#[test]
fn round_skip_on_f_plus_one() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let mut e = net.engine(H, Some(me));
    run(
        &mut e,
        vec![
            row(
                "start",
                Input::StartHeight,
                vec![Timeout(Pp, 0)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "1 of 4 in round 7: not f+1",
                net.precommit(o[0], H, 7, None),
                vec![],
                Step::Propose,
                0,
                None,
            ),
            row(
                "another 1 of 4 in round 5",
                net.prevote(o[1], H, 5, None),
                vec![],
                Step::Propose,
                0,
                None,
            ),
            row(
                "L55: 2 of 4 in round 5: StartRound(5)",
                net.precommit(o[2], H, 5, None),
                start_outs(&net, me, 5),
                Step::Propose,
                5,
                None,
            ),
            row(
                "L55: 2 of 4 in round 7 (prevote + precommit)",
                net.prevote(o[1], H, 7, None),
                start_outs(&net, me, 7),
                Step::Propose,
                7,
                None,
            ),
            row(
                "old rounds do nothing",
                net.prevote(o[2], H, 3, None),
                vec![],
                Step::Propose,
                7,
                None,
            ),
        ],
    );
}

#[test]
fn round_skip_counts_voting_power_not_heads() {
    // Canonical index 3 holds 4 of 7: alone it is more than 1/3 (and less than 2/3).
    let net = Net::with_powers(&[1, 1, 1, 4]);
    let me = (0..3)
        .find(|i| net.proposer(H, 1) != *i && net.proposer(H, 2) != *i)
        .unwrap();
    let small: Vec<usize> = (0..3).filter(|i| *i != me).collect();
    let mut e = net.engine(H, Some(me));
    e.handle(Input::StartHeight);
    e.handle(net.prevote(small[0], H, 1, None));
    e.handle(net.prevote(small[1], H, 1, None));
    assert_eq!(e.round(), 0, "2 of 7 is not more than 1/3");
    e.handle(net.prevote(3, H, 2, None));
    assert_eq!(e.round(), 2, "4 of 7 is more than 1/3");
}

#[test]
fn timeouts_prevote_precommit_and_stale_ones() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let b = block(1);
    let mut e = net.engine(H, Some(me));
    let r1 = start_outs(&net, me, 1);
    run(
        &mut e,
        vec![
            row(
                "start",
                Input::StartHeight,
                vec![Timeout(Pp, 0)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "stale: other round",
                timeout(Pp, 3),
                vec![],
                Step::Propose,
                0,
                None,
            ),
            row(
                "stale: other height",
                Input::TimeoutElapsed {
                    kind: Pp,
                    height: H + 1,
                    round: 0,
                },
                vec![],
                Step::Propose,
                0,
                None,
            ),
            row(
                "not yet prevoting: prevote timeout does nothing",
                timeout(Pv, 0),
                vec![],
                Step::Propose,
                0,
                None,
            ),
            row(
                "L57-60",
                timeout(Pp, 0),
                vec![Persist, Prevote(0, None)],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "stale propose timeout",
                timeout(Pp, 0),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "prevote b",
                net.prevote(o[0], H, 0, Some(b)),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "L34: 2f+1 mixed prevotes: schedule once",
                net.prevote(o[1], H, 0, Some(b)),
                vec![Timeout(Pv, 0)],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "L34 does not fire twice",
                net.prevote(o[2], H, 0, None),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "L61-64",
                timeout(Pv, 0),
                vec![Persist, Precommit(0, None)],
                Step::Precommit,
                0,
                None,
            ),
            row(
                "precommit",
                net.precommit(o[0], H, 0, Some(b)),
                vec![],
                Step::Precommit,
                0,
                None,
            ),
            row(
                "L47: schedule once",
                net.precommit(o[1], H, 0, None),
                vec![Timeout(Pc, 0)],
                Step::Precommit,
                0,
                None,
            ),
            row(
                "L47 does not fire twice",
                net.precommit(o[2], H, 0, None),
                vec![],
                Step::Precommit,
                0,
                None,
            ),
            row("L65-67", timeout(Pc, 0), r1, Step::Propose, 1, None),
        ],
    );
}

#[test]
fn nil_polka_precommits_nil() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let mut e = net.engine(H, Some(me));
    run(
        &mut e,
        vec![
            row(
                "start",
                Input::StartHeight,
                vec![Timeout(Pp, 0)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "L57",
                timeout(Pp, 0),
                vec![Persist, Prevote(0, None)],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "nil",
                net.prevote(o[0], H, 0, None),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "L34 + L44-46",
                net.prevote(o[1], H, 0, None),
                vec![Persist, Timeout(Pv, 0), Precommit(0, None)],
                Step::Precommit,
                0,
                None,
            ),
        ],
    );
}

#[test]
fn timeouts_grow_with_the_round() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let cfg = TimeoutConfig {
        propose: Backoff {
            base_ms: 100,
            per_round_ms: 10,
        },
        prevote: Backoff {
            base_ms: 50,
            per_round_ms: 5,
        },
        precommit: Backoff {
            base_ms: 70,
            per_round_ms: 7,
        },
    };
    let mut e = net.engine(H, Some(me)).with_timeouts(cfg);
    let durations = |outs: Vec<concordat_consensus::Output>| -> Vec<(TimeoutKind, u64)> {
        outs.into_iter()
            .filter_map(|o| match o {
                concordat_consensus::Output::ScheduleTimeout {
                    kind, duration_ms, ..
                } => Some((kind, duration_ms)),
                _ => None,
            })
            .collect()
    };
    let b = block(1);
    assert_eq!(durations(e.handle(Input::StartHeight)), vec![(Pp, 100)]);
    assert_eq!(
        durations(e.handle(net.prevote(o[0], H, 2, Some(b)))),
        vec![]
    );
    assert_eq!(
        durations(e.handle(net.prevote(o[1], H, 2, Some(b)))),
        vec![(Pp, 120)]
    );
    assert_eq!(durations(e.handle(timeout(Pp, 2))), vec![(Pv, 60)]);
    assert_eq!(durations(e.handle(timeout(Pv, 2))), vec![]);
    assert_eq!(durations(e.handle(net.precommit(o[0], H, 2, None))), vec![]);
    assert_eq!(
        durations(e.handle(net.precommit(o[1], H, 2, None))),
        vec![(Pc, 84)]
    );
}

#[test]
fn proposer_requests_a_value_then_proposes_and_prevotes() {
    let net = Net::equal(4);
    let me = net.proposer(H, 0);
    let b = block(1);
    let mut e = net.engine(H, Some(me));
    run(
        &mut e,
        vec![
            row(
                "L14-18: we propose: ask the node",
                Input::StartHeight,
                vec![Request(0, None), Timeout(Pp, 0)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "L19 then L22-24 on our own proposal",
                Input::ProposeValue {
                    round: 0,
                    block_hash: b,
                },
                vec![Persist, Proposal(0, b, None), Prevote(0, Some(b))],
                Step::Prevote,
                0,
                None,
            ),
        ],
    );
    assert!(e
        .try_handle(Input::ProposeValue {
            round: 0,
            block_hash: b
        })
        .is_err());
}

#[test]
fn proposer_reproposes_its_valid_value_with_valid_round() {
    let net = Net::equal(4);
    let me = net.proposer(H, 1);
    let o: Vec<usize> = (0..4).filter(|i| *i != me).collect();
    let (b, c) = (block(1), block(2));
    let mut e = net.engine(H, Some(me));
    let mut rows = lock_in_round_zero(&net, &o, b);
    let last = rows.pop().unwrap();
    rows.push(row(
        "L15-16: validValue set: the request carries it",
        last.input,
        vec![Request(1, Some(b)), Timeout(Pp, 1)],
        Step::Propose,
        1,
        Some((0, b)),
    ));
    run(&mut e, rows);
    assert_eq!(
        e.try_handle(Input::ProposeValue {
            round: 1,
            block_hash: c
        }),
        Err(concordat_consensus::InputError::NotValidValue {
            expected: b,
            got: c
        })
    );
    let out = e.handle(Input::ProposeValue {
        round: 1,
        block_hash: b,
    });
    assert_persist_first(&out);
    assert_eq!(
        summarize(&out),
        vec![Persist, Proposal(1, b, Some(0)), Prevote(1, Some(b))],
        "L19: ⟨PROPOSAL, h, 1, b, validRound 0⟩, then L28 (POL at 0) prevotes b"
    );
}

#[test]
fn decides_on_precommits_of_an_earlier_round() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let b = block(1);
    let mut e = net.engine(H, Some(me));
    let r1 = start_outs(&net, me, 1);
    run(
        &mut e,
        vec![
            row(
                "start",
                Input::StartHeight,
                vec![Timeout(Pp, 0)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "round 1 vote",
                net.prevote(o[0], H, 1, None),
                vec![],
                Step::Propose,
                0,
                None,
            ),
            row(
                "L55: skip to round 1",
                net.prevote(o[1], H, 1, None),
                r1,
                Step::Propose,
                1,
                None,
            ),
            row(
                "late proposal of round 0",
                net.proposal(H, 0, b, None),
                vec![Validate(b)],
                Step::Propose,
                1,
                None,
            ),
            row(
                "valid (no prevote: not our round)",
                validity(0, b, true),
                vec![],
                Step::Propose,
                1,
                None,
            ),
            row(
                "precommit r0",
                net.precommit(o[0], H, 0, Some(b)),
                vec![],
                Step::Propose,
                1,
                None,
            ),
            row(
                "precommit r0",
                net.precommit(o[1], H, 0, Some(b)),
                vec![],
                Step::Propose,
                1,
                None,
            ),
            row(
                "L49: any round r",
                net.precommit(o[2], H, 0, Some(b)),
                vec![Decide(0, b)],
                Step::Decided,
                1,
                None,
            ),
        ],
    );
    assert_eq!(e.decision().unwrap().certificate.round, 0);
}

#[test]
fn no_decision_without_the_proposal_or_for_an_invalid_block() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let b = block(1);
    for valid in [true, false] {
        let mut e = net.engine(H, Some(me));
        let end = if valid {
            row(
                "L49-51: proposal + valid(v): decide",
                validity(0, b, true),
                vec![Decide(0, b)],
                Step::Decided,
                0,
                None,
            )
        } else {
            row(
                "L50: invalid: never decide",
                validity(0, b, false),
                vec![Persist, Prevote(0, None)],
                Step::Prevote,
                0,
                None,
            )
        };
        run(
            &mut e,
            vec![
                row(
                    "start",
                    Input::StartHeight,
                    vec![Timeout(Pp, 0)],
                    Step::Propose,
                    0,
                    None,
                ),
                row(
                    "precommit",
                    net.precommit(o[0], H, 0, Some(b)),
                    vec![],
                    Step::Propose,
                    0,
                    None,
                ),
                row(
                    "precommit",
                    net.precommit(o[1], H, 0, Some(b)),
                    vec![],
                    Step::Propose,
                    0,
                    None,
                ),
                row(
                    "2f+1 precommits, no proposal: L47 only",
                    net.precommit(o[2], H, 0, Some(b)),
                    vec![Timeout(Pc, 0)],
                    Step::Propose,
                    0,
                    None,
                ),
                row(
                    "the proposal",
                    net.proposal(H, 0, b, None),
                    vec![Validate(b)],
                    Step::Propose,
                    0,
                    None,
                ),
                end,
            ],
        );
    }
}

#[test]
fn observer_follows_and_decides_without_signing() {
    let net = Net::equal(4);
    let b = block(1);
    let mut e = net.engine(H, None);
    run(
        &mut e,
        vec![
            row(
                "start",
                Input::StartHeight,
                vec![Timeout(Pp, 0)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "proposal",
                net.proposal(H, 0, b, None),
                vec![Validate(b)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "an observer does not vote",
                validity(0, b, true),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "prevote",
                net.prevote(0, H, 0, Some(b)),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "prevote",
                net.prevote(1, H, 0, Some(b)),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "polka: no vote, but lock/valid tracked",
                net.prevote(2, H, 0, Some(b)),
                vec![Timeout(Pv, 0)],
                Step::Precommit,
                0,
                Some((0, b)),
            ),
            row(
                "precommit",
                net.precommit(0, H, 0, Some(b)),
                vec![],
                Step::Precommit,
                0,
                Some((0, b)),
            ),
            row(
                "precommit",
                net.precommit(1, H, 0, Some(b)),
                vec![],
                Step::Precommit,
                0,
                Some((0, b)),
            ),
            row(
                "decide",
                net.precommit(3, H, 0, Some(b)),
                vec![Decide(0, b)],
                Step::Decided,
                0,
                Some((0, b)),
            ),
        ],
    );
    assert!(e.safety_state().is_none());
}

#[test]
fn messages_before_start_are_kept() {
    let net = Net::equal(4);
    let (me, _) = roles(&net);
    let b = block(1);
    let mut e = net.engine(H, Some(me));
    assert_eq!(
        summarize(&e.handle(net.proposal(H, 0, b, None))),
        vec![Validate(b)]
    );
    assert_eq!(summarize(&e.handle(validity(0, b, true))), vec![]);
    assert_eq!(e.step(), Step::Unstarted);
    assert_eq!(
        summarize(&e.handle(Input::StartHeight)),
        vec![Persist, Timeout(Pp, 0), Prevote(0, Some(b))]
    );
}

#[test]
fn persist_safety_is_first_and_holds_the_broadcast_vote() {
    let net = Net::equal(4);
    let me = net.proposer(H, 0);
    let mut e = net.engine(H, Some(me));
    e.handle(Input::StartHeight);
    let out = e.handle(Input::ProposeValue {
        round: 0,
        block_hash: block(1),
    });
    let concordat_consensus::Output::PersistSafety(state) = &out[0] else {
        panic!("first output must be PersistSafety: {out:?}");
    };
    let concordat_consensus::Output::Broadcast(last) = out.last().unwrap() else {
        panic!("last output must be the prevote: {out:?}");
    };
    assert_eq!(
        state.last_signed(),
        Some(last),
        "the persisted state holds the vote that leaves"
    );
    assert_eq!(e.safety_state(), Some(state));
}

#[test]
fn polka_after_precommitting_nil_sets_only_the_valid_value() {
    let net = Net::equal(4);
    let (me, o) = roles(&net);
    let b = block(1);
    let mut e = net.engine(H, Some(me));
    run(
        &mut e,
        vec![
            row(
                "start",
                Input::StartHeight,
                vec![Timeout(Pp, 0)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "proposal",
                net.proposal(H, 0, b, None),
                vec![Validate(b)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "prevote b",
                validity(0, b, true),
                vec![Persist, Prevote(0, Some(b))],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "prevote b",
                net.prevote(o[0], H, 0, Some(b)),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "L34",
                net.prevote(o[1], H, 0, None),
                vec![Timeout(Pv, 0)],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "L61-64",
                timeout(Pv, 0),
                vec![Persist, Precommit(0, None)],
                Step::Precommit,
                0,
                None,
            ),
            row(
                "L36 with step = precommit: no lock, no vote",
                net.prevote(o[2], H, 0, Some(b)),
                vec![],
                Step::Precommit,
                0,
                None,
            ),
        ],
    );
    assert_eq!(
        e.valid().map(|v| (v.round, v.block_hash)),
        Some((0, b)),
        "L42-43"
    );
}

#[test]
fn exactly_two_thirds_is_not_a_quorum() {
    // Total 6: 4 is exactly 2/3 (not a quorum), 5 is more.
    let net = Net::with_powers(&[1, 1, 1, 3]);
    let b = block(1);
    let mut e = net.engine(H, None);
    run(
        &mut e,
        vec![
            row(
                "start",
                Input::StartHeight,
                vec![Timeout(Pp, 0)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "proposal",
                net.proposal(H, 0, b, None),
                vec![Validate(b)],
                Step::Propose,
                0,
                None,
            ),
            row(
                "observer: no vote",
                validity(0, b, true),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "3 of 6",
                net.prevote(3, H, 0, Some(b)),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "4 of 6 = 2/3: not 2f+1",
                net.prevote(0, H, 0, Some(b)),
                vec![],
                Step::Prevote,
                0,
                None,
            ),
            row(
                "5 of 6: L34 + L36",
                net.prevote(1, H, 0, Some(b)),
                vec![Timeout(Pv, 0)],
                Step::Precommit,
                0,
                Some((0, b)),
            ),
            row(
                "precommits 4 of 6: no decision",
                net.precommit(3, H, 0, Some(b)),
                vec![],
                Step::Precommit,
                0,
                Some((0, b)),
            ),
            row(
                "precommits 4 of 6: no decision",
                net.precommit(0, H, 0, Some(b)),
                vec![],
                Step::Precommit,
                0,
                Some((0, b)),
            ),
            row(
                "precommits 5 of 6: decide",
                net.precommit(2, H, 0, Some(b)),
                vec![Decide(0, b)],
                Step::Decided,
                0,
                Some((0, b)),
            ),
        ],
    );
}

#[test]
fn exactly_one_third_is_not_f_plus_one() {
    // Total 6: 2 is exactly 1/3 (no skip), 3 is more.
    let net = Net::with_powers(&[1, 1, 1, 3]);
    let mut e = net.engine(H, None);
    e.handle(Input::StartHeight);
    e.handle(net.prevote(0, H, 2, None));
    e.handle(net.precommit(1, H, 2, None));
    assert_eq!(e.round(), 0, "2 of 6 is exactly 1/3");
    e.handle(net.prevote(2, H, 2, None));
    assert_eq!(e.round(), 2, "3 of 6 is more than 1/3");
}
