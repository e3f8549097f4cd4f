//! Versioning, empty blocks, determinism, history independence and pruning of the state tree.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use std::collections::BTreeMap;

use concordat_primitives::state::{
    apply, get, get_with_proof, root_at, root_node_key, verify_absence, verify_membership,
    MemoryStore, StateError, StateStore, StateUpdate, EMPTY_ROOT,
};
use concordat_primitives::Hash;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

fn key(i: u32) -> Vec<u8> {
    let mut k = b"licence/".to_vec();
    k.extend_from_slice(&i.to_be_bytes());
    k
}

fn val(i: u32, gen: u32) -> Vec<u8> {
    format!("value {i} gen {gen}").into_bytes()
}

/// Applies and commits the next version; returns its root.
fn step(store: &mut MemoryStore, writes: &Writes) -> Hash {
    let version = store.latest_version().unwrap().map_or(0, |v| v + 1);
    let (root, update) = apply(store, version, writes).unwrap();
    assert_eq!(update.root, root);
    assert_eq!(update.version, version);
    store.commit(update).unwrap();
    assert_eq!(root_at(store, version).unwrap(), root);
    root
}

fn writes(pairs: &[(Vec<u8>, Option<Vec<u8>>)]) -> Writes {
    pairs.iter().cloned().collect()
}

#[test]
fn empty_root_is_jmt_placeholder() {
    assert_eq!(EMPTY_ROOT.0, jmt::Sha256Jmt::<MemoryJmtNever>::EMPTY_ROOT.0);
    assert_eq!(&EMPTY_ROOT.0, b"SPARSE_MERKLE_PLACEHOLDER_HASH__");
}

/// Only to name `Sha256Jmt::EMPTY_ROOT`; never read.
struct MemoryJmtNever;
impl jmt::storage::TreeReader for MemoryJmtNever {
    fn get_node_option(
        &self,
        _: &jmt::storage::NodeKey,
    ) -> anyhow::Result<Option<jmt::storage::Node>> {
        Ok(None)
    }
    fn get_value_option(&self, _: u64, _: jmt::KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(None)
    }
    fn get_rightmost_leaf(
        &self,
    ) -> anyhow::Result<Option<(jmt::storage::NodeKey, jmt::storage::LeafNode)>> {
        Ok(None)
    }
}

#[test]
fn empty_genesis_and_empty_blocks_have_roots_and_proofs() {
    let mut store = MemoryStore::new();
    assert!(matches!(
        root_at(&store, 0),
        Err(StateError::VersionNotFound { version: 0 })
    ));

    // Genesis with no writes: the empty root, and absence is provable.
    let r0 = step(&mut store, &Writes::new());
    assert_eq!(r0, EMPTY_ROOT);
    let (v, p) = get_with_proof(&store, &key(1), 0).unwrap();
    assert_eq!(v, None);
    assert!(p.leaf().is_none() && p.siblings().is_empty());
    verify_absence(&r0, &key(1), &p).unwrap();

    // Empty block on the empty tree.
    assert_eq!(step(&mut store, &Writes::new()), EMPTY_ROOT);
    // Deleting a key that never existed is a no-op too.
    assert_eq!(step(&mut store, &writes(&[(key(9), None)])), EMPTY_ROOT);

    // Version 3 writes, 4..=6 are empty blocks, 7 writes again.
    let w3: Writes = (0..50).map(|i| (key(i), Some(val(i, 0)))).collect();
    let r3 = step(&mut store, &w3);
    assert_ne!(r3, EMPTY_ROOT);
    for _ in 4..=6 {
        assert_eq!(step(&mut store, &Writes::new()), r3);
    }
    let r7 = step(&mut store, &writes(&[(key(0), Some(val(0, 1)))]));
    assert_ne!(r7, r3);

    for version in 3..=6 {
        assert_eq!(root_at(&store, version).unwrap(), r3);
        for i in 0..50 {
            let (v, p) = get_with_proof(&store, &key(i), version).unwrap();
            assert_eq!(v.as_deref(), Some(val(i, 0).as_slice()));
            verify_membership(&r3, &key(i), &val(i, 0), &p).unwrap();
        }
        let (v, p) = get_with_proof(&store, &key(1000), version).unwrap();
        assert_eq!(v, None);
        verify_absence(&r3, &key(1000), &p).unwrap();
    }
    for version in 0..=2 {
        assert_eq!(root_at(&store, version).unwrap(), EMPTY_ROOT);
        assert_eq!(get(&store, &key(0), version).unwrap(), None);
    }
    assert_eq!(get(&store, &key(0), 6).unwrap(), Some(val(0, 0)));
    assert_eq!(get(&store, &key(0), 7).unwrap(), Some(val(0, 1)));
    assert!(matches!(
        get(&store, &key(0), 8),
        Err(StateError::VersionNotFound { version: 8 })
    ));
    assert!(matches!(
        get_with_proof(&store, &key(0), 8),
        Err(StateError::VersionNotFound { version: 8 })
    ));
}

