//! Versioned writes and proof reads over a [`StateStore`], through `jmt`.

use std::collections::BTreeMap;

use jmt::storage::TreeUpdateBatch;
use jmt::{KeyHash, Sha256Jmt};
use serde::{Deserialize, Serialize};

use super::adapter::{encode_node, encode_node_key, map_jmt_error, Reader};
use super::proof::{key_hash, value_hash, verify_hashed, StateProof};
use super::store::{root_node_key, StateStore};
use super::StateError;
use crate::Hash;

/// One tree node to store: `key` as documented on [`StateStore`], `node` opaque bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeWrite {
    /// Storage key (`version BE || num_nibbles || packed nibbles`).
    pub key: Vec<u8>,
    /// Node bytes.
    pub node: Vec<u8>,
}

/// One entry of the value index: `key_hash` holds `value` from `version` on (`None`: deleted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueWrite {
    /// `SHA-256(key)`.
    pub key_hash: Hash,
    /// The version written.
    pub version: u64,
    /// The new value, `None` for a deletion.
    pub value: Option<Vec<u8>>,
}

/// A node no longer reachable from versions `>= stale_since_version`: it may be deleted once
/// every version below `stale_since_version` has been pruned.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StaleNode {
    /// First version that no longer reaches the node.
    pub stale_since_version: u64,
    /// Storage key of the node.
    pub node_key: Vec<u8>,
}

/// Everything one version adds to the store, as plain data. The caller persists it
/// atomically with the rest of its block; [`apply`] itself writes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateUpdate {
    /// The version this update creates.
    pub version: u64,
    /// The state root at `version`.
    pub root: Hash,
    /// New nodes, sorted by key (includes the root node of `version`).
    pub nodes: Vec<NodeWrite>,
    /// Value-index entries, sorted by `(version, key_hash)`.
    pub values: Vec<ValueWrite>,
    /// Stale-node index entries, sorted; always includes the previous version's root.
    pub stale: Vec<StaleNode>,
}

/// The version that must come after `latest` (0 when nothing is committed).
pub(crate) fn next_version(latest: Option<u64>) -> Result<u64, StateError> {
    match latest {
        None => Ok(0),
        // u64::MAX is jmt's "pre-genesis" version and may never be used.
        Some(v) if v >= u64::MAX - 1 => Err(StateError::VersionOverflow),
        Some(v) => Ok(v + 1),
    }
}

