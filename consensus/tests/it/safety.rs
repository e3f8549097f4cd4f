//! The safety rules: conditions 1-5 of `consensus::safety`, and no double signing across a
//! simulated crash-restart from the persisted state.

use concordat_consensus::{
    Input, Output, Proposal, SafetyError, SafetyRules, SafetyState, Step, Vote, VoteKind,
};
use concordat_primitives::{encoding, Hash};

use crate::common::{block, summarize, Net, Out, CHAIN};

fn vote(kind: VoteKind, height: u64, round: u32, block_hash: Option<Hash>) -> Vote {
    Vote {
        kind,
        height,
        round,
        block_hash,
    }
}

fn rules(net: &Net, state: SafetyState) -> SafetyRules {
    SafetyRules::new(CHAIN, net.keys[0].clone(), state).unwrap()
}

/// What the node does: BCS to disk, and back after a crash.
fn persist_and_reload(state: &SafetyState) -> SafetyState {
    let bytes = encoding::to_bytes(state);
    encoding::from_bytes(&bytes).unwrap()
}

#[test]
fn same_request_returns_the_stored_signature() {
    let net = Net::equal(4);
    let mut s = rules(&net, SafetyState::default());
    let v = vote(VoteKind::Prevote, 5, 2, Some(block(1)));
    let first = s.sign_vote(v, None).unwrap();
    assert!(first.verify(CHAIN).is_ok());
    let state = s.state().clone();
    let again = s.sign_vote(v, None).unwrap();
    assert_eq!(again, first);
    assert_eq!(s.state(), &state, "a re-request changes nothing");
    let p = Proposal {
        height: 6,
        round: 0,
        block_hash: block(2),
        pol_round: None,
    };
    let sp = s.sign_proposal(p).unwrap();
    assert_eq!(s.sign_proposal(p).unwrap(), sp);
}

#[test]
fn refuses_a_different_message_at_the_same_step() {
    let net = Net::equal(4);
    let mut s = rules(&net, SafetyState::default());
    s.sign_vote(vote(VoteKind::Prevote, 5, 2, Some(block(1))), None)
        .unwrap();
    for other in [Some(block(2)), None] {
        assert!(matches!(
            s.sign_vote(vote(VoteKind::Prevote, 5, 2, other), None),
            Err(SafetyError::Conflict(_))
        ));
    }
    let p = Proposal {
        height: 6,
        round: 0,
        block_hash: block(1),
        pol_round: None,
    };
    s.sign_proposal(p).unwrap();
    let p2 = Proposal {
        block_hash: block(2),
        ..p
    };
    assert!(matches!(s.sign_proposal(p2), Err(SafetyError::Conflict(_))));
    let p3 = Proposal {
        pol_round: Some(0),
        round: 0,
        ..p
    };
    assert!(matches!(
        s.sign_proposal(p3),
        Err(SafetyError::BadPolRound { .. })
    ));
}

#[test]
fn refuses_to_go_backwards() {
    let net = Net::equal(4);
    let mut s = rules(&net, SafetyState::default());
    s.sign_vote(vote(VoteKind::Precommit, 5, 2, None), None)
        .unwrap();
    let backwards = [
        vote(VoteKind::Prevote, 5, 2, None),
        vote(VoteKind::Precommit, 5, 1, None),
        vote(VoteKind::Prevote, 4, 9, None),
    ];
    for v in backwards {
        assert!(
            matches!(s.sign_vote(v, None), Err(SafetyError::Regression { .. })),
            "{v:?}"
        );
    }
    let p = Proposal {
        height: 5,
        round: 2,
        block_hash: block(1),
        pol_round: None,
    };
    assert!(matches!(
        s.sign_proposal(p),
        Err(SafetyError::Regression { .. })
    ));
    assert!(s
        .sign_vote(vote(VoteKind::Prevote, 5, 3, None), None)
        .is_ok());
    assert!(s
        .sign_vote(vote(VoteKind::Prevote, 6, 0, None), None)
        .is_ok());
}