#[test]
fn versions_must_be_consecutive() {
    let mut store = MemoryStore::new();
    let w = writes(&[(key(1), Some(val(1, 0)))]);
    assert_eq!(
        apply(&store, 1, &w).unwrap_err(),
        StateError::VersionNotNext {
            expected: 0,
            got: 1
        }
    );
    step(&mut store, &w);
    // Rewrite of genesis, and a gap.
    assert_eq!(
        apply(&store, 0, &w).unwrap_err(),
        StateError::VersionNotNext {
            expected: 1,
            got: 0
        }
    );
    assert_eq!(
        apply(&store, 2, &w).unwrap_err(),
        StateError::VersionNotNext {
            expected: 1,
            got: 2
        }
    );
    // Two updates computed from the same parent: only the first can be committed.
    let (_, a) = apply(&store, 1, &writes(&[(key(2), Some(val(2, 0)))])).unwrap();
    let (_, b) = apply(&store, 1, &writes(&[(key(3), Some(val(3, 0)))])).unwrap();
    store.commit(a).unwrap();
    assert_eq!(
        store.commit(b).unwrap_err(),
        StateError::VersionNotNext {
            expected: 2,
            got: 1
        }
    );
    // An update without its root node is refused.
    let (_, mut c) = apply(&store, 2, &Writes::new()).unwrap();
    c.nodes.clear();
    assert!(matches!(store.commit(c), Err(StateError::Corrupt(_))));
    assert_eq!(store.latest_version().unwrap(), Some(1));
}

#[test]
fn empty_keys_and_values_are_refused() {
    let store = MemoryStore::new();
    assert_eq!(
        apply(&store, 0, &writes(&[(Vec::new(), Some(b"x".to_vec()))])).unwrap_err(),
        StateError::EmptyKey
    );
    assert!(matches!(
        apply(&store, 0, &writes(&[(key(1), Some(Vec::new()))])),
        Err(StateError::EmptyValue { .. })
    ));
}

#[test]
fn apply_writes_nothing() {
    let mut store = MemoryStore::new();
    step(&mut store, &writes(&[(key(1), Some(val(1, 0)))]));
    let before = (store.node_count(), store.latest_version().unwrap());
    let (_, _update) = apply(&store, 1, &writes(&[(key(2), Some(val(2, 0)))])).unwrap();
    assert_eq!(
        (store.node_count(), store.latest_version().unwrap()),
        before
    );
    assert!(matches!(
        root_at(&store, 1),
        Err(StateError::VersionNotFound { version: 1 })
    ));
}

#[test]
fn history_independence_insert_then_delete() {
    let mut store = MemoryStore::new();
    let base: Writes = (0..200).map(|i| (key(i), Some(val(i, 0)))).collect();
    let r0 = step(&mut store, &base);
    let extra: Writes = (1000..1040).map(|i| (key(i), Some(val(i, 0)))).collect();
    let r1 = step(&mut store, &extra);
    assert_ne!(r1, r0);
    let removal: Writes = (1000..1040).map(|i| (key(i), None)).collect();
    let r2 = step(&mut store, &removal);
    assert_eq!(
        r2, r0,
        "insert then delete must give back the identical root"
    );
    // Old version still proves the key present, new one proves it absent.
    let (v, p) = get_with_proof(&store, &key(1000), 1).unwrap();
    verify_membership(&r1, &key(1000), &v.unwrap(), &p).unwrap();
    let (v, p) = get_with_proof(&store, &key(1000), 2).unwrap();
    assert_eq!(v, None);
    verify_absence(&r2, &key(1000), &p).unwrap();
    assert!(verify_absence(&r1, &key(1000), &p).is_err());

    // Deleting everything gives the empty root back, and then re-inserting gives r0 again.
    let all: Writes = (0..200).map(|i| (key(i), None)).collect();
    assert_eq!(step(&mut store, &all), EMPTY_ROOT);
    let (_, p) = get_with_proof(&store, &key(5), 3).unwrap();
    verify_absence(&EMPTY_ROOT, &key(5), &p).unwrap();
    assert_eq!(step(&mut store, &base), r0);
}

/// Final state built in one block vs. spread over blocks in random orders, with detours.
#[test]
fn determinism_any_order_same_root() {
    let final_state: Writes = (0..300).map(|i| (key(i), Some(val(i, 7)))).collect();
    let mut one = MemoryStore::new();
    let expected = step(&mut one, &final_state);

    for seed in 0..5u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut store = MemoryStore::new();
        let mut order: Vec<u32> = (0..300).collect();
        order.shuffle(&mut rng);
        let mut pending: Vec<u32> = order.clone();
        while !pending.is_empty() {
            let take = rng.gen_range(1..=pending.len().min(60));
            let chunk: Vec<u32> = pending.drain(..take).collect();
            let mut w = Writes::new();
            for i in &chunk {
                // Sometimes write a wrong value first, fixed in a later block.
                let wrong = rng.gen_bool(0.3);
                w.insert(key(*i), Some(val(*i, if wrong { 0 } else { 7 })));
                if wrong {
                    pending.push(*i);
                }
            }
            // Detour keys that are inserted now and deleted at the end.
            w.insert(key(5000 + rng.gen_range(0..50)), Some(b"detour".to_vec()));
            step(&mut store, &w);
        }
        let cleanup: Writes = (5000..5050).map(|i| (key(i), None)).collect();
        assert_eq!(step(&mut store, &cleanup), expected, "seed {seed}");
    }
}

