//! The shared test kit of Concordat's tests (contracts, client, node and the cross-crate
//! tests): [`chain::Chain`], a tiny in-memory chain over the real executor (state as a
//! `BTreeMap`, one block per call); [`fixture`], the domain.md §9.0 baseline (departments with
//! their roles, enterprises with their keys) and seal signers (Ed25519 and SM2); [`key`], the
//! deterministic keys every test uses; [`customs`], the calls of the customs and logistics
//! scenarios; and [`synthetic_uscc`], valid USCCs by the thousand.
//!
//! It depends only on the pure crates, so any test may use it.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod chain;
pub mod customs;
pub mod fixture;

use concordat_contracts::ids::{uscc_check_char, USCC_CHARSET};
use concordat_primitives::SecretKey;

/// A deterministic key: seed `[i; 32]`.
pub fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}

/// The `n`-th synthetic valid USCC with a per-run `salt` (enterprise, Chaoyang).
pub fn synthetic_uscc(salt: u32, n: u32) -> String {
    let mut v = (u64::from(salt) << 32) | u64::from(n);
    let mut tail = [b'0'; 9];
    for slot in tail.iter_mut().rev() {
        *slot = USCC_CHARSET[(v % 31) as usize];
        v /= 31;
    }
    let first17 = format!(
        "91110105{}",
        String::from_utf8(tail.to_vec()).expect("ascii")
    );
    let check = uscc_check_char(first17.as_bytes()).expect("charset");
    format!("{first17}{check}")
}
