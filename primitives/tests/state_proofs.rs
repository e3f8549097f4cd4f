//! Membership and absence proofs: many keys and versions, tampering (every bit), encoding
//! limits and canonicity, and proof sizes.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use std::collections::BTreeMap;

use concordat_primitives::state::proof::{internal_hash, key_hash, value_hash, PLACEHOLDER_HASH};
use concordat_primitives::state::{
    apply, get_with_proof, root_at, verify, verify_absence, verify_membership, MemoryStore,
    ProofLeaf, StateProof, StateProofError, StateStore, EMPTY_ROOT, MAX_PROOF_BYTES,
    MAX_PROOF_SIBLINGS,
};
use concordat_primitives::Hash;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

fn key(i: u32) -> Vec<u8> {
    let mut k = b"ipr_blacklist/".to_vec();
    k.extend_from_slice(&i.to_be_bytes());
    k
}

fn val(i: u32, gen: u32) -> Vec<u8> {
    format!("record {i} generation {gen}").into_bytes()
}

fn step(store: &mut MemoryStore, writes: &Writes) -> Hash {
    let version = store.latest_version().unwrap().map_or(0, |v| v + 1);
    let (root, update) = apply(store, version, writes).unwrap();
    store.commit(update).unwrap();
    root
}

/// Encoded size predicted by the documented format.
fn predicted_len(p: &StateProof) -> usize {
    let n = p.depth();
    let explicit = p
        .siblings()
        .iter()
        .filter(|s| **s != PLACEHOLDER_HASH)
        .count();
    let uleb = |x: usize| if x < 128 { 1 } else { 2 };
    (if p.leaf().is_some() { 65 } else { 1 })
        + uleb(n.div_ceil(8))
        + n.div_ceil(8)
        + uleb(explicit)
        + 32 * explicit
}

#[test]
fn many_keys_several_versions() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut store = MemoryStore::new();
    let mut live: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    let mut history = Vec::new();
    for v in 0..6u32 {
        let mut w = Writes::new();
        for _ in 0..600 {
            let i = rng.gen_range(0..2000);
            if v > 0 && rng.gen_bool(0.25) {
                w.insert(key(i), None);
                live.remove(&i);
            } else {
                let x = val(i, v);
                w.insert(key(i), Some(x.clone()));
                live.insert(i, x);
            }
        }
        let root = step(&mut store, &w);
        history.push((root, live.clone()));
    }
    let (mut members, mut empty_slot, mut other_leaf) = (0, 0, 0);
    for (v, (root, state)) in history.iter().enumerate() {
        assert_eq!(root_at(&store, v as u64).unwrap(), *root);
        for i in (0..2200).step_by(3) {
            let (got, proof) = get_with_proof(&store, &key(i), v as u64).unwrap();
            assert_eq!(got.as_ref(), state.get(&i), "v{v} key {i}");
            let bytes = proof.to_bytes();
            assert_eq!(bytes.len(), predicted_len(&proof));
            let proof = StateProof::from_bytes(&bytes).unwrap();
            match &got {
                Some(x) => {
                    members += 1;
                    verify_membership(root, &key(i), x, &proof).unwrap();
                    assert_eq!(
                        verify_absence(root, &key(i), &proof),
                        Err(StateProofError::KeyPresent)
                    );
                    assert_eq!(
                        verify_membership(root, &key(i), b"another value", &proof),
                        Err(StateProofError::ValueMismatch)
                    );
                    assert_eq!(
                        verify_membership(root, &key(i + 100_000), x, &proof),
                        Err(StateProofError::KeyMismatch)
                    );
                }
                None => {
                    match proof.leaf() {
                        None => empty_slot += 1,
                        Some(l) => {
                            assert_ne!(l.key_hash, key_hash(&key(i)));
                            other_leaf += 1;
                        }
                    }
                    verify_absence(root, &key(i), &proof).unwrap();
                    assert!(verify_membership(root, &key(i), b"anything", &proof).is_err());
                }
            }
            // Never valid against another version's (different) root.
            if v > 0 && history[v - 1].0 != *root {
                assert!(verify(&history[v - 1].0, &key(i), got.as_deref(), &proof).is_err());
            }
        }
    }
    eprintln!("proofs checked: {members} membership, {empty_slot} absence (empty slot), {other_leaf} absence (other leaf)");
    assert!(members > 1000 && empty_slot > 100 && other_leaf > 100);
}

