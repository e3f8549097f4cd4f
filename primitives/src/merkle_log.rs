//! The RFC 9162 (Certificate Transparency v2) Merkle tree log: the global append-only
//! transaction log whose root and size go into every block header.
//!
//! This module owns the log's hashing, its storage abstraction, proof generation, the proof wire
//! types and the pure proof verifiers. It does no IO: a store (in memory here, RocksDB in the
//! node) only answers [`LogReader`] queries and persists the nodes that [`nodes_for_append`]
//! (or [`MemoryLog::append`]) hands back.
//!
//! # Hashing (RFC 9162 §2.1.1)
//! - the root of the empty tree is `SHA-256("")` ([`EMPTY_ROOT`]);
//! - a leaf is `SHA-256(0x00 || data)` ([`leaf_hash`]);
//! - an interior node is `SHA-256(0x01 || left || right)` ([`node_hash`]);
//! - a tree of `n > 1` leaves splits at `k`, the largest power of two smaller than `n`:
//!   `MTH(D[0:n]) = node_hash(MTH(D[0:k]), MTH(D[k:n]))`.
//!
//! # Storage model
//! The store keeps only *perfect* nodes: node `(level, index)` is the hash of the perfect
//! subtree of `2^level` leaves starting at leaf `index * 2^level`; it exists in a log of `size`
//! leaves iff `(index + 1) * 2^level <= size`. Level 0 holds the leaf hashes.
//!
//! # Invariants
//! - Append-only: a perfect node, once created, never changes, so a store writes each node
//!   exactly once (in the same atomic batch as the rest of its block) and never rewrites it.
//! - Appending leaf `n` creates exactly `1 + trailing_ones(n)` nodes.
//! - The root of any size `s <= size` (including past sizes) costs `popcount(s)` node reads;
//!   an inclusion or consistency proof costs at most about `2 * log2(size)` distinct reads.
//! - Proofs are byte-for-byte RFC 9162 proofs (audit paths, bottom-up); their BCS encoding is a
//!   ULEB128 count followed by 32 raw bytes per hash. Decoding and verification refuse proofs
//!   longer than [`MAX_INCLUSION_PROOF_HASHES`] / [`MAX_CONSISTENCY_PROOF_HASHES`].
//! - Verifiers are pure, never panic, and accept a proof only if its length is exactly the one
//!   the sizes require.
//!
//! # Edge cases of consistency (decided here; RFC 9162 only defines `0 < old < new`)
//! - `old_size == new_size`: the proof must be empty and the two roots equal.
//! - `old_size == 0`: the empty tree is a prefix of every tree. The proof must be empty and the
//!   old root must be [`EMPTY_ROOT`]; nothing can be (or is) checked about the new root, which
//!   the caller must authenticate by other means (a signed header).
//! - `old_size > new_size`: refused.

use core::fmt;

use serde::de::{Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::Hash;

/// The largest inclusion proof accepted: a tree of at most `2^64 - 1` leaves has depth <= 64.
pub const MAX_INCLUSION_PROOF_HASHES: usize = 64;

/// The largest consistency proof accepted (a real one has at most about 65 hashes).
pub const MAX_CONSISTENCY_PROOF_HASHES: usize = 128;

/// The root of the empty log: `SHA-256("")`.
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// Domain-separation prefix of a leaf hash (RFC 9162 §2.1.1).
const LEAF_PREFIX: [u8; 1] = [0x00];
/// Domain-separation prefix of an interior node hash (RFC 9162 §2.1.1).
const NODE_PREFIX: [u8; 1] = [0x01];

/// The RFC 9162 hash of a leaf whose entry is `data`: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Hash::digest_parts(&[&LEAF_PREFIX, data])
}

/// The RFC 9162 hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::digest_parts(&[&NODE_PREFIX, left.as_bytes(), right.as_bytes()])
}

/// A perfect node created by an append, for the caller to persist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogNode {
    /// Height of the subtree: 0 for a leaf hash.
    pub level: u32,
    /// Position among the nodes of its level: the subtree covers leaves
    /// `index * 2^level .. (index + 1) * 2^level`.
    pub index: u64,
    /// The subtree's hash.
    pub hash: Hash,
}

