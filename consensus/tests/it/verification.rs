//! Incoming messages: what is refused, deduplicated, or recorded as evidence.

use concordat_consensus::{
    Equivocation, Input, InputError, Message, Output, VoteKind, MAX_FUTURE_ROUNDS_PER_VALIDATOR,
};
use concordat_primitives::{Hash, SecretKey, Signature};

use crate::common::{block, summarize, Net, Out, CHAIN};

const H: u64 = 1;

fn started(net: &Net) -> (concordat_consensus::Engine, usize, Vec<usize>) {
    let me = net.non_proposer(H, 0..3);
    let mut e = net.engine(H, Some(me));
    e.handle(Input::StartHeight);
    (e, me, (0..4).filter(|i| *i != me).collect())
}

#[test]
fn bad_signature_is_refused_and_not_counted() {
    let net = Net::equal(4);
    let (mut e, _, o) = started(&net);
    let mut v = net.signed_vote(o[0], VoteKind::Prevote, H, 0, Some(block(1)));
    v.signature = Signature([7; 64]);
    assert_eq!(
        e.try_handle(Input::Vote(v.clone())),
        Err(InputError::BadSignature(v.validator))
    );
    // A signature over another vote does not transfer.
    v.signature = net
        .signed_vote(o[0], VoteKind::Prevote, H, 0, Some(block(2)))
        .signature;
    assert!(e.try_handle(Input::Vote(v)).is_err());
    assert_eq!(e.votes().power_any(0, VoteKind::Prevote), 0);
    // Signed for another chain.
    let vote = net.signed_vote(o[0], VoteKind::Prevote, H, 0, None).vote;
    let other_chain = concordat_consensus::SignedVote {
        vote,
        validator: net.keys[o[0]].public_key(),
        signature: net.keys[o[0]].sign(&vote.signing_bytes("another-chain")),
    };
    assert!(e.try_handle(Input::Vote(other_chain)).is_err());
    assert_eq!(e.votes().power_any(0, VoteKind::Prevote), 0);
}

#[test]
fn unknown_signer_and_other_heights_are_refused() {
    let net = Net::equal(4);
    let (mut e, _, o) = started(&net);
    let stranger = SecretKey::from_seed([99; 32]);
    let vote = net.signed_vote(o[0], VoteKind::Prevote, H, 0, None).vote;
    let v = concordat_consensus::SignedVote {
        vote,
        validator: stranger.public_key(),
        signature: stranger.sign(&vote.signing_bytes(CHAIN)),
    };
    assert_eq!(
        e.try_handle(Input::Vote(v)),
        Err(InputError::UnknownValidator(stranger.public_key()))
    );
    assert_eq!(
        e.try_handle(net.prevote(o[0], H + 1, 0, None)),
        Err(InputError::WrongHeight {
            expected: H,
            got: H + 1
        })
    );
    assert_eq!(
        e.try_handle(net.proposal(H - 1, 0, block(1), None)),
        Err(InputError::WrongHeight {
            expected: H,
            got: H - 1
        })
    );
    assert!(e.handle(net.prevote(o[0], H + 1, 0, None)).is_empty());
}

#[test]
fn duplicate_vote_is_ignored() {
    let net = Net::equal(4);
    let (mut e, _, o) = started(&net);
    let v = net.prevote(o[0], H, 0, Some(block(1)));
    assert_eq!(e.try_handle(v.clone()), Ok(vec![]));
    assert_eq!(e.try_handle(v), Err(InputError::Duplicate));
    assert_eq!(e.votes().power_any(0, VoteKind::Prevote), 1);
}

