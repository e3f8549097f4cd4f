//! Canonical BCS: every non-canonical input is refused; every hashed type round-trips.

use std::collections::BTreeMap;

use concordat_primitives::encoding::{from_bytes, from_bytes_limited, to_bytes, DecodeError};
use concordat_primitives::ledger::{Header, Validator, ValidatorSet};
use concordat_primitives::{namespace, Hash, SecretKey};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Sample {
    flag: bool,
    name: String,
    data: Vec<u8>,
    map: BTreeMap<u32, u8>,
    opt: Option<u64>,
}

fn sample() -> Sample {
    Sample {
        flag: true,
        name: "a".into(),
        data: vec![1, 2],
        map: [(1, 1), (2, 2)].into_iter().collect(),
        opt: Some(5),
    }
}

#[test]
fn round_trip() {
    let bytes = to_bytes(&sample());
    assert_eq!(from_bytes::<Sample>(&bytes), Ok(sample()));
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = to_bytes(&sample());
    bytes.push(0);
    assert!(matches!(
        from_bytes::<Sample>(&bytes),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn over_long_length_is_refused() {
    // name "a" has length prefix 0x01; encode it as the over-long ULEB128 0x81 0x00.
    let bytes = to_bytes(&sample());
    assert_eq!(bytes[1], 1);
    let mut bad = bytes[..1].to_vec();
    bad.extend_from_slice(&[0x81, 0x00]);
    bad.extend_from_slice(&bytes[2..]);
    assert!(from_bytes::<Sample>(&bad).is_err());
}

#[test]
fn huge_length_prefix_is_refused() {
    let mut bad = vec![1u8];
    bad.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    bad.extend_from_slice(b"a");
    assert!(from_bytes::<Sample>(&bad).is_err());
}

#[test]
fn bad_bool_is_refused() {
    let mut bytes = to_bytes(&sample());
    bytes[0] = 2;
    assert!(from_bytes::<Sample>(&bytes).is_err());
}

#[test]
fn unordered_or_duplicate_map_keys_are_refused() {
    let bytes = to_bytes(&sample());
    // map is encoded as len(2) | k1 (u32 LE) v1 | k2 v2: swap the entries.
    let map_start = 1 + 2 + 3; // flag, name, data
    assert_eq!(bytes[map_start], 2);
    let e1 = map_start + 1;
    let mut swapped = bytes.clone();
    swapped[e1..e1 + 5].copy_from_slice(&bytes[e1 + 5..e1 + 10]);
    swapped[e1 + 5..e1 + 10].copy_from_slice(&bytes[e1..e1 + 5]);
    assert!(from_bytes::<Sample>(&swapped).is_err());
    let mut dup = bytes.clone();
    dup[e1 + 5..e1 + 10].copy_from_slice(&bytes[e1..e1 + 5]);
    assert!(from_bytes::<Sample>(&dup).is_err());
}

#[test]
fn option_tag_must_be_zero_or_one() {
    let mut bytes = to_bytes(&sample());
    let opt_at = bytes.len() - 9;
    assert_eq!(bytes[opt_at], 1);
    bytes[opt_at] = 2;
    assert!(from_bytes::<Sample>(&bytes).is_err());
}

#[test]
fn size_limit_is_enforced_before_decoding() {
    let bytes = to_bytes(&sample());
    assert_eq!(
        from_bytes_limited::<Sample>(&bytes, 3),
        Err(DecodeError::TooLarge {
            len: bytes.len(),
            limit: 3
        })
    );
}

#[test]
fn validator_set_must_be_in_canonical_order() {
    let a = SecretKey::from_seed([1; 32]).public_key();
    let b = SecretKey::from_seed([2; 32]).public_key();
    let set = ValidatorSet::new(vec![
        Validator { key: a, power: 1 },
        Validator { key: b, power: 2 },
    ])
    .expect("valid");
    let bytes = to_bytes(&set);
    assert_eq!(from_bytes::<ValidatorSet>(&bytes).as_ref(), Ok(&set));
    // Hand-build the reverse order.
    let mut rev = set.validators().to_vec();
    rev.reverse();
    #[derive(Serialize)]
    struct Raw {
        validators: Vec<Validator>,
    }
    assert!(from_bytes::<ValidatorSet>(&to_bytes(&Raw { validators: rev })).is_err());
    let zero = Raw {
        validators: vec![Validator { key: a, power: 0 }],
    };
    assert!(from_bytes::<ValidatorSet>(&to_bytes(&zero)).is_err());
}

#[test]
fn namespaces_are_distinct_and_bind_the_chain() {
    let mut all = namespace::ALL.to_vec();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), namespace::ALL.len());
    assert_ne!(
        namespace::signing_bytes(namespace::TX, "a", b"x"),
        namespace::signing_bytes(namespace::VOTE, "a", b"x")
    );
    assert_ne!(
        namespace::signing_bytes(namespace::TX, "a", b"x"),
        namespace::signing_bytes(namespace::TX, "b", b"x")
    );
}

fn arb_hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

proptest! {
    #[test]
    fn header_round_trips_to_identical_bytes(
        height in any::<u64>(), time_ms in any::<u64>(), size in any::<u64>(),
        a in arb_hash(), b in arb_hash(), c in arb_hash(), d in arb_hash(), e in arb_hash(),
        f in arb_hash(), seed in any::<[u8; 32]>(), chain in "[a-z0-9]{1,20}", v in any::<u32>(),
    ) {
        let h = Header {
            chain_id: chain, height, parent_hash: a, time_ms,
            proposer: SecretKey::from_seed(seed).public_key(), txs_root: b, state_root: c,
            tx_log_root: d, tx_log_size: size, validator_set_hash: e, next_validator_set_hash: f,
            app_version: v,
        };
        let bytes = to_bytes(&h);
        let back: Header = from_bytes(&bytes).expect("decodes");
        prop_assert_eq!(&back, &h);
        prop_assert_eq!(to_bytes(&back), bytes);
    }

    #[test]
    fn random_bytes_never_decode_to_a_different_encoding(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(h) = from_bytes::<Header>(&bytes) {
            prop_assert_eq!(to_bytes(&h), bytes.clone());
        }
        if let Ok(s) = from_bytes::<Sample>(&bytes) {
            prop_assert_eq!(to_bytes(&s), bytes);
        }
    }
}