/// Read access to a log's perfect nodes: all that root and proof generation need.
pub trait LogReader {
    /// The number of leaves in the log.
    fn size(&self) -> u64;

    /// The hash of the perfect subtree of `2^level` leaves starting at leaf `index * 2^level`,
    /// or `None` if the store does not hold it (then it does not exist for [`Self::size`] or
    /// the store is corrupt: callers get [`LogError::MissingNode`]).
    fn perfect_node(&self, level: u32, index: u64) -> Option<Hash>;
}

/// Why a root or proof could not be produced from a store.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum LogError {
    /// The requested tree size is larger than the log.
    #[error("tree size {size} is beyond the log size {log_size}")]
    SizeBeyondLog {
        /// The size asked for.
        size: u64,
        /// The log's size.
        log_size: u64,
    },
    /// The leaf index is not inside the requested tree.
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree size asked for.
        size: u64,
    },
    /// A consistency proof was asked from a larger to a smaller tree.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeLargerThanNew {
        /// The old size asked for.
        old_size: u64,
        /// The new size asked for.
        new_size: u64,
    },
    /// The store lacks a node that a log of its size must hold (a corrupt store).
    #[error("the store lacks perfect node (level {level}, index {index})")]
    MissingNode {
        /// The node's level.
        level: u32,
        /// The node's index.
        index: u64,
    },
    /// The log holds `u64::MAX` leaves and cannot grow.
    #[error("the log is full")]
    LogFull,
}

/// Why a proof was refused by [`verify_inclusion`] or [`verify_consistency`].
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum LogProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// The old tree is larger than the new one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeLargerThanNew {
        /// The claimed old size.
        old_size: u64,
        /// The claimed new size.
        new_size: u64,
    },
    /// The proof has more hashes than any valid proof of its kind.
    #[error("proof has {len} hashes, over the limit of {max}")]
    TooManyHashes {
        /// Number of hashes in the proof.
        len: usize,
        /// The limit for this kind of proof.
        max: usize,
    },
    /// The proof does not have the number of hashes the sizes (and index) require.
    #[error("proof has {actual} hashes but these sizes require exactly {expected}")]
    WrongProofLength {
        /// The number the sizes require.
        expected: usize,
        /// The number in the proof.
        actual: usize,
    },
    /// The inclusion proof does not lead from the leaf to the given root.
    #[error("inclusion proof does not lead from the leaf to the given root")]
    RootMismatch,
    /// The consistency proof does not lead to the given old root (for an old size of 0: the
    /// old root is not the empty-tree root).
    #[error("consistency proof does not lead to the given old root")]
    OldRootMismatch,
    /// The consistency proof does not lead to the given new root (for equal sizes: the roots
    /// differ).
    #[error("consistency proof does not lead to the given new root")]
    NewRootMismatch,
}

/// An RFC 9162 inclusion proof (audit path): sibling hashes from the leaf up to the root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// Sibling hashes, bottom-up; at most [`MAX_INCLUSION_PROOF_HASHES`] (enforced on decode
    /// and on verification).
    #[serde(deserialize_with = "de_inclusion_hashes")]
    pub hashes: Vec<Hash>,
}

impl InclusionProof {
    /// Wraps `hashes`, refusing more than [`MAX_INCLUSION_PROOF_HASHES`].
    pub fn new(hashes: Vec<Hash>) -> Result<Self, LogProofError> {
        check_len(hashes.len(), MAX_INCLUSION_PROOF_HASHES)?;
        Ok(InclusionProof { hashes })
    }
}

/// An RFC 9162 consistency proof between two sizes of the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// The proof's hashes in RFC 9162 order; at most [`MAX_CONSISTENCY_PROOF_HASHES`]
    /// (enforced on decode and on verification).
    #[serde(deserialize_with = "de_consistency_hashes")]
    pub hashes: Vec<Hash>,
}

impl ConsistencyProof {
    /// Wraps `hashes`, refusing more than [`MAX_CONSISTENCY_PROOF_HASHES`].
    pub fn new(hashes: Vec<Hash>) -> Result<Self, LogProofError> {
        check_len(hashes.len(), MAX_CONSISTENCY_PROOF_HASHES)?;
        Ok(ConsistencyProof { hashes })
    }
}