#[test]
fn deleted_key_present_at_old_version_absent_at_new() {
    let mut store = MemoryStore::new();
    let w: Writes = (0..500).map(|i| (key(i), Some(val(i, 0)))).collect();
    let r0 = step(&mut store, &w);
    let r1 = step(&mut store, &[(key(42), None)].into_iter().collect());
    let (old, p_old) = get_with_proof(&store, &key(42), 0).unwrap();
    verify_membership(&r0, &key(42), &old.unwrap(), &p_old).unwrap();
    let (new, p_new) = get_with_proof(&store, &key(42), 1).unwrap();
    assert_eq!(new, None);
    verify_absence(&r1, &key(42), &p_new).unwrap();
    assert!(verify_absence(&r0, &key(42), &p_new).is_err());
    assert!(verify_membership(&r1, &key(42), &val(42, 0), &p_old).is_err());
}

#[test]
fn single_leaf_and_empty_tree() {
    let mut store = MemoryStore::new();
    let r0 = step(
        &mut store,
        &[(key(1), Some(val(1, 0)))].into_iter().collect(),
    );
    let (v, p) = get_with_proof(&store, &key(1), 0).unwrap();
    assert!(p.siblings().is_empty());
    assert_eq!(p.to_bytes().len(), 65 + 2);
    verify_membership(&r0, &key(1), &v.unwrap(), &p).unwrap();
    // Absence against a one-leaf tree: the leaf itself, no siblings.
    let (v, p) = get_with_proof(&store, &key(2), 0).unwrap();
    assert_eq!(v, None);
    assert_eq!(p.leaf().map(|l| l.key_hash), Some(key_hash(&key(1))));
    verify_absence(&r0, &key(2), &p).unwrap();

    let empty = StateProof::new(None, vec![]).unwrap();
    assert_eq!(empty.to_bytes(), vec![0, 0, 0]);
    verify_absence(&EMPTY_ROOT, b"anything", &empty).unwrap();
    assert_eq!(
        verify_membership(&EMPTY_ROOT, b"anything", b"x", &empty),
        Err(StateProofError::NotMembership)
    );
}

