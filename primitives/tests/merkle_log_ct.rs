//! Cross-check of `concordat_primitives::merkle_log` against the independent `ct-merkle` 0.3
//! crate: identical leaves (leaf `i` is the bytes of `concordat-leaf-{i}`, hashed by both sides
//! as `SHA-256(0x00 || bytes)`), then for every tree size 0..=1000 equal roots, byte-equal
//! inclusion and consistency proofs, and acceptance of our proofs by both verifiers. Then the
//! negative side: any single flipped bit, wrong index or size, wrong length or oversized proof
//! is refused.

use concordat_primitives::encoding::{from_bytes, to_bytes};
use concordat_primitives::merkle_log::{
    leaf_hash, verify_consistency, verify_inclusion, ConsistencyProof, InclusionProof,
    LogProofError, MemoryLog, EMPTY_ROOT, MAX_CONSISTENCY_PROOF_HASHES, MAX_INCLUSION_PROOF_HASHES,
};
use concordat_primitives::Hash;
use ct_merkle::digest::{consts::U32, FixedOutput, HashMarker, Output, OutputSizeUser, Update};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::RootHash;

/// SHA-256 for `ct-merkle`, which speaks `digest` 0.11, over the workspace's `sha2` 0.10.
#[derive(Clone, Default)]
struct CtSha256(sha2::Sha256);

impl HashMarker for CtSha256 {}

impl OutputSizeUser for CtSha256 {
    type OutputSize = U32;
}

impl Update for CtSha256 {
    fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.0, data);
    }
}

impl FixedOutput for CtSha256 {
    fn finalize_into(self, out: &mut Output<Self>) {
        out.copy_from_slice(&sha2::Digest::finalize(self.0));
    }
}

type CtTree = MemoryBackedTree<CtSha256, Vec<u8>>;
type CtRoot = RootHash<CtSha256>;
type CtInclusion = ct_merkle::InclusionProof<CtSha256>;
type CtConsistency = ct_merkle::ConsistencyProof<CtSha256>;

const MAX_SIZE: u64 = 1000;

fn leaf_data(i: u64) -> Vec<u8> {
    format!("concordat-leaf-{i}").into_bytes()
}