fn check_len(len: usize, max: usize) -> Result<(), LogProofError> {
    if len > max {
        return Err(LogProofError::TooManyHashes { len, max });
    }
    Ok(())
}

fn de_inclusion_hashes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
    d.deserialize_seq(BoundedHashes::<MAX_INCLUSION_PROOF_HASHES>)
}

fn de_consistency_hashes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
    d.deserialize_seq(BoundedHashes::<MAX_CONSISTENCY_PROOF_HASHES>)
}

/// Deserializes a sequence of at most `MAX` hashes, refusing longer ones before reading them.
struct BoundedHashes<const MAX: usize>;

impl<'de, const MAX: usize> Visitor<'de> for BoundedHashes<MAX> {
    type Value = Vec<Hash>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a sequence of at most {MAX} hashes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Hash>, A::Error> {
        let hint = seq.size_hint().unwrap_or(0);
        if hint > MAX {
            return Err(A::Error::invalid_length(hint, &self));
        }
        let mut out = Vec::with_capacity(hint);
        while let Some(h) = seq.next_element::<Hash>()? {
            if out.len() == MAX {
                return Err(A::Error::invalid_length(MAX + 1, &self));
            }
            out.push(h);
        }
        Ok(out)
    }
}

/// The largest power of two strictly smaller than `n` (`n >= 2`): RFC 9162's split point.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Memoizing node reads for one root or proof computation, so that each distinct perfect node
/// is read at most once.
struct NodeReads<'a, R: LogReader + ?Sized> {
    log: &'a R,
    seen: Vec<LogNode>,
}

impl<'a, R: LogReader + ?Sized> NodeReads<'a, R> {
    fn new(log: &'a R) -> Self {
        NodeReads {
            log,
            seen: Vec::new(),
        }
    }

    fn node(&mut self, level: u32, index: u64) -> Result<Hash, LogError> {
        if let Some(n) = self
            .seen
            .iter()
            .find(|n| n.level == level && n.index == index)
        {
            return Ok(n.hash);
        }
        let hash = self
            .log
            .perfect_node(level, index)
            .ok_or(LogError::MissingNode { level, index })?;
        self.seen.push(LogNode { level, index, hash });
        Ok(hash)
    }

    /// `MTH(D[start:end])` for a non-empty range whose `start` is a multiple of the largest
    /// power of two not above `end - start` (true of every subtree of the RFC 9162 recursion):
    /// the fold, right to left, of its maximal perfect subtrees.
    fn range_hash(&mut self, start: u64, end: u64) -> Result<Hash, LogError> {
        debug_assert!(start < end);
        let mut pieces: Vec<(u32, u64)> = Vec::new();
        let (mut offset, mut rest) = (start, end - start);
        while rest > 0 {
            let level = 63 - rest.leading_zeros();
            debug_assert!(offset % (1u64 << level) == 0, "unaligned subtree");
            pieces.push((level, offset >> level));
            offset += 1u64 << level;
            rest -= 1u64 << level;
        }
        let mut acc: Option<Hash> = None;
        for &(level, index) in pieces.iter().rev() {
            let h = self.node(level, index)?;
            acc = Some(match acc {
                None => h,
                Some(right) => node_hash(&h, &right),
            });
        }
        Ok(acc.unwrap_or(EMPTY_ROOT))
    }
}

/// The root of the first `size` leaves of `log` (any past size), in `popcount(size)` reads.
pub fn root_at<R: LogReader + ?Sized>(log: &R, size: u64) -> Result<Hash, LogError> {
    let log_size = log.size();
    if size > log_size {
        return Err(LogError::SizeBeyondLog { size, log_size });
    }
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    NodeReads::new(log).range_hash(0, size)
}

/// The RFC 9162 §2.1.3.1 inclusion proof `PATH(index, D[0:size])` of leaf `index` in the tree
/// of the first `size` leaves of `log`.
pub fn prove_inclusion<R: LogReader + ?Sized>(
    log: &R,
    index: u64,
    size: u64,
) -> Result<InclusionProof, LogError> {
    let log_size = log.size();
    if size > log_size {
        return Err(LogError::SizeBeyondLog { size, log_size });
    }
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    // Walk down from the root, noting the sibling range at each level (top-down).
    let mut ranges = Vec::new();
    let (mut start, mut end) = (0u64, size);
    while end - start > 1 {
        let k = split_point(end - start);
        if index < start + k {
            ranges.push((start + k, end));
            end = start + k;
        } else {
            ranges.push((start, start + k));
            start += k;
        }
    }
    let mut reads = NodeReads::new(log);
    let mut hashes = Vec::with_capacity(ranges.len());
    for &(s, e) in ranges.iter().rev() {
        hashes.push(reads.range_hash(s, e)?);
    }
    Ok(InclusionProof { hashes })
}

