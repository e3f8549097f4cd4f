//! The vote keeper on its own: first vote counts, tallies by power.

use concordat_consensus::votekeeper::{Added, VoteKeeper};
use concordat_consensus::VoteKind;

use crate::common::{block, Net};

#[test]
fn first_vote_counts_and_tallies_are_by_power() {
    let net = Net::with_powers(&[1, 2, 3, 4]);
    let power = |i: usize| net.set.validators()[i].power;
    let mut k = VoteKeeper::new();
    let (b, c) = (block(1), block(2));
    let v0 = net.signed_vote(0, VoteKind::Prevote, 1, 0, Some(b));
    assert_eq!(k.add(v0.clone(), power(0)), Added::Counted);
    assert_eq!(k.add(v0.clone(), power(0)), Added::Duplicate);
    let v0c = net.signed_vote(0, VoteKind::Prevote, 1, 0, Some(c));
    assert_eq!(k.add(v0c, power(0)), Added::Conflict(v0.clone()));
    assert_eq!(
        k.add(
            net.signed_vote(3, VoteKind::Prevote, 1, 0, Some(b)),
            power(3)
        ),
        Added::Counted
    );
    assert_eq!(
        k.add(net.signed_vote(2, VoteKind::Prevote, 1, 0, None), power(2)),
        Added::Counted
    );
    assert_eq!(
        k.add(
            net.signed_vote(1, VoteKind::Precommit, 1, 0, Some(c)),
            power(1)
        ),
        Added::Counted
    );
    assert_eq!(k.power_for(0, VoteKind::Prevote, Some(b)), 5);
    assert_eq!(k.power_for(0, VoteKind::Prevote, Some(c)), 0);
    assert_eq!(k.power_for(0, VoteKind::Prevote, None), 3);
    assert_eq!(k.power_any(0, VoteKind::Prevote), 8);
    assert_eq!(k.power_any(0, VoteKind::Precommit), 2);
    assert_eq!(k.signatures_for(0, VoteKind::Prevote, Some(b)).len(), 2);
    assert_eq!(k.voters(0).len(), 4);
    assert!(k.voters(1).is_empty());
    k.add(net.signed_vote(1, VoteKind::Prevote, 1, 5, None), power(1));
    k.add(
        net.signed_vote(1, VoteKind::Precommit, 1, 7, None),
        power(1),
    );
    let key = net.keys[1].public_key();
    assert_eq!(
        k.rounds_above(0, &key).into_iter().collect::<Vec<_>>(),
        vec![5, 7]
    );
    assert_eq!(
        k.rounds_above(5, &key).into_iter().collect::<Vec<_>>(),
        vec![7]
    );
    assert!(k.rounds_above(u32::MAX, &key).is_empty());
}
