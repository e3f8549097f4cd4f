//! The one ed25519 rule: edge-case vectors (ZIP-215 small-order and non-canonical encodings),
//! single/batch agreement, weak-key refusal, RFC 8032 vector, key files.

use concordat_primitives::crypto::{verify, verify_batch, CryptoError, KeyFile};
use concordat_primitives::{PublicKey, SecretKey, Signature};
use curve25519_dalek::constants::EIGHT_TORSION;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// All 14 encodings of small-order points: the 8 canonical ones, and the 6 non-canonical ones
/// (sign bit set on x = 0; y = p and y = p + 1 with either sign).
fn small_order_encodings() -> Vec<[u8; 32]> {
    let mut out: Vec<[u8; 32]> = EIGHT_TORSION
        .iter()
        .map(|p| p.compress().to_bytes())
        .collect();
    let mut id_neg = [0u8; 32];
    id_neg[0] = 1;
    id_neg[31] = 0x80;
    out.push(id_neg); // y = 1, "negative" x = 0
    let mut minus_one_neg = [0xffu8; 32];
    minus_one_neg[0] = 0xec; // y = p - 1
    out.push(minus_one_neg); // sign bit already set: x = 0 with sign
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f; // y = p (== 0)
    out.push(p);
    let mut p_neg = p;
    p_neg[31] = 0xff;
    out.push(p_neg);
    let mut p1 = p;
    p1[0] = 0xee; // y = p + 1 (== 1)
    out.push(p1);
    let mut p1_neg = p1;
    p1_neg[31] = 0xff;
    out.push(p1_neg);
    out
}

#[test]
fn there_are_fourteen_distinct_small_order_encodings() {
    let mut v = small_order_encodings();
    v.sort();
    v.dedup();
    assert_eq!(v.len(), 14);
}

#[test]
fn single_and_batch_agree_on_every_small_order_vector() {
    let msg = b"Zcash ZIP-215 edge case";
    let encs = small_order_encodings();
    let mut items = Vec::new();
    let mut sigs = Vec::new();
    for a in &encs {
        for r in &encs {
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(r);
            sigs.push((*a, sig));
        }
    }
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for (a, sig) in &sigs {
        let single = verify(a, msg, sig);
        let batch = verify_batch(&[(*a, &msg[..], *sig)], &mut rng).is_ok();
        assert_eq!(
            single,
            batch,
            "single and batch disagree for A={} R..",
            hex::encode(a)
        );
        // ZIP-215 accepts all of these (cofactored equation, non-canonical points allowed).
        assert!(
            single,
            "ZIP-215 must accept A={} sig={}",
            hex::encode(a),
            hex::encode(sig)
        );
        items.push((*a, &msg[..], *sig));
    }
    assert_eq!(items.len(), 196);
    assert!(verify_batch(&items, &mut rng).is_ok());
}

#[test]
fn small_order_and_non_canonical_keys_are_refused_as_signers() {
    for a in small_order_encodings() {
        let err = PublicKey::from_bytes(a).expect_err("weak key must be refused");
        assert!(
            matches!(
                err,
                CryptoError::SmallOrderKey | CryptoError::NotCanonicalPoint
            ),
            "{err:?}"
        );
    }
    // A y-coordinate that is not on the curve.
    let mut off = [0u8; 32];
    off[0] = 2;
    assert_eq!(
        PublicKey::from_bytes(off),
        Err(CryptoError::NotCanonicalPoint)
    );
    // Decoding through serde (BCS) applies the same check.
    let bytes = small_order_encodings()[0];
    assert!(bcs::from_bytes::<PublicKey>(&bytes).is_err());
}

#[test]
fn non_canonical_s_is_refused_by_both_paths() {
    let key = SecretKey::from_seed([3u8; 32]);
    let msg = b"pay 10";
    let sig = key.sign(msg);
    assert!(verify(key.public_key().as_bytes(), msg, &sig.0));
    // Add the group order l to S: same value mod l, non-canonical encoding.
    let l: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut s = [0u8; 32];
    s.copy_from_slice(&sig.0[32..]);
    let mut carry = 0u16;
    for i in 0..32 {
        let t = s[i] as u16 + l[i] as u16 + carry;
        s[i] = t as u8;
        carry = t >> 8;
    }
    assert_eq!(carry, 0);
    let mut bad = sig.0;
    bad[32..].copy_from_slice(&s);
    assert!(!verify(key.public_key().as_bytes(), msg, &bad));
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    assert!(verify_batch(&[(*key.public_key().as_bytes(), &msg[..], bad)], &mut rng).is_err());
}