/// The RFC 9162 §2.1.4.1 consistency proof `PROOF(old_size, D[0:new_size])` between two sizes
/// of `log`; empty when `old_size` is 0 or equals `new_size` (see the module doc).
pub fn prove_consistency<R: LogReader + ?Sized>(
    log: &R,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProof, LogError> {
    let log_size = log.size();
    if new_size > log_size {
        return Err(LogError::SizeBeyondLog {
            size: new_size,
            log_size,
        });
    }
    if old_size > new_size {
        return Err(LogError::OldSizeLargerThanNew { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(ConsistencyProof::default());
    }
    // SUBPROOF(m, D[start:end], b), unrolled top-down; `old_size - start` is the relative m.
    let mut ranges = Vec::new();
    let (mut start, mut end, mut whole) = (0u64, new_size, true);
    loop {
        let len = end - start;
        let m = old_size - start;
        if m == len {
            if !whole {
                ranges.push((start, end));
            }
            break;
        }
        let k = split_point(len);
        if m <= k {
            ranges.push((start + k, end));
            end = start + k;
        } else {
            ranges.push((start, start + k));
            start += k;
            whole = false;
        }
    }
    let mut reads = NodeReads::new(log);
    let mut hashes = Vec::with_capacity(ranges.len());
    for &(s, e) in ranges.iter().rev() {
        hashes.push(reads.range_hash(s, e)?);
    }
    Ok(ConsistencyProof { hashes })
}

/// The perfect nodes that appending `leaf_hash` to `log` creates, lowest first: the leaf at
/// `(0, size)` and every parent it completes. Costs `trailing_ones(size)` reads. The caller
/// persists them (with the new size) in its own atomic batch.
pub fn nodes_for_append<R: LogReader + ?Sized>(
    log: &R,
    leaf_hash: Hash,
) -> Result<Vec<LogNode>, LogError> {
    let size = log.size();
    if size == u64::MAX {
        return Err(LogError::LogFull);
    }
    let mut node = LogNode {
        level: 0,
        index: size,
        hash: leaf_hash,
    };
    let mut out = vec![node];
    while node.index & 1 == 1 {
        let (level, index) = (node.level, node.index - 1);
        let left = log
            .perfect_node(level, index)
            .ok_or(LogError::MissingNode { level, index })?;
        node = LogNode {
            level: node.level + 1,
            index: node.index >> 1,
            hash: node_hash(&left, &node.hash),
        };
        out.push(node);
    }
    Ok(out)
}

/// The perfect nodes `(level, index)` a log of `size` leaves reduces to, highest level first:
/// one per set bit of `size`. They alone give its root ([`root_at`]) and every later append
/// ([`nodes_for_append`]), so a node that joins from a snapshot keeps only these.
pub fn frontier(size: u64) -> Vec<(u32, u64)> {
    (0..64u32)
        .rev()
        .filter(|l| (size >> l) & 1 == 1)
        .map(|l| (l, (size >> l) - 1))
        .collect()
}

/// Checks a snapshot's frontier `hashes` (in [`frontier`] order) against the certified `root`
/// of a log of `size` leaves, and returns the nodes to persist; `None` if they do not give
/// that root or are not as many as the frontier.
pub fn verified_frontier(size: u64, hashes: &[Hash], root: &Hash) -> Option<Vec<LogNode>> {
    let positions = frontier(size);
    if positions.len() != hashes.len() {
        return None;
    }
    let nodes: Vec<LogNode> = positions
        .into_iter()
        .zip(hashes)
        .map(|((level, index), hash)| LogNode {
            level,
            index,
            hash: *hash,
        })
        .collect();
    let log = NodeList { size, nodes };
    (root_at(&log, size).ok()? == *root).then_some(log.nodes)
}

/// A log of `size` leaves known by a few of its perfect nodes: a frontier, and the nodes that
/// appends to it create.
struct NodeList {
    size: u64,
    nodes: Vec<LogNode>,
}

impl LogReader for NodeList {
    fn size(&self) -> u64 {
        self.size
    }
    fn perfect_node(&self, level: u32, index: u64) -> Option<Hash> {
        self.nodes
            .iter()
            .find(|n| n.level == level && n.index == index)
            .map(|n| n.hash)
    }
}

/// An in-memory log: one vector of perfect nodes per level.
///
/// Invariant: `levels[l].len() == size >> l` for every level `l` (and no empty top level).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryLog {
    levels: Vec<Vec<Hash>>,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A log holding `leaf_hashes` in order.
    pub fn from_leaf_hashes<I: IntoIterator<Item = Hash>>(leaf_hashes: I) -> Self {
        let mut log = Self::new();
        for h in leaf_hashes {
            log.append(h);
        }
        log
    }

    /// Appends a leaf hash (see [`leaf_hash`]) and returns the perfect nodes it created, lowest
    /// first (the same list [`nodes_for_append`] computes).
    pub fn append(&mut self, leaf_hash: Hash) -> Vec<LogNode> {
        let mut out = Vec::new();
        let mut hash = leaf_hash;
        let mut level = 0usize;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            let index = row.len() as u64;
            row.push(hash);
            out.push(LogNode {
                level: level as u32,
                index,
                hash,
            });
            if index & 1 == 0 {
                break;
            }
            hash = node_hash(&row[row.len() - 2], &hash);
            level += 1;
        }
        out
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The current root ([`EMPTY_ROOT`] when empty).
    pub fn root(&self) -> Hash {
        #[allow(clippy::expect_used)]
        root_at(self, self.size()).expect("a MemoryLog holds every perfect node of its size")
    }

    /// The root of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, LogError> {
        root_at(self, size)
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, LogError> {
        prove_inclusion(self, index, size)
    }

    /// The consistency proof from the tree of `old_size` leaves to that of `new_size` leaves.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, LogError> {
        prove_consistency(self, old_size, new_size)
    }
}

impl LogReader for MemoryLog {
    fn size(&self) -> u64 {
        MemoryLog::size(self)
    }

    fn perfect_node(&self, level: u32, index: u64) -> Option<Hash> {
        let row = self.levels.get(usize::try_from(level).ok()?)?;
        row.get(usize::try_from(index).ok()?).copied()
    }
}

/// Number of hashes in the RFC 9162 inclusion path of leaf `index` in a tree of `size` leaves
/// (`index < size`): the iteration count of the §2.1.3.2 loop.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let (mut f, mut s) = (index, size - 1);
    let mut count = 0;
    while s != 0 {
        if f & 1 == 0 && f == s {
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        }
        f >>= 1;
        s >>= 1;
        count += 1;
    }
    count
}