#[test]
fn lock_rule_needs_a_recent_enough_pol() {
    let net = Net::equal(4);
    let mut s = rules(&net, SafetyState::default());
    let (b, c) = (block(1), block(2));
    s.sign_vote(vote(VoteKind::Precommit, 5, 1, Some(b)), None)
        .unwrap();
    assert_eq!(
        s.state().lock_at(5).map(|l| (l.round, l.block_hash)),
        Some((1, b))
    );
    assert!(matches!(
        s.sign_vote(vote(VoteKind::Prevote, 5, 2, Some(c)), None),
        Err(SafetyError::LockViolation {
            locked_round: 1,
            ..
        })
    ));
    assert!(matches!(
        s.sign_vote(vote(VoteKind::Prevote, 5, 2, Some(c)), Some(0)),
        Err(SafetyError::LockViolation { .. })
    ));
    // A refusal changes nothing: the same round can still be voted lawfully.
    assert!(s
        .sign_vote(vote(VoteKind::Prevote, 5, 2, Some(b)), None)
        .is_ok());
    assert!(s
        .sign_vote(vote(VoteKind::Prevote, 5, 3, None), None)
        .is_ok());
    assert!(
        s.sign_vote(vote(VoteKind::Prevote, 5, 4, Some(c)), Some(4))
            .is_err(),
        "vr < r"
    );
    assert!(s
        .sign_vote(vote(VoteKind::Prevote, 5, 4, Some(c)), Some(1))
        .is_ok());
    // A lock does not reach the next height.
    assert!(s.state().lock_at(6).is_none());
    assert!(s
        .sign_vote(vote(VoteKind::Prevote, 6, 0, Some(c)), None)
        .is_ok());
}

#[test]
fn no_double_sign_across_a_restart() {
    let net = Net::equal(4);
    let mut before = rules(&net, SafetyState::default());
    let v = vote(VoteKind::Prevote, 5, 2, Some(block(1)));
    let signed = before.sign_vote(v, None).unwrap();
    let persisted = persist_and_reload(before.state());
    drop(before); // crash

    let mut after = rules(&net, persisted);
    assert!(matches!(
        after.sign_vote(vote(VoteKind::Prevote, 5, 2, None), None),
        Err(SafetyError::Conflict(_))
    ));
    assert!(matches!(
        after.sign_vote(vote(VoteKind::Prevote, 5, 1, None), None),
        Err(SafetyError::Regression { .. })
    ));
    assert_eq!(
        after.sign_vote(v, None).unwrap(),
        signed,
        "a re-request returns the stored vote"
    );
}

#[test]
fn state_of_another_key_is_refused() {
    let net = Net::equal(4);
    let mut s = rules(&net, SafetyState::default());
    s.sign_vote(vote(VoteKind::Prevote, 1, 0, None), None)
        .unwrap();
    let state = s.state().clone();
    assert!(matches!(
        SafetyRules::new(CHAIN, net.keys[1].clone(), state),
        Err(SafetyError::ForeignState { .. })
    ));
}

/// The engine after a crash: rebuilt from the last PersistSafety, it never votes differently
/// at a step it signed; when asked to, it counts and re-sends the vote it had signed (issue
/// 11, defect 1: it used to send nothing, and a network restarted at once could halt).
#[test]
fn engine_restart_does_not_double_sign() {
    let net = Net::equal(4);
    let h = 1;
    let me = net.non_proposer(h, 0..3);
    let b = block(1);
    let mut e = net.engine(h, Some(me));
    e.handle(Input::StartHeight);
    e.handle(net.proposal(h, 0, b, None));
    let out = e.handle(Input::ProposalValidity {
        round: 0,
        block_hash: b,
        valid: true,
    });
    let Output::PersistSafety(persisted) = &out[0] else {
        panic!("{out:?}")
    };
    let sent = out[1].clone();
    let persisted = persist_and_reload(persisted);
    drop(e); // crash after sending

    // Restart 1: the timeout fires before the proposal is seen again: nil is refused, and
    // the prevote for b that was signed before the crash goes out again instead (nothing new
    // is signed, so nothing needs persisting).
    let mut e = net.engine_from(h, Some(me), persisted.clone());
    e.handle(Input::StartHeight);
    let out = e.handle(Input::TimeoutElapsed {
        kind: concordat_consensus::TimeoutKind::Propose,
        height: h,
        round: 0,
    });
    assert_eq!(out, vec![sent.clone()], "the stored vote, re-sent");
    assert_eq!(e.signing_refusals(), 1);
    assert_eq!(e.step(), Step::Prevote, "the step still advances");
    let me_key = net.keys[me].public_key();
    assert!(
        e.votes().get(0, VoteKind::Prevote, &me_key).is_some(),
        "our own vote is counted"
    );

    // Restart 2: the proposal is seen again: the very same vote goes out.
    let mut e = net.engine_from(h, Some(me), persisted);
    e.handle(Input::StartHeight);
    e.handle(net.proposal(h, 0, b, None));
    let out = e.handle(Input::ProposalValidity {
        round: 0,
        block_hash: b,
        valid: true,
    });
    assert_eq!(
        summarize(&out),
        vec![Out::Persist, Out::Prevote(0, Some(b))]
    );
    assert_eq!(out[1], sent);
}