#[test]
fn rfc8032_test_vector_1() {
    let seed = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        .expect("hex");
    let key = SecretKey::from_seed(seed.try_into().expect("32"));
    assert_eq!(
        key.public_key().to_hex(),
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
    let sig = key.sign(b"");
    assert_eq!(
        sig.to_hex(),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
    assert!(key.public_key().verify(b"", &sig).is_ok());
    assert!(key.public_key().verify(b"x", &sig).is_err());
}

#[test]
fn batch_reports_exactly_the_bad_items() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let keys: Vec<SecretKey> = (0..20).map(|_| SecretKey::generate(&mut rng)).collect();
    let msgs: Vec<Vec<u8>> = (0..20)
        .map(|i| format!("message {i}").into_bytes())
        .collect();
    let mut items: Vec<([u8; 32], &[u8], [u8; 64])> = keys
        .iter()
        .zip(&msgs)
        .map(|(k, m)| (*k.public_key().as_bytes(), m.as_slice(), k.sign(m).0))
        .collect();
    assert!(verify_batch(&items, &mut rng).is_ok());
    items[4].2[10] ^= 1;
    items[17].1 = b"another message";
    assert_eq!(verify_batch(&items, &mut rng), Err(vec![4, 17]));
}

#[test]
fn key_files_round_trip_and_detect_mismatch() {
    let key = SecretKey::from_seed([5u8; 32]);
    let file = KeyFile::new(&key);
    let json = serde_json::to_string(&file).expect("json");
    let back: KeyFile = serde_json::from_str(&json).expect("parse");
    assert_eq!(back.secret().expect("valid").public_key(), key.public_key());
    let mut wrong = back.clone();
    wrong.public_key = SecretKey::from_seed([6u8; 32]).public_key().to_hex();
    assert!(wrong.secret().is_err());
    let mut bad_type = back;
    bad_type.key_type = "rsa".into();
    assert!(bad_type.secret().is_err());
    assert!(
        !format!("{key:?}").contains(&hex::encode(key.seed())),
        "Debug leaks the secret"
    );
}

#[test]
fn signature_hex_round_trip() {
    let key = SecretKey::from_seed([8u8; 32]);
    let sig = key.sign(b"m");
    assert_eq!(Signature::from_hex(&sig.to_hex()), Ok(sig));
    assert!(Signature::from_hex("abc").is_err());
}

/// `SecretKey::public_key` skips the point checks of `PublicKey::from_bytes`: every derived
/// key must pass them anyway.
#[test]
fn derived_public_keys_pass_the_admission_checks() {
    for i in 0u32..2_000 {
        let mut seed = [0u8; 32];
        seed[..4].copy_from_slice(&i.to_le_bytes());
        seed[31] = 0xA5;
        let pk = SecretKey::from_seed(seed).public_key();
        assert_eq!(PublicKey::from_bytes(*pk.as_bytes()), Ok(pk), "seed {i}");
    }
}

/// What curve25519-dalek 4 (an independent implementation of the same checks) says of 32
/// bytes as a signer key: a canonical encoding of a point that is not of small order.
fn dalek4_accepts(bytes: [u8; 32]) -> bool {
    use curve25519_dalek::edwards::CompressedEdwardsY;
    match CompressedEdwardsY(bytes).decompress() {
        Some(p) => p.compress().to_bytes() == bytes && !p.is_small_order(),
        None => false,
    }
}

/// `PublicKey::from_bytes` is built on curve25519-dalek-ng (the curve library ed25519-consensus
/// already brings, so the browser verifier carries one); it must accept exactly the keys
/// curve25519-dalek 4 accepts: random bytes (about half decode), real keys, every small-order
/// encoding, and y values at and above the field prime (non-canonical encodings) with both
/// sign bits.
#[test]
fn key_validation_agrees_with_an_independent_curve_implementation() {
    let mut rng = ChaCha20Rng::seed_from_u64(215);
    let mut inputs: Vec<[u8; 32]> = Vec::new();
    for _ in 0..20_000 {
        let mut b = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rng, &mut b);
        inputs.push(b);
    }
    for i in 0..200u8 {
        inputs.push(*SecretKey::from_seed([i; 32]).public_key().as_bytes());
    }
    inputs.extend(small_order_encodings());
    // p = 2^255 - 19: y = p + k for small k, and y near 2^255 - 1, with the sign bit off and on.
    for k in 0..40u8 {
        let mut y = [0xffu8; 32];
        y[31] = 0x7f;
        y[0] = 0xed_u8.wrapping_add(k);
        if k > 0x12 {
            y[0] = 0xff - (k - 0x13);
        }
        inputs.push(y);
        let mut signed = y;
        signed[31] |= 0x80;
        inputs.push(signed);
        let mut low = [0u8; 32];
        low[0] = k;
        inputs.push(low);
        low[31] |= 0x80;
        inputs.push(low);
    }
    let mut accepted = 0;
    for bytes in &inputs {
        let ours = PublicKey::from_bytes(*bytes).is_ok();
        assert_eq!(ours, dalek4_accepts(*bytes), "{}", hex::encode(bytes));
        accepted += usize::from(ours);
    }
    assert!(
        accepted > 5_000 && accepted < inputs.len() - 5_000,
        "{accepted}"
    );
}
