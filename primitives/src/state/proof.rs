//! The compact state proof and its pure verifier (no `jmt` code runs here).
//!
//! # Hashing (bit-compatible with `jmt` 0.12 instantiated with SHA-256)
//! - `key_hash   = SHA-256(key)`
//! - `value_hash = SHA-256(value)`
//! - `leaf       = SHA-256("JMT::LeafNode" || key_hash || value_hash)`
//! - `internal   = SHA-256("JMT::IntrnalNode" || left || right)` (sic: 16 bytes, a vowel chopped)
//! - an empty subtree is [`PLACEHOLDER_HASH`], the 32 ASCII bytes
//!   `SPARSE_MERKLE_PLACEHOLDER_HASH__` (a constant, not a digest). The empty tree's root is
//!   therefore [`EMPTY_ROOT`] `==` [`PLACEHOLDER_HASH`].
//!
//! The tree is a binary sparse Merkle tree of depth 256 over `key_hash`, read most significant
//! bit first (bit `d` of the path is bit `7 - d % 8` of byte `d / 8`; `0` = left, `1` = right),
//! in which every subtree holding one leaf is replaced by that leaf and every empty subtree by
//! the placeholder.
//!
//! # A proof
//! `leaf` is the leaf met on the key's path (if any) and `siblings` are the hashes next to the
//! path, **bottom-up**: `siblings[0]` is the sibling of the node at depth `n = siblings.len()`,
//! `siblings[n - 1]` the sibling of the root's child. Sibling `i` sits at depth `n - i`, so it is
//! combined with the running hash on the side given by path bit `n - 1 - i`.
//! - membership: `leaf.key_hash == key_hash` and `leaf.value_hash == value_hash`;
//! - absence, path ends in an empty subtree: `leaf` is `None`, the walk starts from the
//!   placeholder;
//! - absence, path ends in another leaf: `leaf.key_hash != key_hash` and the two key hashes share
//!   at least `n` leading bits (so the key would have landed in that leaf's one-leaf subtree).
//!
//! # Byte format (canonical BCS, what [`StateProof::to_bytes`] returns)
//! ```text
//! leaf:     0x00                                   no leaf on the path
//!         | 0x01 key_hash[32] value_hash[32]        the leaf met on the path
//! bitmap:   uleb128(B) byte[B]     B = ceil(n / 8); bit i (byte i / 8, mask 1 << (i % 8)) set
//!                                  <=> siblings[i] is the placeholder (elided below)
//! explicit: uleb128(S) hash[32]*S  the non-placeholder siblings, bottom-up
//! ```
//! `n = S + popcount(bitmap) <= 256`. Decoding refuses (non-canonical): a bitmap of the wrong
//! length, a set padding bit, an explicit sibling equal to the placeholder, trailing bytes,
//! over-long lengths, and anything longer than [`MAX_PROOF_BYTES`]. A membership proof is thus
//! `65 + 2 + ceil(n/8) + 32·S` bytes with `S <= n` (plus one byte when `S >= 128`).

use serde::{Deserialize, Serialize};

use crate::encoding::{self, DecodeError};
use crate::Hash;

/// Most siblings a proof may carry: one per bit of a 256-bit key hash.
pub const MAX_PROOF_SIBLINGS: usize = 256;

/// Longest valid encoding: leaf (1 + 64), bitmap (1 + 32), siblings (2 + 256·32).
pub const MAX_PROOF_BYTES: usize =
    1 + 64 + 1 + MAX_PROOF_SIBLINGS / 8 + 2 + 32 * MAX_PROOF_SIBLINGS;

/// The hash of an empty subtree, as `jmt` defines it: 32 ASCII bytes, not a SHA-256 output.
pub const PLACEHOLDER_HASH: Hash = Hash(*b"SPARSE_MERKLE_PLACEHOLDER_HASH__");

/// Root of the empty state (no key at all): the placeholder.
pub const EMPTY_ROOT: Hash = PLACEHOLDER_HASH;