fn our_leaf(i: u64) -> Hash {
    leaf_hash(&leaf_data(i))
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Every index for sizes up to 64; else 0, 1, the middle, the last and four pseudo-random ones.
fn inclusion_indices(n: u64) -> Vec<u64> {
    if n <= 64 {
        return (0..n).collect();
    }
    let mut v = vec![0, 1, n / 2, n - 1];
    v.extend((0..4).map(|j| splitmix(n * 8 + j) % n));
    v.sort_unstable();
    v.dedup();
    v
}

/// Every old size for sizes up to 64; else 0, 1, 2, the largest power of two <= n, the middle,
/// n - 1, n and four pseudo-random ones.
fn consistency_olds(n: u64) -> Vec<u64> {
    if n <= 64 {
        return (0..=n).collect();
    }
    let pow2 = 1u64 << (63 - n.leading_zeros());
    let mut v = vec![0, 1, 2, pow2, n / 2, n - 1, n];
    v.extend((0..4).map(|j| 1 + splitmix(n * 8 + 4 + j) % (n - 1)));
    v.sort_unstable();
    v.dedup();
    v
}

fn concat(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

fn ct_root(root: &Hash, size: u64) -> CtRoot {
    CtRoot::new(Output::<CtSha256>::from(root.0), size)
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut out = *h;
    out.0[bit / 8] ^= 1 << (bit % 8);
    out
}

#[test]
fn roots_and_proofs_match_ct_merkle_for_every_size_up_to_1000() {
    let full = MemoryLog::from_leaf_hashes((0..MAX_SIZE).map(our_leaf));
    let mut growing = MemoryLog::new();
    let mut ct = CtTree::new();
    let mut roots: Vec<Hash> = Vec::new();
    let (mut inclusions, mut consistencies) = (0usize, 0usize);

    for n in 0..=MAX_SIZE {
        if n > 0 {
            ct.push(leaf_data(n - 1));
            growing.append(our_leaf(n - 1));
        }
        let theirs = ct.root();
        let root = full.root_at(n).expect("root of a past size");
        assert_eq!(&root.0[..], &theirs.as_bytes()[..], "root of size {n}");
        assert_eq!(growing.root(), root, "root of the growing log at size {n}");
        if n == 0 {
            assert_eq!(root, EMPTY_ROOT);
        }
        roots.push(root);

        for i in inclusion_indices(n) {
            let ours = full.inclusion_proof(i, n).expect("inclusion proof");
            assert_eq!(growing.inclusion_proof(i, n).as_ref(), Ok(&ours));
            let bytes = concat(&ours.hashes);
            let theirs_proof = ct.prove_inclusion(i as usize);
            assert_eq!(bytes, theirs_proof.as_bytes(), "inclusion proof {i} in {n}");
            // BCS is the ULEB128 count (< 128 here) then the same bytes.
            let bcs = to_bytes(&ours);
            assert_eq!(bcs[0] as usize, ours.hashes.len());
            assert_eq!(&bcs[1..], &bytes[..]);
            assert_eq!(from_bytes::<InclusionProof>(&bcs).as_ref(), Ok(&ours));

            assert_eq!(verify_inclusion(&our_leaf(i), i, n, &ours, &root), Ok(()));
            let as_ct = CtInclusion::try_from_bytes(bytes).expect("whole hashes");
            theirs
                .verify_inclusion(&leaf_data(i), i, &as_ct)
                .unwrap_or_else(|e| panic!("ct-merkle refuses our inclusion proof {i}/{n}: {e}"));
            inclusions += 1;
        }

        for m in consistency_olds(n) {
            let ours = full.consistency_proof(m, n).expect("consistency proof");
            assert_eq!(growing.consistency_proof(m, n).as_ref(), Ok(&ours));
            let old_root = roots[m as usize];
            assert_eq!(verify_consistency(m, n, &old_root, &root, &ours), Ok(()));
            let bytes = concat(&ours.hashes);
            let bcs = to_bytes(&ours);
            assert_eq!(&bcs[1..], &bytes[..]);
            assert_eq!(from_bytes::<ConsistencyProof>(&bcs).as_ref(), Ok(&ours));
            if m == 0 {
                // ct-merkle has no proof from the empty tree; ours is empty by definition.
                assert!(ours.hashes.is_empty());
            } else {
                let theirs_proof = ct.prove_consistency((n - m) as usize);
                assert_eq!(
                    bytes,
                    theirs_proof.as_bytes(),
                    "consistency proof {m} -> {n}"
                );
                let as_ct = CtConsistency::try_from_bytes(bytes).expect("whole hashes");
                theirs
                    .verify_consistency(&ct_root(&old_root, m), &as_ct)
                    .unwrap_or_else(|e| {
                        panic!("ct-merkle refuses our consistency proof {m} -> {n}: {e}")
                    });
            }
            consistencies += 1;
        }
    }
    println!(
        "ct-merkle: {} sizes, {inclusions} inclusion, {consistencies} consistency checks agree",
        MAX_SIZE + 1
    );
    assert!(inclusions > 9_000 && consistencies > 12_000);
}

const TAMPER_SIZES: [u64; 18] = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 31, 32, 33, 64, 65, 255, 257, 1000,
];

fn few(n: u64) -> Vec<u64> {
    let mut v = vec![0, 1, n / 3, n / 2, n.saturating_sub(2), n.saturating_sub(1)];
    v.retain(|&i| i < n);
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn any_flipped_bit_or_wrong_position_is_refused_by_both_verifiers() {
    let log = MemoryLog::from_leaf_hashes((0..2 * MAX_SIZE).map(our_leaf));
    let mut checks = 0u64;
    for n in TAMPER_SIZES {
        let root = log.root_at(n).expect("root");
        let theirs = ct_root(&root, n);
        let indices = if n <= 9 { (0..n).collect() } else { few(n) };
        for &i in &indices {
            let proof = log.inclusion_proof(i, n).expect("proof");
            let leaf = our_leaf(i);
            assert_eq!(verify_inclusion(&leaf, i, n, &proof, &root), Ok(()));
            for j in 0..proof.hashes.len() {
                for bit in 0..256 {
                    let mut bad = proof.clone();
                    bad.hashes[j] = flip(&bad.hashes[j], bit);
                    assert_eq!(
                        verify_inclusion(&leaf, i, n, &bad, &root),
                        Err(LogProofError::RootMismatch)
                    );
                    let as_ct = CtInclusion::try_from_bytes(concat(&bad.hashes)).expect("bytes");
                    assert!(theirs.verify_inclusion(&leaf_data(i), i, &as_ct).is_err());
                    checks += 2;
                }
            }
            for bit in 0..256 {
                let bad_root = flip(&root, bit);
                assert!(verify_inclusion(&leaf, i, n, &proof, &bad_root).is_err());
                assert!(verify_inclusion(&flip(&leaf, bit), i, n, &proof, &root).is_err());
                checks += 2;
            }
            // Wrong index (same leaf, same proof), and a wrong size with that size's root.
            for j in few(n)
                .into_iter()
                .chain(indices.iter().copied())
                .chain([n, n + 1])
            {
                if j != i {
                    assert!(
                        verify_inclusion(&leaf, j, n, &proof, &root).is_err(),
                        "{i}->{j}/{n}"
                    );
                    checks += 1;
                }
            }
            for n2 in [0, i, i + 1, n - 1, n + 1, n + 2, 2 * n] {
                if n2 != n {
                    let root2 = log.root_at(n2).expect("root");
                    assert!(
                        verify_inclusion(&leaf, i, n2, &proof, &root2).is_err(),
                        "{i}/{n2}"
                    );
                    checks += 1;
                }
            }
            // One hash too many or too few.
            let mut longer = proof.clone();
            longer.hashes.push(root);
            assert!(matches!(
                verify_inclusion(&leaf, i, n, &longer, &root),
                Err(LogProofError::WrongProofLength { .. })
            ));
            if !proof.hashes.is_empty() {
                let mut shorter = proof.clone();
                shorter.hashes.pop();
                assert!(matches!(
                    verify_inclusion(&leaf, i, n, &shorter, &root),
                    Err(LogProofError::WrongProofLength { .. })
                ));
            }
        }

        let mut olds = if n <= 9 { (0..=n).collect() } else { few(n) };
        olds.push(n);
        for m in olds {
            let old_root = log.root_at(m).expect("root");
            let proof = log.consistency_proof(m, n).expect("proof");
            assert_eq!(verify_consistency(m, n, &old_root, &root, &proof), Ok(()));
            for j in 0..proof.hashes.len() {
                for bit in 0..256 {
                    let mut bad = proof.clone();
                    bad.hashes[j] = flip(&bad.hashes[j], bit);
                    assert!(verify_consistency(m, n, &old_root, &root, &bad).is_err());
                    let as_ct = CtConsistency::try_from_bytes(concat(&bad.hashes)).expect("b");
                    assert!(theirs
                        .verify_consistency(&ct_root(&old_root, m), &as_ct)
                        .is_err());
                    checks += 2;
                }
            }
            for bit in 0..256 {
                let bad_old = flip(&old_root, bit);
                assert!(verify_consistency(m, n, &bad_old, &root, &proof).is_err());
                if m > 0 {
                    // From the empty tree nothing binds the new root (see the module doc).
                    let bad_new = flip(&root, bit);
                    assert!(verify_consistency(m, n, &old_root, &bad_new, &proof).is_err());
                }
                checks += 2;
            }
            // A wrong old size or a wrong new size, each with its own true root. (An empty
            // proof rightly proves 0 -> n and n -> n, so those are not "wrong" for it.)
            for m2 in [0, 1, m.saturating_sub(1), m + 1, n / 2, n] {
                let trivially_true = proof.hashes.is_empty() && (m2 == 0 || m2 == n);
                if m2 != m && m2 <= n && !trivially_true {
                    let r2 = log.root_at(m2).expect("root");
                    assert!(
                        verify_consistency(m2, n, &r2, &root, &proof).is_err(),
                        "{m2}->{n}"
                    );
                    checks += 1;
                }
            }
            for n2 in [m, m + 1, n - 1, n + 1, 2 * n] {
                if n2 != n && n2 >= m && m > 0 {
                    let r2 = log.root_at(n2).expect("root");
                    let res = verify_consistency(m, n2, &old_root, &r2, &proof);
                    assert!(res.is_err(), "{m}->{n2}");
                    checks += 1;
                }
            }
            let mut longer = proof.clone();
            longer.hashes.push(root);
            assert!(matches!(
                verify_consistency(m, n, &old_root, &root, &longer),
                Err(LogProofError::WrongProofLength { .. })
            ));
            if !proof.hashes.is_empty() {
                let mut shorter = proof.clone();
                shorter.hashes.pop();
                assert!(matches!(
                    verify_consistency(m, n, &old_root, &root, &shorter),
                    Err(LogProofError::WrongProofLength { .. })
                ));
            }
        }
    }
    assert!(checks > 100_000, "{checks}");
}

#[test]
fn oversized_proofs_are_refused_at_decode_and_verify() {
    let log = MemoryLog::from_leaf_hashes((0..10).map(our_leaf));
    let root = log.root();

    let max = InclusionProof {
        hashes: vec![root; MAX_INCLUSION_PROOF_HASHES],
    };
    assert_eq!(
        from_bytes::<InclusionProof>(&to_bytes(&max)).as_ref(),
        Ok(&max)
    );
    let over = InclusionProof {
        hashes: vec![root; MAX_INCLUSION_PROOF_HASHES + 1],
    };
    assert!(from_bytes::<InclusionProof>(&to_bytes(&over)).is_err());
    assert_eq!(
        verify_inclusion(&our_leaf(0), 0, u64::MAX, &over, &root),
        Err(LogProofError::TooManyHashes {
            len: MAX_INCLUSION_PROOF_HASHES + 1,
            max: 64
        })
    );
    assert!(InclusionProof::new(over.hashes).is_err());

    let max = ConsistencyProof {
        hashes: vec![root; MAX_CONSISTENCY_PROOF_HASHES],
    };
    assert_eq!(
        from_bytes::<ConsistencyProof>(&to_bytes(&max)).as_ref(),
        Ok(&max)
    );
    let over = ConsistencyProof {
        hashes: vec![root; MAX_CONSISTENCY_PROOF_HASHES + 1],
    };
    assert!(from_bytes::<ConsistencyProof>(&to_bytes(&over)).is_err());
    assert_eq!(
        verify_consistency(3, 10, &root, &root, &over),
        Err(LogProofError::TooManyHashes {
            len: MAX_CONSISTENCY_PROOF_HASHES + 1,
            max: 128
        })
    );
    assert!(ConsistencyProof::new(over.hashes).is_err());

    // A huge claimed count with no hashes behind it, and a truncated hash, are refused.
    assert!(from_bytes::<InclusionProof>(&[0xff, 0xff, 0xff, 0xff, 0x07]).is_err());
    let mut truncated = to_bytes(&log.inclusion_proof(3, 10).expect("proof"));
    truncated.pop();
    assert!(from_bytes::<InclusionProof>(&truncated).is_err());
    // JSON refuses unknown fields and over-long lists too.
    assert!(serde_json::from_str::<InclusionProof>(r#"{"hashes":[],"extra":1}"#).is_err());
    let long = serde_json::to_string(&InclusionProof {
        hashes: vec![root; MAX_INCLUSION_PROOF_HASHES + 1],
    })
    .expect("json");
    assert!(serde_json::from_str::<InclusionProof>(&long).is_err());
}
