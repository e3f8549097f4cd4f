//! Differential tests against `jmt` itself: the same writes through `jmt` directly (with a
//! store written here) give the same roots; every `jmt` proof, converted to our format, gets
//! the same verdict from our verifier as from `jmt`'s `verify_existence/verify_nonexistence`,
//! including proofs tampered with at the `jmt` level.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use std::collections::BTreeMap;

use concordat_primitives::state::{
    apply, get_with_proof, verify, MemoryStore, StateProof, StateStore, EMPTY_ROOT,
};
use concordat_primitives::Hash;
use jmt::proof::SparseMerkleProof;
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, RootHash, Sha256Jmt};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::Sha256;

type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;
type JmtProof = SparseMerkleProof<Sha256>;

/// A plain `jmt` store, independent of ours.
#[derive(Default)]
struct JmtStore {
    nodes: BTreeMap<NodeKey, Node>,
    values: BTreeMap<(KeyHash, u64), Option<Vec<u8>>>,
}

impl TreeReader for JmtStore {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.nodes.get(node_key).cloned())
    }
    fn get_value_option(&self, max: u64, kh: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self
            .values
            .range((kh, 0)..=(kh, max))
            .next_back()
            .and_then(|(_, v)| v.clone()))
    }
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Ok(None)
    }
}

impl JmtStore {
    /// Applies `writes` at `version` in the given order, straight through jmt.
    fn put(&mut self, writes: Vec<(Vec<u8>, Option<Vec<u8>>)>, version: u64) -> RootHash {
        let set = writes
            .into_iter()
            .map(|(k, v)| (KeyHash::with::<Sha256>(&k), v));
        let (root, batch) = Sha256Jmt::new(self).put_value_set(set, version).unwrap();
        for (k, n) in batch.node_batch.nodes() {
            self.nodes.insert(k.clone(), n.clone());
        }
        for ((v, kh), val) in batch.node_batch.values() {
            self.values.insert((*kh, *v), val.clone());
        }
        root
    }

    fn proof(&self, key: &[u8], version: u64) -> (Option<Vec<u8>>, JmtProof) {
        Sha256Jmt::new(self)
            .get_with_proof(KeyHash::with::<Sha256>(key), version)
            .unwrap()
    }
}

fn jmt_verdict(p: &JmtProof, root: &Hash, key: &[u8], value: Option<&[u8]>) -> bool {
    let (root, kh) = (RootHash(root.0), KeyHash::with::<Sha256>(key));
    match value {
        Some(v) => p.verify_existence(root, kh, v).is_ok(),
        None => p.verify_nonexistence(root, kh).is_ok(),
    }
}

/// Our verdict on jmt's proof after conversion (a proof that cannot convert is refused).
fn our_verdict(p: &JmtProof, root: &Hash, key: &[u8], value: Option<&[u8]>) -> bool {
    match StateProof::try_from(p) {
        Ok(ours) => {
            // Through the wire format, as a client would receive it.
            let ours = StateProof::from_bytes(&ours.to_bytes()).unwrap();
            verify(root, key, value, &ours).is_ok()
        }
        Err(_) => false,
    }
}

fn key(i: u64) -> Vec<u8> {
    let mut k = b"credit/".to_vec();
    k.extend_from_slice(&i.to_le_bytes());
    k
}

