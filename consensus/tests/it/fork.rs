//! The control: with f+1 = 2 of 4 validators Byzantine (equivocating proposer and voter),
//! two honest engines decide DIFFERENT blocks at the same height. Tendermint promises
//! safety only with at most f Byzantine; this shows that the honest-case tests are not
//! passing vacuously and that a fork is detectable by comparing decisions.

use concordat_consensus::{Input, Output};

use crate::common::{block, Net};

#[test]
fn two_byzantine_of_four_can_make_honest_validators_decide_differently() {
    let net = Net::equal(4);
    let h = 1;
    let x = net.proposer(h, 0); // Byzantine proposer
    let rest: Vec<usize> = (0..4).filter(|i| *i != x).collect();
    let (y, a, b) = (rest[0], rest[1], rest[2]); // y Byzantine; a, b honest
    let (v1, v2) = (block(1), block(2));

    let mut decisions = Vec::new();
    for (honest, value) in [(a, v1), (b, v2)] {
        // Each honest validator sees its own world: a proposal and Byzantine votes for it.
        let mut e = net.engine(h, Some(honest));
        e.handle(Input::StartHeight);
        e.handle(Input::Proposal(net.signed_proposal(x, h, 0, value, None)));
        e.handle(Input::ProposalValidity {
            round: 0,
            block_hash: value,
            valid: true,
        });
        e.handle(net.prevote(x, h, 0, Some(value)));
        e.handle(net.prevote(y, h, 0, Some(value)));
        e.handle(net.precommit(x, h, 0, Some(value)));
        let out = e.handle(net.precommit(y, h, 0, Some(value)));
        let decided = out.iter().find_map(|o| match o {
            Output::Decide { block_hash, .. } => Some(*block_hash),
            _ => None,
        });
        decisions.push(decided.unwrap());
    }
    assert_ne!(
        decisions[0], decisions[1],
        "f+1 Byzantine validators forked the honest ones"
    );
}