/// Domain separator of a leaf hash (`jmt`'s `LEAF_DOMAIN_SEPARATOR`).
pub const LEAF_DOMAIN: &[u8] = b"JMT::LeafNode";

/// Domain separator of an internal-node hash (`jmt`'s `INTERNAL_DOMAIN_SEPARATOR`).
pub const INTERNAL_DOMAIN: &[u8] = b"JMT::IntrnalNode";

/// `SHA-256(key)`: where a key lives in the tree.
pub fn key_hash(key: &[u8]) -> Hash {
    Hash::digest(key)
}

/// `SHA-256(value)`: what a leaf commits to.
pub fn value_hash(value: &[u8]) -> Hash {
    Hash::digest(value)
}

/// `SHA-256("JMT::LeafNode" || key_hash || value_hash)`.
pub fn leaf_hash(key_hash: &Hash, value_hash: &Hash) -> Hash {
    Hash::digest_parts(&[LEAF_DOMAIN, &key_hash.0, &value_hash.0])
}

/// `SHA-256("JMT::IntrnalNode" || left || right)`.
pub fn internal_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::digest_parts(&[INTERNAL_DOMAIN, &left.0, &right.0])
}

/// Bit `depth` (0 = most significant bit of byte 0) of a key hash; `depth < 256`.
fn path_bit(key_hash: &Hash, depth: usize) -> bool {
    (key_hash.0[depth / 8] >> (7 - depth % 8)) & 1 == 1
}

/// Number of leading bits two key hashes share (256 when equal).
fn common_prefix_bits(a: &Hash, b: &Hash) -> usize {
    for (i, (x, y)) in a.0.iter().zip(b.0.iter()).enumerate() {
        let diff = x ^ y;
        if diff != 0 {
            return i * 8 + diff.leading_zeros() as usize;
        }
    }
    256
}

/// The leaf a proof's path ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofLeaf {
    /// `SHA-256(key)` of the leaf's key.
    pub key_hash: Hash,
    /// `SHA-256(value)` of the leaf's value.
    pub value_hash: Hash,
}

impl ProofLeaf {
    /// The leaf's node hash.
    pub fn hash(&self) -> Hash {
        leaf_hash(&self.key_hash, &self.value_hash)
    }
}

/// A compact membership or absence proof for one key against one state root.
///
/// Holds at most [`MAX_PROOF_SIBLINGS`] siblings (enforced by [`StateProof::new`], by every
/// decoder and again by the verifier). See the module docs for the hashing and byte format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ProofWire", into = "ProofWire")]
pub struct StateProof {
    leaf: Option<ProofLeaf>,
    /// All siblings bottom-up, placeholders included (they are elided only on the wire).
    siblings: Vec<Hash>,
}

/// The on-the-wire form: placeholders replaced by a bitmap.
#[derive(Serialize, Deserialize)]
struct ProofWire {
    leaf: Option<ProofLeaf>,
    placeholders: Vec<u8>,
    siblings: Vec<Hash>,
}

impl From<StateProof> for ProofWire {
    fn from(p: StateProof) -> ProofWire {
        let mut placeholders = vec![0u8; p.siblings.len().div_ceil(8)];
        let mut siblings = Vec::with_capacity(p.siblings.len());
        for (i, s) in p.siblings.into_iter().enumerate() {
            if s == PLACEHOLDER_HASH {
                placeholders[i / 8] |= 1 << (i % 8);
            } else {
                siblings.push(s);
            }
        }
        ProofWire {
            leaf: p.leaf,
            placeholders,
            siblings,
        }
    }
}

impl TryFrom<ProofWire> for StateProof {
    type Error = StateProofError;