#[test]
fn equivocation_is_evidence_and_counts_only_for_its_own_value() {
    let net = Net::equal(4);
    let (mut e, _, o) = started(&net);
    let (b, c, d) = (block(1), block(2), block(3));
    e.handle(net.prevote(o[0], H, 0, Some(b)));
    let out = e.handle(net.prevote(o[0], H, 0, Some(c)));
    assert_eq!(summarize(&out), vec![Out::Evidence]);
    let Output::Evidence(ev) = &out[0] else {
        unreachable!()
    };
    assert!(ev.verify(CHAIN, &net.set));
    assert_eq!(ev.offender(), net.keys[o[0]].public_key());
    // Each signed value counts for its own value; the validator counts once towards "any".
    assert_eq!(e.votes().power_for(0, VoteKind::Prevote, Some(b)), 1);
    assert_eq!(e.votes().power_for(0, VoteKind::Prevote, Some(c)), 1);
    assert_eq!(e.votes().power_any(0, VoteKind::Prevote), 1);
    // A third value: counted for that value, evidence reported once, "any" unchanged.
    assert_eq!(e.try_handle(net.prevote(o[0], H, 0, Some(d))), Ok(vec![]));
    assert_eq!(e.evidence().len(), 1);
    assert_eq!(e.votes().power_for(0, VoteKind::Prevote, Some(d)), 1);
    assert_eq!(e.votes().power_any(0, VoteKind::Prevote), 1);
    // The same equivocating vote again is a duplicate.
    assert!(e.try_handle(net.prevote(o[0], H, 0, Some(c))).is_err());
    // The same validator's precommit is another kind: counted normally.
    e.handle(net.precommit(o[0], H, 0, Some(b)));
    assert_eq!(e.votes().power_any(0, VoteKind::Precommit), 1);
    // Evidence with a forged second signature is refused.
    let mut forged = net.signed_vote(o[1], VoteKind::Prevote, H, 0, Some(c));
    e.handle(net.prevote(o[1], H, 0, Some(b)));
    forged.signature = Signature([1; 64]);
    assert!(e.try_handle(Input::Vote(forged)).is_err());
    assert_eq!(e.evidence().len(), 1);
}

#[test]
fn evidence_verify_rejects_non_equivocations() {
    let net = Net::equal(4);
    let a = net.signed_vote(0, VoteKind::Prevote, H, 0, Some(block(1)));
    let same = Equivocation::Vote {
        first: a.clone(),
        second: a.clone(),
    };
    assert!(!same.verify(CHAIN, &net.set));
    let other_round = net.signed_vote(0, VoteKind::Prevote, H, 1, Some(block(2)));
    assert!(!Equivocation::Vote {
        first: a.clone(),
        second: other_round
    }
    .verify(CHAIN, &net.set));
    let other_signer = net.signed_vote(1, VoteKind::Prevote, H, 0, Some(block(2)));
    assert!(!Equivocation::Vote {
        first: a.clone(),
        second: other_signer
    }
    .verify(CHAIN, &net.set));
    let real = net.signed_vote(0, VoteKind::Prevote, H, 0, None);
    assert!(Equivocation::Vote {
        first: a,
        second: real
    }
    .verify(CHAIN, &net.set));
}

#[test]
fn proposals_from_the_wrong_proposer_or_with_bad_pol_are_refused() {
    let net = Net::equal(4);
    let (mut e, me, _) = started(&net);
    let p0 = net.proposer(H, 0);
    let not_p0 = (0..4).find(|i| *i != p0 && *i != me).unwrap();
    let wrong = net.signed_proposal(not_p0, H, 0, block(1), None);
    assert!(matches!(
        e.try_handle(Input::Proposal(wrong)),
        Err(InputError::NotProposer { round: 0, .. })
    ));
    assert_eq!(
        e.try_handle(net.proposal(H, 0, block(1), Some(0))),
        Err(InputError::BadPolRound {
            round: 0,
            pol_round: 0
        })
    );
    let mut forged = net.signed_proposal(p0, H, 0, block(1), None);
    forged.signature = Signature([3; 64]);
    assert!(matches!(
        e.try_handle(Input::Proposal(forged)),
        Err(InputError::BadSignature(_))
    ));
    assert!(e.proposal(0).is_none());
}

#[test]
fn conflicting_proposals_are_evidence_and_the_first_is_kept() {
    let net = Net::equal(4);
    let (mut e, _, _) = started(&net);
    let (b, c) = (block(1), block(2));
    assert_eq!(
        summarize(&e.handle(net.proposal(H, 0, b, None))),
        vec![Out::Validate(b)]
    );
    assert_eq!(
        e.try_handle(net.proposal(H, 0, b, None)),
        Err(InputError::Duplicate)
    );
    assert_eq!(
        summarize(&e.handle(net.proposal(H, 0, c, None))),
        vec![Out::Evidence]
    );
    assert_eq!(e.proposal(0).unwrap().proposal.block_hash, b);
    assert!(e.evidence()[0].verify(CHAIN, &net.set));
}