/// Computes version `version` from the latest committed one and `writes` (`key -> Some(value)`
/// sets, `key -> None` deletes), without writing anything.
///
/// Returns the new root and the [`StateUpdate`] to persist. `version` must be exactly the next
/// version (0 for genesis, then `latest + 1`); an empty `writes` still creates the version (with
/// the previous root). Keys and values must be non-empty.
pub fn apply<S: StateStore + ?Sized>(
    store: &S,
    version: u64,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<(Hash, StateUpdate), StateError> {
    let expected = next_version(store.latest_version()?)?;
    if version != expected {
        return Err(StateError::VersionNotNext {
            expected,
            got: version,
        });
    }
    let mut value_set = Vec::with_capacity(writes.len());
    for (key, value) in writes {
        if key.is_empty() {
            return Err(StateError::EmptyKey);
        }
        let kh = key_hash(key);
        if value.as_ref().is_some_and(|v| v.is_empty()) {
            return Err(StateError::EmptyValue { key_hash: kh });
        }
        value_set.push((KeyHash(kh.0), value.clone()));
    }
    let reader = Reader(store);
    let tree = Sha256Jmt::new(&reader);
    let (root, batch) = tree
        .put_value_set(value_set, version)
        .map_err(map_jmt_error)?;
    let root = Hash(root.0);
    let update = to_update(version, root, batch)?;
    Ok((root, update))
}

pub(crate) fn to_update(
    version: u64,
    root: Hash,
    batch: TreeUpdateBatch,
) -> Result<StateUpdate, StateError> {
    let mut nodes = batch
        .node_batch
        .nodes()
        .iter()
        .map(|(k, n)| {
            Ok(NodeWrite {
                key: encode_node_key(k),
                node: encode_node(n)?,
            })
        })
        .collect::<Result<Vec<_>, StateError>>()?;
    // jmt's NodeKey order is our byte order already; sorting makes it a checked fact.
    nodes.sort_by(|a, b| a.key.cmp(&b.key));
    let root_key = root_node_key(version);
    if nodes
        .binary_search_by(|n| n.key.as_slice().cmp(&root_key))
        .is_err()
    {
        return Err(StateError::Tree(format!(
            "jmt wrote no root node for version {version}"
        )));
    }
    let values = batch
        .node_batch
        .values()
        .iter()
        .map(|((v, kh), value)| ValueWrite {
            key_hash: Hash(kh.0),
            version: *v,
            value: value.clone(),
        })
        .collect();
    let mut stale: Vec<StaleNode> = batch
        .stale_node_index_batch
        .iter()
        .map(|s| StaleNode {
            stale_since_version: s.stale_since_version,
            node_key: encode_node_key(&s.node_key),
        })
        .collect();
    // jmt does not mark the previous root stale when a version changes nothing (it copies the
    // root to the new version) nor when the previous root is the empty (null) node; it is never
    // reachable from `version` on, so index it here to keep pruning complete.
    if version > 0 {
        let prev = StaleNode {
            stale_since_version: version,
            node_key: root_node_key(version - 1),
        };
        if !stale.contains(&prev) {
            stale.push(prev);
        }
    }
    stale.sort();
    Ok(StateUpdate {
        version,
        root,
        nodes,
        values,
        stale,
    })
}

/// The state root at `version`; [`StateError::VersionNotFound`] if it was never committed or
/// has been pruned. The empty state's root is [`super::EMPTY_ROOT`].
pub fn root_at<S: StateStore + ?Sized>(store: &S, version: u64) -> Result<Hash, StateError> {
    let reader = Reader(store);
    match Sha256Jmt::new(&reader)
        .get_root_hash_option(version)
        .map_err(map_jmt_error)?
    {
        Some(root) => Ok(Hash(root.0)),
        None => Err(StateError::VersionNotFound { version }),
    }
}

/// The value of `key` at `version` (no proof).
pub fn get<S: StateStore + ?Sized>(
    store: &S,
    key: &[u8],
    version: u64,
) -> Result<Option<Vec<u8>>, StateError> {
    if store.get_node(&root_node_key(version))?.is_none() {
        return Err(StateError::VersionNotFound { version });
    }
    Ok(store.get_value(&key_hash(key), version)?)
}

/// The value of `key` at `version` with a proof of membership (`Some`) or absence (`None`)
/// against [`root_at`]`(version)`.
///
/// The proof is checked with our verifier before it is returned, so an inconsistent store
/// surfaces as [`StateError::Corrupt`] instead of as a bad proof.
pub fn get_with_proof<S: StateStore + ?Sized>(
    store: &S,
    key: &[u8],
    version: u64,
) -> Result<(Option<Vec<u8>>, StateProof), StateError> {
    let root = root_at(store, version)?;
    let kh = key_hash(key);
    let reader = Reader(store);
    let (value, jmt_proof) = Sha256Jmt::new(&reader)
        .get_with_proof(KeyHash(kh.0), version)
        .map_err(map_jmt_error)?;
    let proof = StateProof::try_from(&jmt_proof)
        .map_err(|e| StateError::Tree(format!("cannot convert jmt proof: {e}")))?;
    let vh = value.as_deref().map(value_hash);
    verify_hashed(&root, &kh, vh.as_ref(), &proof).map_err(|e| {
        StateError::Corrupt(format!("proof for version {version} does not verify: {e}"))
    })?;
    Ok((value, proof))
}