/// A validator that precommitted (locked) and crashed keeps its lock after the restart.
#[test]
fn engine_restart_restores_the_lock() {
    let net = Net::equal(4);
    let h = 1;
    let me = net.non_proposer(h, 0..3);
    let o: Vec<usize> = (0..4).filter(|i| *i != me).collect();
    let (b, c) = (block(1), block(2));
    let mut e = net.engine(h, Some(me));
    e.handle(Input::StartHeight);
    e.handle(net.proposal(h, 0, b, None));
    e.handle(Input::ProposalValidity {
        round: 0,
        block_hash: b,
        valid: true,
    });
    e.handle(net.prevote(o[0], h, 0, Some(b)));
    let out = e.handle(net.prevote(o[1], h, 0, Some(b)));
    assert!(summarize(&out).contains(&Out::Precommit(0, Some(b))));
    let Output::PersistSafety(persisted) = &out[0] else {
        panic!("{out:?}")
    };
    let persisted = persist_and_reload(persisted);
    drop(e); // crash

    let mut e = net.engine_from(h, Some(me), persisted);
    assert_eq!(e.locked().map(|l| (l.round, l.block_hash)), Some((0, b)));
    e.handle(Input::StartHeight);
    e.handle(net.prevote(o[0], h, 1, None));
    e.handle(net.precommit(o[1], h, 1, None));
    assert_eq!(e.round(), 1, "L55");
    e.handle(net.proposal(h, 1, c, None));
    let out = e.handle(Input::ProposalValidity {
        round: 1,
        block_hash: c,
        valid: true,
    });
    assert_eq!(
        summarize(&out),
        vec![Out::Persist, Out::Prevote(1, None)],
        "the lock on b survived the crash"
    );
}

/// After a restart at a precommit, the prevote signed earlier in the same round is still held
/// by the safety state: the engine counts it at once, and a request to prevote differently is
/// answered with it (not with silence).
#[test]
fn engine_restart_restores_every_vote_of_the_round() {
    let net = Net::equal(4);
    let h = 1;
    let me = net.non_proposer(h, 0..3);
    let me_key = net.keys[me].public_key();
    let o: Vec<usize> = (0..4).filter(|i| *i != me).collect();
    let b = block(1);
    let mut e = net.engine(h, Some(me));
    e.handle(Input::StartHeight);
    e.handle(net.proposal(h, 0, b, None));
    let out = e.handle(Input::ProposalValidity {
        round: 0,
        block_hash: b,
        valid: true,
    });
    let prevote = out[1].clone();
    e.handle(net.prevote(o[0], h, 0, Some(b)));
    let out = e.handle(net.prevote(o[1], h, 0, Some(b)));
    let Output::PersistSafety(persisted) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(
        persisted.signed_in_round().len(),
        2,
        "prevote and precommit held"
    );
    let persisted = persist_and_reload(persisted);
    drop(e);

    let mut e = net.engine_from(h, Some(me), persisted);
    assert!(e.votes().get(0, VoteKind::Prevote, &me_key).is_some());
    assert!(e.votes().get(0, VoteKind::Precommit, &me_key).is_some());
    e.handle(Input::StartHeight);
    let out = e.handle(Input::TimeoutElapsed {
        kind: concordat_consensus::TimeoutKind::Propose,
        height: h,
        round: 0,
    });
    assert_eq!(
        out,
        vec![prevote],
        "the prevote for b, not nil and not nothing"
    );
}