#[test]
fn future_rounds_are_bounded_per_validator() {
    let net = Net::equal(4);
    let (mut e, _, o) = started(&net);
    let max = MAX_FUTURE_ROUNDS_PER_VALIDATOR as u32;
    for r in 10..10 + max {
        assert_eq!(
            e.try_handle(net.prevote(o[0], H, r, None)),
            Ok(vec![]),
            "round {r}"
        );
    }
    let over = 10 + max;
    assert!(matches!(
        e.try_handle(net.prevote(o[0], H, over, None)),
        Err(InputError::TooFarAhead { .. })
    ));
    // A round it already uses is fine, and other validators have their own quota.
    assert_eq!(e.try_handle(net.precommit(o[0], H, 10, None)), Ok(vec![]));
    assert_eq!(e.try_handle(net.prevote(o[1], H, 20, None)), Ok(vec![]));
    assert_eq!(e.round(), 0, "one validator is not f+1");
}

#[test]
fn validity_answers_are_consistent() {
    let net = Net::equal(4);
    let (mut e, _, _) = started(&net);
    let b = block(1);
    let valid = |v| Input::ProposalValidity {
        round: 0,
        block_hash: b,
        valid: v,
    };
    assert_eq!(e.try_handle(valid(false)), Ok(vec![]));
    assert_eq!(
        e.try_handle(valid(true)),
        Err(InputError::ConflictingValidity(b))
    );
    // The proposal of a block already known invalid is not sent for execution again, and
    // gets a nil prevote at once.
    assert_eq!(
        summarize(&e.handle(net.proposal(H, 0, b, None))),
        vec![Out::Persist, Out::Prevote(0, None)]
    );
}

#[test]
fn unexpected_propose_value_and_double_start_are_refused() {
    let net = Net::equal(4);
    let (mut e, _, _) = started(&net);
    assert_eq!(
        e.try_handle(Input::ProposeValue {
            round: 0,
            block_hash: block(1)
        }),
        Err(InputError::UnexpectedProposeValue(0))
    );
    assert_eq!(
        e.try_handle(Input::StartHeight),
        Err(InputError::AlreadyStarted)
    );
}

/// What a stalled node relays (issue 11, defect 2): every vote it holds of the current and the
/// previous round, equivocating ones included (so that a proof-of-lock containing an
/// equivocator's second vote completes at every honest node), and the valid round's
/// proposal; nothing of older rounds besides that proof-of-lock.
#[test]
fn relay_carries_the_rounds_votes_equivocations_included() {
    let net = Net::equal(4);
    let (mut e, _, o) = started(&net);
    let (b, c) = (block(1), block(2));
    // Round 0: an equivocating prevote of o[0], a prevote of o[1] and a precommit of o[2].
    e.handle(net.prevote(o[0], H, 0, Some(b)));
    e.handle(net.prevote(o[0], H, 0, Some(c)));
    e.handle(net.prevote(o[1], H, 0, Some(b)));
    e.handle(net.precommit(o[2], H, 0, None));
    let relay = e.relay_messages();
    let votes: Vec<(usize, VoteKind, Option<Hash>)> = relay
        .iter()
        .filter_map(|m| match m {
            Message::Vote(v) => Some((
                net.keys
                    .iter()
                    .position(|k| k.public_key() == v.validator)
                    .expect("member"),
                v.vote.kind,
                v.vote.block_hash,
            )),
            Message::Proposal(_) => None,
        })
        .collect();
    for expected in [
        (o[0], VoteKind::Prevote, Some(b)),
        (o[0], VoteKind::Prevote, Some(c)),
        (o[1], VoteKind::Prevote, Some(b)),
        (o[2], VoteKind::Precommit, None),
    ] {
        assert!(
            votes.contains(&expected),
            "{expected:?} missing from {votes:?}"
        );
    }
    // Every relayed vote verifies (they are the signed originals).
    for m in &relay {
        if let Message::Vote(v) = m {
            assert!(v.verify(CHAIN).is_ok());
        }
    }
}