    fn try_from(w: ProofWire) -> Result<StateProof, StateProofError> {
        let elided: usize = w.placeholders.iter().map(|b| b.count_ones() as usize).sum();
        let depth = w.siblings.len() + elided;
        if depth > MAX_PROOF_SIBLINGS {
            return Err(StateProofError::TooManySiblings { count: depth });
        }
        if w.placeholders.len() != depth.div_ceil(8) {
            return Err(StateProofError::Malformed(
                "placeholder bitmap has the wrong length",
            ));
        }
        if depth % 8 != 0 {
            let last = w.placeholders.last().copied().unwrap_or(0);
            if last >> (depth % 8) != 0 {
                return Err(StateProofError::Malformed(
                    "placeholder bitmap padding is not zero",
                ));
            }
        }
        if w.siblings.contains(&PLACEHOLDER_HASH) {
            return Err(StateProofError::Malformed(
                "a placeholder sibling must be elided through the bitmap",
            ));
        }
        let mut explicit = w.siblings.into_iter();
        let mut siblings = Vec::with_capacity(depth);
        for i in 0..depth {
            if w.placeholders[i / 8] & (1 << (i % 8)) != 0 {
                siblings.push(PLACEHOLDER_HASH);
            } else {
                // Cannot run out: `depth` counts exactly the explicit siblings plus the set bits.
                siblings.push(explicit.next().ok_or(StateProofError::Malformed(
                    "fewer explicit siblings than the bitmap announces",
                ))?);
            }
        }
        Ok(StateProof {
            leaf: w.leaf,
            siblings,
        })
    }
}

impl StateProof {
    /// A proof from its leaf and all its siblings bottom-up (placeholders included).
    pub fn new(
        leaf: Option<ProofLeaf>,
        siblings: Vec<Hash>,
    ) -> Result<StateProof, StateProofError> {
        if siblings.len() > MAX_PROOF_SIBLINGS {
            return Err(StateProofError::TooManySiblings {
                count: siblings.len(),
            });
        }
        Ok(StateProof { leaf, siblings })
    }

    /// The leaf met on the key's path, if any.
    pub fn leaf(&self) -> Option<&ProofLeaf> {
        self.leaf.as_ref()
    }

    /// All siblings, bottom-up, placeholders included.
    pub fn siblings(&self) -> &[Hash] {
        &self.siblings
    }

    /// Depth of the path's end (= number of siblings).
    pub fn depth(&self) -> usize {
        self.siblings.len()
    }

    /// The canonical bytes (see the module docs for the layout).
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::to_bytes(self)
    }

    /// Decodes canonical bytes, refusing inputs over [`MAX_PROOF_BYTES`] and any other encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<StateProof, StateProofError> {
        encoding::from_bytes_limited(bytes, MAX_PROOF_BYTES).map_err(StateProofError::Decode)
    }

    /// The root this proof implies for `key_hash`, walking from the leaf (or the placeholder).
    fn implied_root(&self, key_hash: &Hash) -> Hash {
        let n = self.siblings.len();
        let start = self.leaf.as_ref().map_or(PLACEHOLDER_HASH, ProofLeaf::hash);
        self.siblings
            .iter()
            .enumerate()
            .fold(start, |acc, (i, sibling)| {
                if path_bit(key_hash, n - 1 - i) {
                    internal_hash(sibling, &acc)
                } else {
                    internal_hash(&acc, sibling)
                }
            })
    }
}

/// Why a state proof was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateProofError {
    /// More siblings than a 256-bit path has.
    #[error("proof has {count} siblings, more than the maximum of {MAX_PROOF_SIBLINGS}")]
    TooManySiblings {
        /// Number of siblings claimed.
        count: usize,
    },
    /// The wire form is inconsistent.
    #[error("malformed proof: {0}")]
    Malformed(&'static str),
    /// The bytes are not the canonical encoding of a proof.
    #[error("proof bytes refused: {0}")]
    Decode(DecodeError),
    /// A value was claimed, but the key's path ends in an empty subtree.
    #[error("expected a membership proof, but the proof ends in an empty subtree")]
    NotMembership,
    /// A value was claimed, but the proof's leaf holds another key.
    #[error("the proof's leaf holds another key")]
    KeyMismatch,
    /// The proof's leaf holds the key, but with another value.
    #[error("the proof's leaf holds another value for this key")]
    ValueMismatch,
    /// Absence was claimed, but the proof's leaf holds the key.
    #[error("absence claimed, but the proof's leaf holds this key")]
    KeyPresent,
    /// Absence was claimed with a leaf the key's path would not reach.
    #[error(
        "the proof's leaf shares {common} leading bits with the key, fewer than the depth {depth}"
    )]
    LeafNotOnPath {
        /// Leading bits the key hashes share.
        common: usize,
        /// Depth of the leaf in the proof.
        depth: usize,
    },
    /// The proof is well formed but leads to another root.
    #[error("root mismatch: expected {expected}, the proof gives {computed}")]
    RootMismatch {
        /// The trusted root.
        expected: Hash,
        /// The root the proof implies.
        computed: Hash,
    },
}

