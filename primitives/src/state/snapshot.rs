//! State snapshots: every (key hash, value) of one version in key-hash order, read in pages,
//! and the tree of that version rebuilt from them on a store that holds nothing yet.
//!
//! A joining node does not trust the pages: it rebuilds the tree from all of them and keeps
//! the result only if the root equals the state root of a header it verified (ADR 0023). The
//! tree is history-independent (see the module invariants), so the rebuilt root is the
//! ledger's root exactly when the entries are the ledger's entries.

use std::sync::Arc;

use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{JellyfishMerkleIterator, KeyHash, OwnedValue, Sha256Jmt, Version};

use super::adapter::{encode_node_key, map_jmt_error, Reader};
use super::store::{root_node_key, StateStore};
use super::tree::{to_update, StateUpdate};
use super::StateError;
use crate::Hash;

/// Most entries one page may hold.
pub const MAX_PAGE_ENTRIES: usize = 10_000;

/// One entry of a snapshot: the key's hash and its value.
pub type Entry = (Hash, Vec<u8>);

/// The entries of `version` whose key hash is above `after` (from the first when `None`), in
/// key-hash order, at most `limit` (capped at [`MAX_PAGE_ENTRIES`]).
pub fn entries<S: StateStore + ?Sized>(
    store: &S,
    version: u64,
    after: Option<Hash>,
    limit: usize,
) -> Result<Vec<Entry>, StateError> {
    super::root_at(store, version)?;
    let limit = limit.min(MAX_PAGE_ENTRIES);
    let start = KeyHash(after.map_or([0u8; 32], |h| h.0));
    let reader = Arc::new(Reader(store));
    let iter = JellyfishMerkleIterator::new(reader, version, start).map_err(map_jmt_error)?;
    let mut out = Vec::with_capacity(limit.min(1024));
    for item in iter {
        let (kh, value) = item.map_err(map_jmt_error)?;
        if after.is_some_and(|a| a.0 == kh.0) {
            continue;
        }
        if out.len() == limit {
            break;
        }
        out.push((Hash(kh.0), value));
    }
    Ok(out)
}

/// A reader over a store that holds no version, for a tree written first at `version`: jmt
/// reads the previous version's root, which is the empty tree.
struct Fresh<'a, S: ?Sized> {
    inner: Reader<'a, S>,
    /// The stored key of the previous version's root ([`root_node_key`]).
    previous_root: Option<Vec<u8>>,
}

impl<S: StateStore + ?Sized> TreeReader for Fresh<'_, S> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        if self.previous_root.as_deref() == Some(encode_node_key(node_key).as_slice()) {
            return Ok(Some(Node::Null));
        }
        self.inner.get_node_option(node_key)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.inner.get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.inner.get_rightmost_leaf()
    }
}

/// Rebuilds version `version` from all of a snapshot's `entries` (strictly increasing key
/// hashes, non-empty values) on `store`, which must hold no version yet. Returns the root and
/// the update to persist (with [`super::MemoryStore::commit_snapshot`] or a host's own import);
/// writes nothing. Compare the root with a verified header's state root before persisting.
pub fn import<S: StateStore + ?Sized>(
    store: &S,
    version: u64,
    entries: &[Entry],
) -> Result<(Hash, StateUpdate), StateError> {
    if let Some(latest) = store.latest_version()? {
        return Err(StateError::Corrupt(format!(
            "a snapshot is imported into an empty store; this one holds version {latest}"
        )));
    }
    if version == u64::MAX {
        return Err(StateError::VersionOverflow);
    }
    let mut value_set = Vec::with_capacity(entries.len());
    let mut previous: Option<Hash> = None;
    for (kh, value) in entries {
        if previous.is_some_and(|p| p.0 >= kh.0) {
            return Err(StateError::Corrupt(format!(
                "snapshot entries out of order at key hash {kh}"
            )));
        }
        if value.is_empty() {
            return Err(StateError::EmptyValue { key_hash: *kh });
        }
        previous = Some(*kh);
        value_set.push((KeyHash(kh.0), Some(value.clone())));
    }
    let reader = Fresh {
        inner: Reader(store),
        previous_root: version.checked_sub(1).map(root_node_key),
    };
    let (root, batch) = Sha256Jmt::new(&reader)
        .put_value_set(value_set, version)
        .map_err(map_jmt_error)?;
    let root = Hash(root.0);
    let mut update = to_update(version, root, batch)?;
    // The previous version never existed here: nothing of it to mark stale.
    update.stale.retain(|s| s.stale_since_version != version);
    Ok((root, update))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::state::{apply, get_with_proof, root_at, verify_membership, MemoryStore};

    /// A store with versions 0..=5 of changing state; returns it and the root of version 4.
    fn history() -> (MemoryStore, Hash) {
        let mut store = MemoryStore::new();
        let mut root4 = Hash([0; 32]);
        for v in 0..=5u64 {
            let mut writes = BTreeMap::new();
            for i in 0..40u64 {
                if (i + v) % 3 == 0 {
                    writes.insert(
                        format!("k/{i}").into_bytes(),
                        Some(format!("v{v}/{i}").into_bytes()),
                    );
                }
            }
            if v == 3 {
                writes.insert(b"k/0".to_vec(), None);
            }
            let (root, update) = apply(&store, v, &writes).expect("apply");
            store.commit(update).expect("commit");
            if v == 4 {
                root4 = root;
            }
        }
        (store, root4)
    }

    #[test]
    fn a_version_rebuilt_from_its_pages_has_its_root_and_answers_proofs() {
        let (store, root4) = history();
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = entries(&store, 4, after, 7).expect("page");
            assert!(page.len() <= 7);
            let Some(last) = page.last() else { break };
            after = Some(last.0);
            all.extend(page);
        }
        assert!(all.len() > 20, "{}", all.len());
        assert!(
            all.windows(2).all(|w| w[0].0 .0 < w[1].0 .0),
            "not in key-hash order"
        );
        assert!(
            !all.iter().any(|(_, v)| v.as_slice() == b"v0/0"),
            "a deleted key was listed"
        );
        let mut fresh = MemoryStore::new();
        let (root, update) = import(&fresh, 4, &all).expect("import");
        assert_eq!(root, root4);
        fresh.commit_snapshot(update).expect("commit");
        assert_eq!(root_at(&fresh, 4).expect("root"), root4);
        let (value, proof) = get_with_proof(&fresh, b"k/2", 4).expect("read");
        let value = value.expect("present");
        assert!(verify_membership(&root4, b"k/2", &value, &proof).is_ok());
        // The store goes on from there like any other.
        let mut writes = BTreeMap::new();
        writes.insert(b"k/new".to_vec(), Some(b"x".to_vec()));
        let (_, next) = apply(&fresh, 5, &writes).expect("apply after import");
        fresh.commit(next).expect("commit 5");
    }

    #[test]
    fn a_tampered_snapshot_gives_another_root_or_is_refused() {
        let (store, root4) = history();
        let all = entries(&store, 4, None, MAX_PAGE_ENTRIES).expect("all");
        let empty = MemoryStore::new();
        let mut changed = all.clone();
        changed[3].1.push(b'!');
        assert_ne!(import(&empty, 4, &changed).expect("import").0, root4);
        let mut dropped = all.clone();
        dropped.remove(5);
        assert_ne!(import(&empty, 4, &dropped).expect("import").0, root4);
        let mut swapped = all.clone();
        swapped.swap(1, 2);
        assert!(matches!(
            import(&empty, 4, &swapped),
            Err(StateError::Corrupt(_))
        ));
        assert!(import(&store, 6, &all).is_err(), "a store with versions");
    }
}