#[test]
fn updates_are_deterministic_bytes() {
    let build = || {
        let mut store = MemoryStore::new();
        let mut updates: Vec<StateUpdate> = Vec::new();
        for v in 0..4u32 {
            let w: Writes = (0..100)
                .map(|i| (key(i * (v + 1)), Some(val(i, v))))
                .collect();
            let (_, u) = apply(&store, u64::from(v), &w).unwrap();
            updates.push(u.clone());
            store.commit(u).unwrap();
        }
        bcs::to_bytes(&updates).unwrap()
    };
    assert_eq!(build(), build());
}

#[test]
fn update_layout_node_keys_and_stale_index() {
    let mut store = MemoryStore::new();
    let w: Writes = (0..64).map(|i| (key(i), Some(val(i, 0)))).collect();
    let (_, u0) = apply(&store, 0, &w).unwrap();
    store.commit(u0.clone()).unwrap();
    let (_, u1) = apply(&store, 1, &writes(&[(key(3), Some(val(3, 1)))])).unwrap();
    for (u, version) in [(&u0, 0u64), (&u1, 1)] {
        assert!(
            u.nodes.windows(2).all(|w| w[0].key < w[1].key),
            "nodes sorted by key"
        );
        for n in &u.nodes {
            assert_eq!(
                &n.key[..8],
                &version.to_be_bytes(),
                "node written at its version"
            );
            let nibbles = usize::from(n.key[8]);
            assert!(nibbles <= 64);
            assert_eq!(n.key.len(), 9 + nibbles.div_ceil(2));
        }
        assert_eq!(u.nodes[0].key, root_node_key(version), "root sorts first");
        assert!(u.stale.windows(2).all(|w| w[0] < w[1]));
    }
    // Version 1 changed one key: one new path; the old path (root included) is stale since 1.
    assert!(u1.stale.iter().all(|s| s.stale_since_version == 1));
    assert!(u1.stale.iter().any(|s| s.node_key == root_node_key(0)));
    assert_eq!(
        u1.stale.len(),
        u1.nodes.len(),
        "replaced path has as many nodes as the new one"
    );
    assert_eq!(u1.values.len(), 1);
    assert_eq!(u1.values[0].version, 1);
    assert_eq!(u1.values[0].value.as_deref(), Some(val(3, 1).as_slice()));
    // An empty block copies the root and marks the previous root stale.
    store.commit(u1).unwrap();
    let (_, u2) = apply(&store, 2, &Writes::new()).unwrap();
    assert_eq!(u2.nodes.len(), 1);
    assert_eq!(u2.nodes[0].key, root_node_key(2));
    assert_eq!(u2.stale.len(), 1);
    assert_eq!(u2.stale[0].node_key, root_node_key(1));
}

/// After pruning below `r`, every retained version still proves every key, pruned versions are
/// gone, and pruning at the latest version leaves exactly the live tree.
#[test]
fn pruning_with_the_stale_index() {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let mut store = MemoryStore::new();
    let mut model: Vec<BTreeMap<Vec<u8>, Vec<u8>>> = Vec::new();
    let mut live: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut roots = Vec::new();
    for v in 0..40u32 {
        let mut w = Writes::new();
        if v % 5 != 4 {
            for _ in 0..rng.gen_range(0..40) {
                let i = rng.gen_range(0..300);
                if rng.gen_bool(0.3) {
                    w.insert(key(i), None);
                } else {
                    w.insert(key(i), Some(val(i, v)));
                }
            }
        }
        for (k, val) in &w {
            match val {
                Some(x) => live.insert(k.clone(), x.clone()),
                None => live.remove(k),
            };
        }
        roots.push(step(&mut store, &w));
        model.push(live.clone());
    }
    let removed = store.prune(25);
    assert!(removed > 0);
    for v in 0..25u64 {
        assert!(
            matches!(root_at(&store, v), Err(StateError::VersionNotFound { .. })),
            "v{v}"
        );
    }
    for v in 25..40usize {
        assert_eq!(root_at(&store, v as u64).unwrap(), roots[v]);
        for i in (0..300).step_by(7) {
            let (got, p) = get_with_proof(&store, &key(i), v as u64).unwrap();
            assert_eq!(got.as_ref(), model[v].get(&key(i)));
            match got {
                Some(x) => verify_membership(&roots[v], &key(i), &x, &p).unwrap(),
                None => verify_absence(&roots[v], &key(i), &p).unwrap(),
            }
        }
    }
    // Prune everything but the latest version: exactly the nodes of a fresh one-block tree.
    store.prune(39);
    let mut fresh = MemoryStore::new();
    let w: Writes = live
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    assert_eq!(step(&mut fresh, &w), roots[39]);
    assert_eq!(store.node_count(), fresh.node_count());
    assert_eq!(store.stale_count(), 0);
}
