//! The storage the state tree reads from, in plain bytes, and an in-memory implementation.

use std::collections::{BTreeMap, BTreeSet};

use super::tree::StateUpdate;
use super::StateError;
use crate::Hash;

/// A failure of the underlying storage (e.g. a RocksDB read error), passed through unchanged.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[error("state store: {0}")]
pub struct StoreError(pub String);

/// Read access to committed state: tree nodes, the value index and the latest version.
///
/// # Node keys (Diem encoding)
/// A tree node is stored under `version (u64, big-endian) || n (u8, 0..=64) || nibbles`, where
/// `nibbles` are the `n` nibbles of the node's path from the root packed two per byte, high
/// nibble first, the unused low half of an odd last byte zero. Byte order of these keys is
/// therefore `(version, n, nibbles)`: the order of `jmt`'s `NodeKey`, and all nodes of one
/// version are contiguous, so a RocksDB column family keyed this way can be range-scanned or
/// range-deleted per version. The root of version `v` is at [`root_node_key`]`(v)`
/// (9 bytes: `v` BE then `0x00`).
///
/// # Node bytes
/// Opaque to stores: this module writes and reads them (today the BCS encoding of `jmt`'s node
/// type). Hashes never depend on them.
///
/// # Persisting
/// Implementations only store and return bytes; they never interpret node bytes. A host
/// persists a [`StateUpdate`] atomically (one RocksDB `WriteBatch` with the rest of the block):
/// - `nodes`: `node_key -> node` (e.g. column family `jmt_nodes`, keyed as above);
/// - `values`: `(key_hash, version) -> Option<value>` (e.g. `jmt_values` keyed
///   `key_hash || !version` BE so that a forward seek finds the newest version `<= max`);
/// - `stale`: the pruning index (e.g. `stale` keyed `stale_since_version BE || node_key`);
/// - `version`: the new latest version.
///
/// There is deliberately no "rightmost leaf" query: `jmt` needs one only to resume a snapshot
/// restore (`jmt::restore`), which we do not use; our adapter answers it with an error.
pub trait StateStore {
    /// The node bytes stored under `node_key`, if any.
    fn get_node(&self, node_key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// The newest value written for `key_hash` at a version `<= max_version`; `None` if there is
    /// none or the newest such write is a deletion.
    fn get_value(&self, key_hash: &Hash, max_version: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// The highest committed version, `None` before genesis (version 0) is committed.
    fn latest_version(&self) -> Result<Option<u64>, StoreError>;
}

/// Length of a root node key.
pub const ROOT_NODE_KEY_LEN: usize = 9;

/// The storage key of the root node of `version`: `version` big-endian, then `0x00`.
pub fn root_node_key(version: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(ROOT_NODE_KEY_LEN);
    key.extend_from_slice(&version.to_be_bytes());
    key.push(0);
    key
}

/// A [`StateStore`] in memory, for tests and tools. Not for production: it keeps everything
/// (unless [`MemoryStore::prune`] is called) and persists nothing.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    nodes: BTreeMap<Vec<u8>, Vec<u8>>,
    values: BTreeMap<(Hash, u64), Option<Vec<u8>>>,
    stale: BTreeSet<(u64, Vec<u8>)>,
    latest: Option<u64>,
}

impl MemoryStore {
    /// An empty store (nothing committed, not even genesis).
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Persists an update computed by [`apply`](super::apply) on this store.
    ///
    /// Refuses (and changes nothing) unless `update.version` is the next version and the update
    /// carries that version's root node, so two updates computed from the same parent cannot
    /// both be committed.
    pub fn commit(&mut self, update: StateUpdate) -> Result<(), StateError> {
        let expected = super::tree::next_version(self.latest)?;
        if update.version != expected {
            return Err(StateError::VersionNotNext {
                expected,
                got: update.version,
            });
        }
        let root_key = root_node_key(update.version);
        if !update.nodes.iter().any(|n| n.key == root_key) {
            return Err(StateError::Corrupt(format!(
                "update for version {} carries no root node",
                update.version
            )));
        }
        for n in update.nodes {
            self.nodes.insert(n.key, n.node);
        }
        for v in update.values {
            self.values.insert((v.key_hash, v.version), v.value);
        }
        for s in update.stale {
            self.stale.insert((s.stale_since_version, s.node_key));
        }
        self.latest = Some(update.version);
        Ok(())
    }

    /// Persists the first version of a store rebuilt from a snapshot
    /// ([`super::snapshot::import`]): only into an empty store.
    pub fn commit_snapshot(&mut self, update: StateUpdate) -> Result<(), StateError> {
        if let Some(latest) = self.latest {
            return Err(StateError::Corrupt(format!(
                "a snapshot goes into an empty store; this one holds version {latest}"
            )));
        }
        self.latest = update.version.checked_sub(1);
        let version = update.version;
        let result = self.commit(update);
        if result.is_err() {
            self.latest = None;
        }
        debug_assert!(result.is_err() || self.latest == Some(version));
        result
    }

    /// Deletes every node that no version `>= retain_from` needs (the nodes stale since a
    /// version `<= retain_from`) and their index entries; returns how many nodes were deleted.
    /// Afterwards versions below `retain_from` answer [`StateError::VersionNotFound`]. The value
    /// index is kept whole (a real store would also drop values superseded before
    /// `retain_from`).
    pub fn prune(&mut self, retain_from: u64) -> usize {
        let keep = self
            .stale
            .split_off(&(retain_from.saturating_add(1), Vec::new()));
        let dropped = core::mem::replace(&mut self.stale, keep);
        let mut removed = 0;
        for (_, node_key) in dropped {
            if self.nodes.remove(&node_key).is_some() {
                removed += 1;
            }
        }
        removed
    }

    /// Number of stored tree nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of entries in the stale-node index.
    pub fn stale_count(&self) -> usize {
        self.stale.len()
    }

    /// Total bytes of stored node keys and node bytes.
    pub fn node_bytes(&self) -> usize {
        self.nodes.iter().map(|(k, v)| k.len() + v.len()).sum()
    }
}

impl StateStore for MemoryStore {
    fn get_node(&self, node_key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.nodes.get(node_key).cloned())
    }

    fn get_value(&self, key_hash: &Hash, max_version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .values
            .range((*key_hash, 0)..=(*key_hash, max_version))
            .next_back()
            .and_then(|(_, v)| v.clone()))
    }

    fn latest_version(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.latest)
    }
}