/// Number of hashes in the RFC 9162 consistency proof from `old_size` to `new_size`
/// (`0 < old_size < new_size`), following the §2.1.4.2 loop.
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut count = 0;
    while s != 0 {
        if f & 1 == 0 && f == s {
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        }
        f >>= 1;
        s >>= 1;
        count += 1;
    }
    // The path walked has a first element plus `count` more; the first one is the old root,
    // left out of the proof, when the old size is a power of two.
    if old_size.is_power_of_two() {
        count
    } else {
        count + 1
    }
}

/// Verifies an RFC 9162 §2.1.3.2 inclusion proof: that `leaf_hash` is leaf `index` of the tree
/// of `tree_size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    tree_size: u64,
    proof: &InclusionProof,
    root: &Hash,
) -> Result<(), LogProofError> {
    if index >= tree_size {
        return Err(LogProofError::IndexOutOfRange {
            index,
            size: tree_size,
        });
    }
    let path = &proof.hashes;
    check_len(path.len(), MAX_INCLUSION_PROOF_HASHES)?;
    let expected = inclusion_proof_len(index, tree_size);
    if path.len() != expected {
        return Err(LogProofError::WrongProofLength {
            expected,
            actual: path.len(),
        });
    }
    let (mut f, mut s) = (index, tree_size - 1);
    let mut r = *leaf_hash;
    for p in path {
        if s == 0 {
            return Err(LogProofError::WrongProofLength {
                expected,
                actual: path.len(),
            });
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(LogProofError::WrongProofLength {
            expected,
            actual: path.len(),
        });
    }
    if r != *root {
        return Err(LogProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies an RFC 9162 §2.1.4.2 consistency proof: that the tree of `old_size` leaves with
/// root `old_root` is a prefix of the tree of `new_size` leaves with root `new_root`. See the
/// module doc for `old_size == 0` and `old_size == new_size`.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &ConsistencyProof,
) -> Result<(), LogProofError> {
    if old_size > new_size {
        return Err(LogProofError::OldSizeLargerThanNew { old_size, new_size });
    }
    let proof = &proof.hashes;
    check_len(proof.len(), MAX_CONSISTENCY_PROOF_HASHES)?;
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(LogProofError::WrongProofLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        if old_size == 0 && *old_root != EMPTY_ROOT {
            return Err(LogProofError::OldRootMismatch);
        }
        if old_size == new_size && old_root != new_root {
            return Err(LogProofError::NewRootMismatch);
        }
        return Ok(());
    }
    let expected = consistency_proof_len(old_size, new_size);
    if proof.len() != expected {
        return Err(LogProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    // Step 2: a power-of-two old tree is a node of the new one; its root starts the path.
    let (first, rest) = if old_size.is_power_of_two() {
        (*old_root, &proof[..])
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => {
                return Err(LogProofError::WrongProofLength {
                    expected,
                    actual: 0,
                })
            }
        }
    };
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if s == 0 {
            return Err(LogProofError::WrongProofLength {
                expected,
                actual: proof.len(),
            });
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(LogProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if fr != *old_root {
        return Err(LogProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(LogProofError::NewRootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::{from_bytes, to_bytes};
    use core::cell::Cell;

    fn leaf(i: u64) -> Hash {
        leaf_hash(format!("unit-leaf-{i}").as_bytes())
    }

    /// The RFC 9162 definition, recursively, straight from the leaves.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// Counts every node read.
    struct Counting<'a> {
        inner: &'a MemoryLog,
        reads: Cell<u64>,
    }

    impl LogReader for Counting<'_> {
        fn size(&self) -> u64 {
            self.inner.size()
        }
        fn perfect_node(&self, level: u32, index: u64) -> Option<Hash> {
            self.reads.set(self.reads.get() + 1);
            self.inner.perfect_node(level, index)
        }
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, Hash::digest(b""));
        assert_eq!(MemoryLog::new().root(), EMPTY_ROOT);
    }

    #[test]
    fn roots_match_the_recursive_definition_and_appends_match_nodes_for_append() {
        let mut log = MemoryLog::new();
        let mut leaves = Vec::new();
        for i in 0..300u64 {
            let expected = nodes_for_append(&log, leaf(i)).expect("nodes");
            let got = log.append(leaf(i));
            assert_eq!(got, expected);
            assert_eq!(got.len() as u32, 1 + i.trailing_ones());
            for n in &got {
                assert_eq!(log.perfect_node(n.level, n.index), Some(n.hash));
            }
            leaves.push(leaf(i));
            assert_eq!(log.root(), mth(&leaves), "size {}", i + 1);
        }
        for size in 0..=300usize {
            assert_eq!(log.root_at(size as u64), Ok(mth(&leaves[..size])));
        }
        assert_eq!(
            log.root_at(301),
            Err(LogError::SizeBeyondLog {
                size: 301,
                log_size: 300
            })
        );
    }

    #[test]
    fn reads_are_logarithmic() {
        let log = MemoryLog::from_leaf_hashes((0..1025).map(leaf));
        let c = Counting {
            inner: &log,
            reads: Cell::new(0),
        };
        for size in 1..=1025u64 {
            c.reads.set(0);
            root_at(&c, size).expect("root");
            assert_eq!(c.reads.get(), u64::from(size.count_ones()));
            let bits = u64::from(64 - size.leading_zeros());
            for index in [0, size / 3, size / 2, size - 1] {
                c.reads.set(0);
                prove_inclusion(&c, index, size).expect("inclusion");
                assert!(
                    c.reads.get() <= 2 * bits,
                    "inclusion {index}/{size}: {}",
                    c.reads.get()
                );
            }
            for old in [1, size / 3, size / 2, size - 1] {
                c.reads.set(0);
                prove_consistency(&c, old, size).expect("consistency");
                assert!(
                    c.reads.get() <= 2 * bits,
                    "consistency {old}/{size}: {}",
                    c.reads.get()
                );
            }
        }
    }

    #[test]
    fn proofs_verify_and_have_the_predicted_length() {
        let log = MemoryLog::from_leaf_hashes((0..130).map(leaf));
        for size in 0..=130u64 {
            let root = log.root_at(size).expect("root");
            for index in 0..size {
                let p = log.inclusion_proof(index, size).expect("proof");
                assert_eq!(p.hashes.len(), inclusion_proof_len(index, size));
                assert_eq!(
                    verify_inclusion(&leaf(index), index, size, &p, &root),
                    Ok(())
                );
                let wrong = verify_inclusion(&leaf(index + 1), index, size, &p, &root);
                assert_eq!(wrong, Err(LogProofError::RootMismatch));
            }
            for old in 0..=size {
                let p = log.consistency_proof(old, size).expect("proof");
                if 0 < old && old < size {
                    assert_eq!(p.hashes.len(), consistency_proof_len(old, size));
                } else {
                    assert!(p.hashes.is_empty());
                }
                let old_root = log.root_at(old).expect("root");
                assert_eq!(verify_consistency(old, size, &old_root, &root, &p), Ok(()));
            }
        }
    }

    #[test]
    fn edge_cases() {
        let log = MemoryLog::from_leaf_hashes((0..5).map(leaf));
        let r5 = log.root();
        let r3 = log.root_at(3).expect("root");
        let empty = ConsistencyProof::default();
        assert_eq!(
            log.inclusion_proof(5, 5),
            Err(LogError::IndexOutOfRange { index: 5, size: 5 })
        );
        assert_eq!(
            log.inclusion_proof(0, 6),
            Err(LogError::SizeBeyondLog {
                size: 6,
                log_size: 5
            })
        );
        assert_eq!(
            log.consistency_proof(4, 3),
            Err(LogError::OldSizeLargerThanNew {
                old_size: 4,
                new_size: 3
            })
        );
        assert_eq!(
            verify_inclusion(&leaf(0), 0, 0, &InclusionProof::default(), &EMPTY_ROOT),
            Err(LogProofError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            verify_consistency(4, 3, &r5, &r3, &empty),
            Err(LogProofError::OldSizeLargerThanNew {
                old_size: 4,
                new_size: 3
            })
        );
        // From the empty tree: empty proof and the empty root only.
        assert_eq!(verify_consistency(0, 5, &EMPTY_ROOT, &r5, &empty), Ok(()));
        assert_eq!(
            verify_consistency(0, 0, &EMPTY_ROOT, &EMPTY_ROOT, &empty),
            Ok(())
        );
        assert_eq!(
            verify_consistency(0, 5, &r3, &r5, &empty),
            Err(LogProofError::OldRootMismatch)
        );
        assert_eq!(
            verify_consistency(0, 0, &EMPTY_ROOT, &r3, &empty),
            Err(LogProofError::NewRootMismatch)
        );
        let one = ConsistencyProof { hashes: vec![r3] };
        assert_eq!(
            verify_consistency(0, 5, &EMPTY_ROOT, &r5, &one),
            Err(LogProofError::WrongProofLength {
                expected: 0,
                actual: 1
            })
        );
        // Equal sizes: empty proof, equal roots.
        assert_eq!(verify_consistency(5, 5, &r5, &r5, &empty), Ok(()));
        assert_eq!(
            verify_consistency(5, 5, &r5, &r3, &empty),
            Err(LogProofError::NewRootMismatch)
        );
        assert_eq!(
            verify_consistency(5, 5, &r5, &r5, &one),
            Err(LogProofError::WrongProofLength {
                expected: 0,
                actual: 1
            })
        );
        // A one-leaf tree: the root is the leaf hash, the proof is empty.
        let p = log.inclusion_proof(0, 1).expect("proof");
        assert!(p.hashes.is_empty());
        assert_eq!(verify_inclusion(&leaf(0), 0, 1, &p, &leaf(0)), Ok(()));
    }

    #[test]
    fn limits_hold_on_decode_and_verify() {
        let big = InclusionProof {
            hashes: vec![Hash::ZERO; MAX_INCLUSION_PROOF_HASHES + 1],
        };
        assert!(from_bytes::<InclusionProof>(&to_bytes(&big)).is_err());
        let ok = InclusionProof {
            hashes: vec![Hash::ZERO; MAX_INCLUSION_PROOF_HASHES],
        };
        assert_eq!(from_bytes::<InclusionProof>(&to_bytes(&ok)), Ok(ok));
        assert_eq!(
            verify_inclusion(&Hash::ZERO, 0, u64::MAX, &big, &Hash::ZERO),
            Err(LogProofError::TooManyHashes { len: 65, max: 64 })
        );
        assert!(InclusionProof::new(big.hashes.clone()).is_err());
        let big = ConsistencyProof {
            hashes: vec![Hash::ZERO; MAX_CONSISTENCY_PROOF_HASHES + 1],
        };
        assert!(from_bytes::<ConsistencyProof>(&to_bytes(&big)).is_err());
        assert!(ConsistencyProof::new(big.hashes.clone()).is_err());
        assert_eq!(
            verify_consistency(1, u64::MAX, &Hash::ZERO, &Hash::ZERO, &big),
            Err(LogProofError::TooManyHashes { len: 129, max: 128 })
        );
        // A length prefix far above the limit is refused before any hash is read.
        assert!(from_bytes::<InclusionProof>(&[0xff, 0xff, 0x03]).is_err());
    }

    #[test]
    fn proof_encodings() {
        let log = MemoryLog::from_leaf_hashes((0..7).map(leaf));
        let p = log.inclusion_proof(2, 7).expect("proof");
        let bytes = to_bytes(&p);
        assert_eq!(bytes[0] as usize, p.hashes.len());
        assert_eq!(bytes.len(), 1 + 32 * p.hashes.len());
        assert_eq!(from_bytes::<InclusionProof>(&bytes), Ok(p.clone()));
        let json = serde_json::to_string(&p).expect("json");
        assert!(json.starts_with("{\"hashes\":[\""));
        assert_eq!(
            serde_json::from_str::<InclusionProof>(&json).expect("json"),
            p
        );
    }

    #[test]
    fn lengths_for_huge_trees_fit_the_limits() {
        for size in [u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) + 1] {
            for index in [0, 1, size / 2, size - 2, size - 1] {
                assert!(inclusion_proof_len(index, size) <= MAX_INCLUSION_PROOF_HASHES);
            }
            for old in [1, 2, 3, size / 2, size - 1] {
                if old < size {
                    assert!(consistency_proof_len(old, size) <= MAX_CONSISTENCY_PROOF_HASHES);
                }
            }
        }
    }
}

#[cfg(test)]
mod frontier_tests {
    use super::*;

    #[test]
    fn a_log_rebuilt_from_its_frontier_has_its_root_and_appends_like_the_whole() {
        for size in [1u64, 2, 5, 8, 13, 64, 100] {
            let leaves: Vec<Hash> = (0..size + 3).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let whole = MemoryLog::from_leaf_hashes(leaves[..size as usize].iter().copied());
            let hashes: Vec<Hash> = frontier(size)
                .into_iter()
                .map(|(l, i)| whole.perfect_node(l, i).expect("in the log"))
                .collect();
            assert_eq!(hashes.len(), size.count_ones() as usize);
            let nodes = verified_frontier(size, &hashes, &whole.root()).expect("verifies");
            let mut wrong = hashes.clone();
            wrong[0].0[0] ^= 1;
            assert!(verified_frontier(size, &wrong, &whole.root()).is_none());
            assert!(verified_frontier(size, &hashes[1..], &whole.root()).is_none());
            // Three appends from the frontier alone give the whole log's roots.
            let mut partial = NodeList { size, nodes };
            let mut reference = whole.clone();
            for leaf in &leaves[size as usize..] {
                let created = nodes_for_append(&partial, *leaf).expect("append");
                partial.nodes.extend(created);
                partial.size += 1;
                reference.append(*leaf);
                assert_eq!(
                    root_at(&partial, partial.size).expect("root"),
                    reference.root()
                );
            }
        }
    }
}