/// Verifies that `key` holds `value` in the state with root `root`.
pub fn verify_membership(
    root: &Hash,
    key: &[u8],
    value: &[u8],
    proof: &StateProof,
) -> Result<(), StateProofError> {
    verify(root, key, Some(value), proof)
}

/// Verifies that `key` holds no value in the state with root `root`.
pub fn verify_absence(root: &Hash, key: &[u8], proof: &StateProof) -> Result<(), StateProofError> {
    verify(root, key, None, proof)
}

/// Verifies membership (`Some(value)`) or absence (`None`) of `key` against `root`.
pub fn verify(
    root: &Hash,
    key: &[u8],
    value: Option<&[u8]>,
    proof: &StateProof,
) -> Result<(), StateProofError> {
    let vh = value.map(value_hash);
    verify_hashed(root, &key_hash(key), vh.as_ref(), proof)
}

/// [`verify`] on hashes: `value_hash` is `Some(SHA-256(value))` for membership, `None` for
/// absence.
pub fn verify_hashed(
    root: &Hash,
    key_hash: &Hash,
    value_hash: Option<&Hash>,
    proof: &StateProof,
) -> Result<(), StateProofError> {
    let depth = proof.siblings.len();
    if depth > MAX_PROOF_SIBLINGS {
        return Err(StateProofError::TooManySiblings { count: depth });
    }
    match (value_hash, proof.leaf.as_ref()) {
        (Some(_), None) => return Err(StateProofError::NotMembership),
        (Some(vh), Some(leaf)) => {
            if leaf.key_hash != *key_hash {
                return Err(StateProofError::KeyMismatch);
            }
            if leaf.value_hash != *vh {
                return Err(StateProofError::ValueMismatch);
            }
        }
        (None, Some(leaf)) => {
            if leaf.key_hash == *key_hash {
                return Err(StateProofError::KeyPresent);
            }
            let common = common_prefix_bits(key_hash, &leaf.key_hash);
            if common < depth {
                return Err(StateProofError::LeafNotOnPath { common, depth });
            }
        }
        (None, None) => {}
    }
    let computed = proof.implied_root(key_hash);
    if computed != *root {
        return Err(StateProofError::RootMismatch {
            expected: *root,
            computed,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_bits() {
        let a = Hash([0b1010_0000; 32]);
        let mut b = a;
        b.0[1] = 0b1011_0000;
        assert_eq!(common_prefix_bits(&a, &b), 8 + 3);
        assert_eq!(common_prefix_bits(&a, &a), 256);
        assert!(path_bit(&a, 0));
        assert!(!path_bit(&a, 1));
        assert!(path_bit(&a, 2));
    }

    #[test]
    fn wire_roundtrip_elides_placeholders() -> Result<(), StateProofError> {
        let s = Hash([7; 32]);
        let p = StateProof::new(None, vec![PLACEHOLDER_HASH, s, PLACEHOLDER_HASH])?;
        let bytes = p.to_bytes();
        // 0x00 | len 1, bitmap 0b101 | len 1, one hash
        assert_eq!(bytes.len(), 1 + 2 + 1 + 32);
        assert_eq!(&bytes[..4], &[0, 1, 0b101, 1]);
        assert_eq!(StateProof::from_bytes(&bytes)?, p);
        Ok(())
    }
}
