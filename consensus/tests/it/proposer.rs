//! The proposer schedule: pure, proportional to power, round robin for equal powers.

use std::collections::BTreeMap;

use concordat_consensus::proposer;

use crate::common::Net;

#[test]
fn proportional_to_power_over_one_period() {
    let powers = [5, 3, 2, 1, 7];
    let net = Net::with_powers(&powers);
    let total: u64 = powers.iter().sum();
    for start in [0u64, 1, 17, 1_000_003] {
        let mut counts: BTreeMap<usize, u64> = BTreeMap::new();
        for k in start..start + total {
            *counts.entry(net.proposer(k, 0)).or_default() += 1;
        }
        for (i, p) in powers.iter().enumerate() {
            assert_eq!(
                counts.get(&i).copied().unwrap_or(0),
                *p,
                "validator {i} from {start}"
            );
        }
    }
}

#[test]
fn equal_powers_rotate_through_everyone() {
    let net = Net::equal(4);
    for h in [1u64, 2, 99] {
        let mut seen: Vec<usize> = (0..4).map(|r| net.proposer(h, r)).collect();
        seen.sort();
        assert_eq!(
            seen,
            vec![0, 1, 2, 3],
            "height {h}: 4 consecutive rounds, 4 proposers"
        );
    }
}

#[test]
fn depends_only_on_height_plus_round_and_the_set() {
    let net = Net::with_powers(&[2, 1, 1]);
    for h in 0..10u64 {
        for r in 0..10u32 {
            assert_eq!(net.proposer(h, r), net.proposer(h + u64::from(r), 0));
        }
    }
    let again = Net::with_powers(&[2, 1, 1]);
    assert_eq!(proposer(&net.set, 5, 3), proposer(&again.set, 5, 3));
    assert_eq!(
        proposer(&net.set, u64::MAX, u32::MAX),
        proposer(&again.set, u64::MAX, u32::MAX)
    );
}

#[test]
fn a_heavy_validator_does_not_propose_in_long_runs() {
    // 3 of 4 power: at most 3 turns in a row, and the light one within every 4 slots.
    let net = Net::with_powers(&[3, 1]);
    let seq: Vec<usize> = (0..16u64).map(|k| net.proposer(k, 0)).collect();
    for w in seq.windows(4) {
        assert!(w.contains(&1), "{seq:?}");
    }
}