/// Flips every bit of `bytes`, then of root, key and value: each must be refused.
fn assert_every_bit_matters(root: &Hash, k: &[u8], value: Option<&[u8]>, bytes: &[u8]) {
    let proof = StateProof::from_bytes(bytes).unwrap();
    verify(root, k, value, &proof).unwrap();
    let (mut decode_fail, mut verify_fail) = (0, 0);
    for bit in 0..bytes.len() * 8 {
        let mut b = bytes.to_vec();
        b[bit / 8] ^= 1 << (bit % 8);
        match StateProof::from_bytes(&b) {
            Err(_) => decode_fail += 1,
            Ok(p) => {
                assert!(
                    verify(root, k, value, &p).is_err(),
                    "bit {bit} of the proof"
                );
                verify_fail += 1;
            }
        }
    }
    for bit in 0..256 {
        let mut r = *root;
        r.0[bit / 8] ^= 1 << (bit % 8);
        assert!(
            verify(&r, k, value, &proof).is_err(),
            "bit {bit} of the root"
        );
    }
    for bit in 0..k.len() * 8 {
        let mut kk = k.to_vec();
        kk[bit / 8] ^= 1 << (bit % 8);
        assert!(
            verify(root, &kk, value, &proof).is_err(),
            "bit {bit} of the key"
        );
    }
    if let Some(v) = value {
        for bit in 0..v.len() * 8 {
            let mut vv = v.to_vec();
            vv[bit / 8] ^= 1 << (bit % 8);
            assert!(
                verify(root, k, Some(&vv), &proof).is_err(),
                "bit {bit} of the value"
            );
        }
    }
    // Truncations and extensions too.
    for len in 0..bytes.len() {
        if let Ok(p) = StateProof::from_bytes(&bytes[..len]) {
            assert!(verify(root, k, value, &p).is_err());
        }
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(StateProof::from_bytes(&longer).is_err());
    eprintln!(
        "{} bytes ({}): {decode_fail} flips refused by decoding, {verify_fail} by verification",
        bytes.len(),
        if value.is_some() {
            "membership"
        } else {
            "absence"
        }
    );
}

#[test]
fn every_single_bit_flip_is_detected() {
    let mut store = MemoryStore::new();
    let w: Writes = (0..3000).map(|i| (key(i), Some(val(i, 0)))).collect();
    let root = step(&mut store, &w);
    let mut seen_placeholder = false;
    let (mut empty_slot, mut other_leaf) = (0, 0);
    for i in (0..3000).step_by(500).chain(100_000..100_200) {
        let (v, p) = get_with_proof(&store, &key(i), 0).unwrap();
        match (&v, p.leaf()) {
            (Some(_), _) => {}
            (None, None) if empty_slot < 3 => empty_slot += 1,
            (None, Some(_)) if other_leaf < 3 => other_leaf += 1,
            _ => continue,
        }
        seen_placeholder |= p.siblings().contains(&PLACEHOLDER_HASH);
        assert_every_bit_matters(&root, &key(i), v.as_deref(), &p.to_bytes());
    }
    assert_eq!(
        (empty_slot, other_leaf),
        (3, 3),
        "both kinds of absence proof exercised"
    );
    // A proof with elided placeholders (bitmap bits) must be among the samples.
    if !seen_placeholder {
        let i = (0..3000)
            .find(|i| {
                let (_, p) = get_with_proof(&store, &key(*i), 0).unwrap();
                p.siblings().contains(&PLACEHOLDER_HASH)
            })
            .unwrap();
        let (v, p) = get_with_proof(&store, &key(i), 0).unwrap();
        assert_every_bit_matters(&root, &key(i), v.as_deref(), &p.to_bytes());
    }
}

/// A forged root whose two halves are the same leaf hashes identically whichever way the path
/// turns, so only the prefix rule stops that leaf from "proving" the absence of a key whose
/// path it is not on.
#[test]
fn absence_leaf_must_share_the_key_prefix() {
    let a = b"key-a".to_vec();
    let ka = key_hash(&a);
    let leaf = ProofLeaf {
        key_hash: ka,
        value_hash: value_hash(b"v"),
    };
    let root = internal_hash(&leaf.hash(), &leaf.hash());
    let proof = StateProof::new(Some(leaf), vec![leaf.hash()]).unwrap();
    let first_bit = |k: &[u8]| key_hash(k).0[0] & 0x80;
    let candidates = || (0u32..).map(|i| format!("key-b{i}").into_bytes());
    let off_path = candidates()
        .find(|b| first_bit(b) != first_bit(&a))
        .unwrap();
    let on_path = candidates()
        .find(|b| first_bit(b) == first_bit(&a))
        .unwrap();
    assert_eq!(
        verify_absence(&root, &off_path, &proof),
        Err(StateProofError::LeafNotOnPath {
            common: 0,
            depth: 1
        })
    );
    verify_absence(&root, &on_path, &proof).unwrap();
    verify_membership(&root, &a, b"v", &proof).unwrap();
}

#[test]
fn decoding_limits_and_canonicity() {
    let s = Hash([9; 32]);
    // 256 siblings is the maximum; 257 is refused by the constructor.
    let max = StateProof::new(None, vec![s; MAX_PROOF_SIBLINGS]).unwrap();
    let max_bytes = max.to_bytes();
    assert_eq!(StateProof::from_bytes(&max_bytes).unwrap(), max);
    let leafy = StateProof::new(
        Some(ProofLeaf {
            key_hash: s,
            value_hash: s,
        }),
        vec![s; 256],
    );
    assert_eq!(leafy.unwrap().to_bytes().len(), MAX_PROOF_BYTES);
    assert_eq!(
        StateProof::new(None, vec![s; 257]).unwrap_err(),
        StateProofError::TooManySiblings { count: 257 }
    );

    // Hand-made wire forms: [leaf tag] [bitmap len + bytes] [sibling count + hashes].
    let wire = |bitmap: &[u8], explicit: usize| {
        let mut b = vec![0u8];
        b.extend(uleb(bitmap.len()));
        b.extend_from_slice(bitmap);
        b.extend(uleb(explicit));
        for _ in 0..explicit {
            b.extend_from_slice(&s.0);
        }
        b
    };
    // 257 explicit siblings (and a matching bitmap length): refused.
    assert!(matches!(
        StateProof::from_bytes(&wire(&[0; 33], 257)),
        Err(StateProofError::Decode(_))
    ));
    // 250 explicit + 7 placeholders = 257: refused.
    let mut bm = vec![0u8; 33];
    bm[0] = 0x7f;
    assert!(StateProof::from_bytes(&wire(&bm, 250)).is_err());
    // Wrong bitmap length, non-zero padding.
    assert!(StateProof::from_bytes(&wire(&[0, 0], 3)).is_err());
    assert!(StateProof::from_bytes(&wire(&[], 3)).is_err());
    // 3 explicit + bit 4 set: depth 4, so bit 4 is padding.
    assert!(StateProof::from_bytes(&wire(&[0b1_0000], 3)).is_err());
    assert!(StateProof::from_bytes(&wire(&[0b1000], 3)).is_ok());
    assert!(StateProof::from_bytes(&wire(&[0b100], 2)).is_ok());
    // An explicit placeholder sibling is a second encoding of the same proof: refused.
    let mut b = wire(&[0], 1);
    let at = b.len() - 32;
    b[at..].copy_from_slice(&PLACEHOLDER_HASH.0);
    assert!(StateProof::from_bytes(&b).is_err());
    // Longer than the limit, before decoding anything.
    let mut huge = max_bytes.clone();
    huge.resize(MAX_PROOF_BYTES + 1, 0);
    assert!(matches!(
        StateProof::from_bytes(&huge),
        Err(StateProofError::Decode(_))
    ));
    // Over-long ULEB length (0x81 0x00 for 1) is not canonical.
    let mut b = vec![0u8, 0x81, 0x00, 0];
    b.push(0);
    assert!(StateProof::from_bytes(&b).is_err());
}

fn uleb(mut x: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (x & 0x7f) as u8;
        x >>= 7;
        if x == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

#[test]
fn json_view_roundtrips() {
    let mut store = MemoryStore::new();
    let root = step(
        &mut store,
        &(0..100).map(|i| (key(i), Some(val(i, 0)))).collect(),
    );
    let (v, p) = get_with_proof(&store, &key(5), 0).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    let back: StateProof = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    verify_membership(&root, &key(5), &v.unwrap(), &back).unwrap();
}

/// ~10k keys: size of every membership proof and of absence proofs.
#[test]
fn proof_size_at_10k_keys() {
    let n = 10_000u32;
    let mut store = MemoryStore::new();
    let w: Writes = (0..n).map(|i| (key(i), Some(val(i, 0)))).collect();
    let root = step(&mut store, &w);
    let stats = |range: std::ops::Range<u32>| {
        let (mut total, mut max, mut sib, mut placeholders, mut count) = (0, 0, 0, 0, 0);
        for i in range {
            let (v, p) = get_with_proof(&store, &key(i), 0).unwrap();
            let len = p.to_bytes().len();
            let explicit = p
                .siblings()
                .iter()
                .filter(|s| **s != PLACEHOLDER_HASH)
                .count();
            // The format's bound: leaf, two lengths, bitmap, 32 bytes per explicit sibling.
            assert!(len <= 65 + 2 + p.depth().div_ceil(8) + 32 * explicit);
            assert_eq!(len, predicted_len(&p));
            verify(&root, &key(i), v.as_deref(), &p).unwrap();
            total += len;
            max = max.max(len);
            sib += p.depth();
            placeholders += p.depth() - explicit;
            count += 1;
        }
        (
            total as f64 / count as f64,
            max,
            sib as f64 / count as f64,
            placeholders as f64 / count as f64,
        )
    };
    let (avg, max, depth, ph) = stats(0..n);
    eprintln!(
        "10k keys, membership: avg {avg:.1} B, max {max} B, avg depth {depth:.2} siblings ({ph:.2} placeholders elided)"
    );
    let (a_avg, a_max, a_depth, a_ph) = stats(n + 1_000_000..n + 1_002_000);
    eprintln!(
        "10k keys, absence:    avg {a_avg:.1} B, max {a_max} B, avg depth {a_depth:.2} siblings ({a_ph:.2} placeholders elided)"
    );
    // log2(10k) + 1.35 ≈ 14.6 siblings: a few hundred bytes, far from jmt's ~62 B per sibling.
    assert!(avg < 70.0 + 32.0 * depth);
    assert!(avg < 600.0 && max < 900);
}

/// One-off measurement at 1M keys (slow: run with `--ignored`): proof sizes against the
/// design goals (≤ 800 B average, ≤ 1.1 KB max membership) and node bytes written per updated
/// key by a 1,000-key block.
#[test]
#[ignore]
fn measure_1m_keys() {
    let n = 1_000_000u32;
    let mut store = MemoryStore::new();
    for block in 0..100u32 {
        let w: Writes = (block * 10_000..(block + 1) * 10_000)
            .map(|i| (key(i), Some(val(i, 0))))
            .collect();
        step(&mut store, &w);
    }
    let root = root_at(&store, 99).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for (label, offset) in [("membership", 0u32), ("absence", n)] {
        let (mut total, mut max, mut depth) = (0usize, 0usize, 0usize);
        for _ in 0..5000 {
            let i = offset + rng.gen_range(0..n);
            let (v, p) = get_with_proof(&store, &key(i), 99).unwrap();
            verify(&root, &key(i), v.as_deref(), &p).unwrap();
            let len = p.to_bytes().len();
            total += len;
            max = max.max(len);
            depth += p.depth();
        }
        eprintln!(
            "1M keys, {label}: avg {:.1} B, max {max} B, avg depth {:.2}",
            total as f64 / 5000.0,
            depth as f64 / 5000.0
        );
    }
    let w: Writes = (0..1000)
        .map(|_| rng.gen_range(0..n))
        .map(|i| (key(i), Some(val(i, 1))))
        .collect();
    let (_, update) = apply(&store, 100, &w).unwrap();
    let bytes: usize = update
        .nodes
        .iter()
        .map(|x| x.key.len() + x.node.len())
        .sum();
    eprintln!(
        "1M keys, {}-key block: {} nodes, {} node bytes ({:.0} B per updated key), {} stale",
        w.len(),
        update.nodes.len(),
        bytes,
        bytes as f64 / w.len() as f64,
        update.stale.len()
    );
}