/// Random blocks through both; roots agree at every version; every proof agrees.
#[test]
fn same_roots_and_same_verdicts_on_random_key_sets() {
    for seed in 0..4u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut ours = MemoryStore::new();
        let mut theirs = JmtStore::default();
        let universe = rng.gen_range(50..1500u64);
        let mut roots = Vec::new();
        for version in 0..8u64 {
            let mut w = Writes::new();
            for _ in 0..rng.gen_range(0..universe) {
                let i = rng.gen_range(0..universe);
                let v = if rng.gen_bool(0.3) {
                    None
                } else {
                    Some(format!("{seed}/{version}/{}", rng.gen::<u32>()).into_bytes())
                };
                w.insert(key(i), v);
            }
            let (root, update) = apply(&ours, version, &w).unwrap();
            ours.commit(update).unwrap();
            // jmt gets the same writes in a random order.
            let mut shuffled: Vec<_> = w.into_iter().collect();
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, rng.gen_range(0..=i));
            }
            let jroot = theirs.put(shuffled, version);
            assert_eq!(root.0, jroot.0, "seed {seed} version {version}");
            roots.push(root);
        }
        let (mut agree_ok, mut agree_bad) = (0, 0);
        for (version, root) in roots.iter().enumerate() {
            let version = version as u64;
            for i in 0..universe + 20 {
                let k = key(i);
                let (jv, jp) = theirs.proof(&k, version);
                let (ov, op) = get_with_proof(&ours, &k, version).unwrap();
                assert_eq!(jv, ov);
                assert_eq!(
                    StateProof::try_from(&jp).unwrap(),
                    op,
                    "same proof from both"
                );
                // The honest claim, and some dishonest ones.
                let claims: [Option<&[u8]>; 3] = [jv.as_deref(), None, Some(b"forged")];
                for claim in claims {
                    for r in [root, &roots[0], &EMPTY_ROOT] {
                        let j = jmt_verdict(&jp, r, &k, claim);
                        assert_eq!(
                            j,
                            our_verdict(&jp, r, &k, claim),
                            "seed {seed} v{version} key {i}"
                        );
                        if j {
                            agree_ok += 1
                        } else {
                            agree_bad += 1
                        }
                    }
                }
                // The proof for key i must not speak for key i + 1 (unless jmt agrees it does).
                let other = key(i + 1);
                for claim in [None, jv.as_deref()] {
                    assert_eq!(
                        jmt_verdict(&jp, root, &other, claim),
                        our_verdict(&jp, root, &other, claim)
                    );
                }
            }
        }
        eprintln!("seed {seed}: {agree_ok} accepted by both, {agree_bad} refused by both");
        assert!(agree_ok > 0 && agree_bad > 0);
    }
}

/// Tamper with jmt proofs at jmt's own level (its serde form) and compare verdicts.
#[test]
fn tampered_jmt_proofs_get_the_same_verdict() {
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let mut theirs = JmtStore::default();
    let w: Vec<_> = (0..2000u64)
        .map(|i| (key(i), Some(format!("v{i}").into_bytes())))
        .collect();
    let root = Hash(theirs.put(w, 0).0);
    let (mut decoded, mut accepted) = (0, 0);
    for i in (0..2000u64).step_by(97).chain(5000..5020) {
        let k = key(i);
        let (value, proof) = theirs.proof(&k, 0);
        let bytes = bcs::to_bytes(&proof).unwrap();
        // Every single-bit flip, then some random multi-byte edits.
        let mut variants: Vec<Vec<u8>> = (0..bytes.len() * 8)
            .map(|bit| {
                let mut b = bytes.clone();
                b[bit / 8] ^= 1 << (bit % 8);
                b
            })
            .collect();
        for _ in 0..200 {
            let mut b = bytes.clone();
            let at = rng.gen_range(0..b.len());
            match rng.gen_range(0..3) {
                0 => b[at] = rng.gen(),
                1 => {
                    b.remove(at);
                }
                _ => b.insert(at, rng.gen()),
            }
            variants.push(b);
        }
        variants.push(bytes.clone());
        for b in variants {
            let Ok(p) = bcs::from_bytes::<JmtProof>(&b) else {
                continue;
            };
            decoded += 1;
            for claim in [value.as_deref(), None] {
                let j = jmt_verdict(&p, &root, &k, claim);
                assert_eq!(j, our_verdict(&p, &root, &k, claim), "key {i}");
                accepted += usize::from(j);
                // Only the untouched proof (or an edit that rewrote a byte to itself) may pass.
                assert!(!j || b == bytes, "tampered jmt proof accepted");
            }
        }
    }
    eprintln!("{decoded} tampered jmt proofs decoded; {accepted} verdicts accepted by both");
    assert!(decoded > 1000);
}

