//! The only place that touches `jmt` types: our [`StateStore`] seen as a `jmt` `TreeReader`,
//! node key / node byte encodings, error mapping, and the conversion of `jmt`'s proof into our
//! [`StateProof`].

use jmt::proof::SparseMerkleProof;
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};
use serde::Deserialize;
use sha2::Sha256;

use super::proof::{
    internal_hash, leaf_hash, ProofLeaf, StateProof, StateProofError, PLACEHOLDER_HASH,
};
use super::store::{StateStore, StoreError};
use super::StateError;
use crate::Hash;

/// Node bytes that do not decode; carried through `anyhow` and recovered by [`map_jmt_error`].
#[derive(Debug, thiserror::Error)]
#[error("corrupt tree node under key {key}: {reason}")]
struct CorruptNode {
    key: String,
    reason: String,
}

/// `store` as a `jmt` reader.
pub(crate) struct Reader<'a, S: ?Sized>(pub(crate) &'a S);

impl<S: StateStore + ?Sized> TreeReader for Reader<'_, S> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let key = encode_node_key(node_key);
        match self.0.get_node(&key)? {
            None => Ok(None),
            Some(bytes) => Ok(Some(decode_node(&key, &bytes)?)),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.0.get_value(&Hash(key_hash.0), max_version)?)
    }

    /// Used only by `jmt::restore` (state sync from a snapshot), which we do not use: the store
    /// has no order-aware index for it, so this always fails rather than answer wrongly.
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Err(anyhow::anyhow!(
            "get_rightmost_leaf is not supported: jmt restore is not used"
        ))
    }
}

/// `version BE || num_nibbles || packed nibbles` (see [`StateStore`]).
pub(crate) fn encode_node_key(node_key: &NodeKey) -> Vec<u8> {
    let path = node_key.nibble_path();
    let n = path.num_nibbles();
    let mut out = Vec::with_capacity(9 + n.div_ceil(2));
    out.extend_from_slice(&node_key.version().to_be_bytes());
    // A nibble path has at most 64 nibbles (jmt invariant), so this fits a byte.
    out.push(u8::try_from(n).unwrap_or(u8::MAX));
    for i in 0..n {
        let nibble = u8::from(path.get_nibble(i));
        if i % 2 == 0 {
            out.push(nibble << 4);
        } else if let Some(last) = out.last_mut() {
            *last |= nibble;
        }
    }
    out
}

/// Node bytes: BCS of `jmt`'s node.
pub(crate) fn encode_node(node: &Node) -> Result<Vec<u8>, StateError> {
    bcs::to_bytes(node).map_err(|e| StateError::Tree(format!("cannot encode a tree node: {e}")))
}

fn decode_node(key: &[u8], bytes: &[u8]) -> Result<Node, CorruptNode> {
    bcs::from_bytes(bytes).map_err(|e| CorruptNode {
        key: hex::encode(key),
        reason: e.to_string(),
    })
}

/// Recovers our error types from `jmt`'s `anyhow` chain.
pub(crate) fn map_jmt_error(err: anyhow::Error) -> StateError {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return StateError::Store(e.clone());
        }
        if let Some(e) = cause.downcast_ref::<CorruptNode>() {
            return StateError::Corrupt(e.to_string());
        }
    }
    StateError::Tree(format!("{err:#}"))
}

/// Mirror of `jmt`'s `SparseMerkleProof` serde layout (its siblings are `pub(crate)`).
#[derive(Deserialize)]
struct JmtProofMirror {
    leaf: Option<JmtLeafMirror>,
    siblings: Vec<JmtNodeMirror>,
    #[allow(dead_code)]
    phantom_hasher: (),
}

#[derive(Deserialize)]
struct JmtLeafMirror {
    key_hash: [u8; 32],
    value_hash: [u8; 32],
}

#[derive(Deserialize)]
struct JmtInternalMirror {
    left_child: [u8; 32],
    right_child: [u8; 32],
}

/// Mirror of `jmt`'s `SparseMerkleNode` (variant order matters).
#[derive(Deserialize)]
enum JmtNodeMirror {
    Null,
    Internal(JmtInternalMirror),
    Leaf(JmtLeafMirror),
}

impl JmtNodeMirror {
    fn hash(&self) -> Hash {
        match self {
            JmtNodeMirror::Null => PLACEHOLDER_HASH,
            JmtNodeMirror::Internal(n) => internal_hash(&Hash(n.left_child), &Hash(n.right_child)),
            JmtNodeMirror::Leaf(l) => leaf_hash(&Hash(l.key_hash), &Hash(l.value_hash)),
        }
    }
}

/// The bridge from `jmt`'s proof: `jmt` keeps each sibling as a node (62 B borsh) so it can
/// coalesce on deletes; we keep only its hash (32 B). The proof is read through its serde form
/// (BCS round trip into a mirror struct) because `jmt` does not expose its siblings; the
/// layout is pinned by `jmt = "=0.12.0"` and checked by the cross-tests, which verify every
/// converted proof with both verifiers.
impl TryFrom<&SparseMerkleProof<Sha256>> for StateProof {
    type Error = StateProofError;

    fn try_from(proof: &SparseMerkleProof<Sha256>) -> Result<StateProof, StateProofError> {
        let bytes = bcs::to_bytes(proof)
            .map_err(|_| StateProofError::Malformed("jmt proof does not encode"))?;
        let mirror: JmtProofMirror = bcs::from_bytes(&bytes)
            .map_err(|_| StateProofError::Malformed("jmt proof layout not recognised"))?;
        let leaf = mirror.leaf.map(|l| ProofLeaf {
            key_hash: Hash(l.key_hash),
            value_hash: Hash(l.value_hash),
        });
        StateProof::new(
            leaf,
            mirror.siblings.iter().map(JmtNodeMirror::hash).collect(),
        )
    }
}
