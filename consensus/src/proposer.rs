//! Proposer selection: a pure, weighted round robin over `(validator set, height, round)`.
//!
//! # The schedule
//! Let `T` be the set's total voting power. One *period* has `T` slots. Validator `i` (power
//! `p_i`, canonical key order) owns `p_i` slots, its `j`-th slot (`j = 0..p_i`) centred at the
//! position `(j + 1/2) * T / p_i` of the period, so its turns are spread evenly. All slots are
//! ordered by position, ties broken by canonical index. The proposer of `(height, round)` is
//! the owner of slot `(height + round) mod T`.
//!
//! # Properties (tested)
//! - Over any `T` consecutive values of `height + round`, each validator proposes exactly
//!   `p_i` times: selection is proportional to power.
//! - With equal powers it is plain round robin in canonical order; a failed round hands over to
//!   the next validator, and within any `T` rounds every validator gets its turns.
//! - It depends on nothing but its arguments, so all nodes agree; a validator-set change at
//!   height `H + 1` changes the schedule from that height on.
//!
//! Cost: `O(n^2 log(max p))` exact integer steps (n <= 256), computed when a round starts and
//! when a proposal arrives.

use concordat_primitives::ledger::ValidatorSet;
use concordat_primitives::PublicKey;

/// The proposer of `(height, round)` under `set`.
///
/// # Panics
/// Never for a valid set: exactly one slot has each rank (a broken invariant would panic).
pub fn proposer(set: &ValidatorSet, height: u64, round: u32) -> PublicKey {
    let powers: Vec<u64> = set.validators().iter().map(|v| v.power).collect();
    let total: u128 = powers.iter().map(|p| u128::from(*p)).sum();
    let slot = (u128::from(height) + u128::from(round)) % total.max(1);
    let owner = slot_owner(&powers, slot);
    set.validators()[owner].key
}

/// Index of the validator owning the slot of rank `k` (`k < sum(powers)`).
fn slot_owner(powers: &[u64], k: u128) -> usize {
    for (i, p) in powers.iter().enumerate() {
        if let Some(j) = last_turn_at_most(powers, i, *p, k) {
            if rank(powers, i, j) == k {
                return i;
            }
        }
    }
    unreachable!("every rank below the total power has exactly one owner");
}

/// The largest `j < p` whose rank is at most `k`, if any (ranks increase with `j`).
fn last_turn_at_most(powers: &[u64], i: usize, p: u64, k: u128) -> Option<u64> {
    if rank(powers, i, 0) > k {
        return None;
    }
    let (mut lo, mut hi) = (0u64, p - 1);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if rank(powers, i, mid) <= k {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(lo)
}

/// Number of slots ordered before validator `i`'s `j`-th slot.
///
/// Slot `(i', j')` precedes `(i, j)` iff its position `(2j'+1)T/(2p_i')` is lower, or equal
/// with `i' < i`. Multiplying out: `(2j'+1) * p_i < (2j+1) * p_i'` (or `<=` when `i' < i`).
fn rank(powers: &[u64], i: usize, j: u64) -> u128 {
    let odd = 2 * u128::from(j) + 1;
    let p_i = u128::from(powers[i]);
    let mut before = u128::from(j);
    for (other, p) in powers.iter().enumerate() {
        let p_o = u128::from(*p);
        let bound = odd * p_o; // compare (2j'+1) * p_i with this
        let max_odd = match other.cmp(&i) {
            core::cmp::Ordering::Equal => continue,
            core::cmp::Ordering::Less => bound / p_i,
            core::cmp::Ordering::Greater => (bound - 1) / p_i,
        };
        // Odd numbers 1, 3, .. up to max_odd: ceil(max_odd / 2) of them, at most p_o.
        before += max_odd.div_ceil(2).min(p_o);
    }
    before
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schedule materialised: every slot sorted by (position, index).
    fn materialise(powers: &[u64]) -> Vec<usize> {
        let mut slots: Vec<(u64, u64, usize)> = Vec::new();
        for (i, p) in powers.iter().enumerate() {
            for j in 0..*p {
                slots.push((2 * j + 1, *p, i));
            }
        }
        // Compare (a/pa) with (b/pb) exactly by cross-multiplying.
        slots.sort_by(|x, y| (x.0 * y.1).cmp(&(y.0 * x.1)).then(x.2.cmp(&y.2)));
        slots.into_iter().map(|s| s.2).collect()
    }

    #[test]
    fn matches_the_materialised_schedule() {
        let cases: &[&[u64]] = &[
            &[1],
            &[1, 1, 1, 1],
            &[3, 1],
            &[10, 10, 10, 10],
            &[5, 3, 2],
            &[7, 1, 1, 13, 4],
            &[2, 9, 2, 2, 30, 1, 6],
        ];
        for powers in cases {
            let expected = materialise(powers);
            let got: Vec<usize> = (0..expected.len() as u128)
                .map(|k| slot_owner(powers, k))
                .collect();
            assert_eq!(got, expected, "powers {powers:?}");
        }
    }

    #[test]
    fn equal_powers_rotate_in_canonical_order() {
        assert_eq!(
            materialise(&[10, 10, 10, 10])[..8],
            [0, 1, 2, 3, 0, 1, 2, 3]
        );
        assert_eq!(materialise(&[3, 1]), [0, 0, 1, 0]);
    }

    #[test]
    fn huge_powers_do_not_overflow() {
        let big = u64::MAX / 16;
        for k in [0u128, 1, 7, u128::from(big), 3 * u128::from(big)] {
            let _ = slot_owner(
                &[big, big, big, big / 3],
                k % (3 * u128::from(big) + u128::from(big / 3)),
            );
        }
    }
}