/// jmt's own proof of an empty tree and of a single leaf.
#[test]
fn degenerate_trees_agree() {
    let mut theirs = JmtStore::default();
    let r0 = Hash(theirs.put(vec![(key(1), None)], 0).0);
    assert_eq!(r0, EMPTY_ROOT);
    let (_, p) = theirs.proof(&key(1), 0);
    assert!(jmt_verdict(&p, &r0, &key(1), None) && our_verdict(&p, &r0, &key(1), None));
    let r1 = Hash(theirs.put(vec![(key(1), Some(b"x".to_vec()))], 1).0);
    let (_, p) = theirs.proof(&key(2), 1);
    assert!(jmt_verdict(&p, &r1, &key(2), None) && our_verdict(&p, &r1, &key(2), None));
    let (_, p) = theirs.proof(&key(1), 1);
    assert!(jmt_verdict(&p, &r1, &key(1), Some(b"x")) && our_verdict(&p, &r1, &key(1), Some(b"x")));
}

/// The same forged symmetric tree as in `state_proofs`, as a jmt proof built from its serde
/// form: jmt's prefix rule and ours decide alike.
#[test]
fn forged_symmetric_root_same_verdicts() {
    use concordat_primitives::state::proof::{internal_hash, key_hash, leaf_hash, value_hash};
    let a = b"key-a".to_vec();
    let (ka, va) = (key_hash(&a), value_hash(b"v"));
    let root = internal_hash(&leaf_hash(&ka, &va), &leaf_hash(&ka, &va));
    // Some(leaf) | one sibling: SparseMerkleNode::Leaf (variant 2).
    let mut bytes = vec![1u8];
    bytes.extend_from_slice(&ka.0);
    bytes.extend_from_slice(&va.0);
    bytes.extend_from_slice(&[1, 2]);
    bytes.extend_from_slice(&ka.0);
    bytes.extend_from_slice(&va.0);
    let p: JmtProof = bcs::from_bytes(&bytes).unwrap();
    let mut seen = [false; 2];
    for i in 0..64u32 {
        let k = format!("key-b{i}").into_bytes();
        let j = jmt_verdict(&p, &root, &k, None);
        assert_eq!(j, our_verdict(&p, &root, &k, None));
        seen[usize::from(j)] = true;
    }
    assert_eq!(seen, [true, true], "both outcomes exercised");
    assert!(jmt_verdict(&p, &root, &a, Some(b"v")) && our_verdict(&p, &root, &a, Some(b"v")));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Arbitrary byte keys (including ones sharing long prefixes) and values.
    #[test]
    fn prop_roots_and_proofs_agree(
        entries in proptest::collection::btree_map(
            proptest::collection::vec(any::<u8>(), 1..12),
            proptest::option::weighted(0.8, proptest::collection::vec(any::<u8>(), 1..20)),
            0..60,
        ),
        probes in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..12), 0..10),
    ) {
        let mut ours = MemoryStore::new();
        let mut theirs = JmtStore::default();
        let (root, update) = apply(&ours, 0, &entries).unwrap();
        ours.commit(update).unwrap();
        let jroot = theirs.put(entries.clone().into_iter().rev().collect(), 0);
        prop_assert_eq!(root.0, jroot.0);
        prop_assert_eq!(ours.latest_version().unwrap(), Some(0));
        for k in entries.keys().chain(probes.iter()) {
            let (jv, jp) = theirs.proof(k, 0);
            let (ov, op) = get_with_proof(&ours, k, 0).unwrap();
            prop_assert_eq!(&jv, &ov);
            prop_assert_eq!(StateProof::try_from(&jp).unwrap(), op);
            for claim in [jv.as_deref(), None, Some(&b"zz"[..])] {
                prop_assert_eq!(jmt_verdict(&jp, &root, k, claim), our_verdict(&jp, &root, k, claim));
            }
            prop_assert!(jmt_verdict(&jp, &root, k, jv.as_deref()));
        }
    }
}
