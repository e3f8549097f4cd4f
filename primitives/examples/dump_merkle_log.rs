//! Prints, as JSON on stdout, a Concordat RFC 9162 Merkle log of 1000 leaves with its root at
//! every size 0..=1000 and a selection of inclusion and consistency proofs, for independent
//! cross-checks (`tests/pymerkle/check_log.py` rebuilds the log with pymerkle):
//!
//! ```text
//! cargo run -q -p concordat-primitives --example dump_merkle_log > /tmp/log.json
//! python3 tests/pymerkle/check_log.py /tmp/log.json
//! ```
//!
//! Leaf `i` is the UTF-8 bytes of `concordat-leaf-{i}` (the same leaves as the ct-merkle test).
//! Selection: for sizes up to 64, every index and every old size; above, indices 0, 1, the
//! middle, the last and four pseudo-random ones, and old sizes 0, 1, 2, the largest power of
//! two, the middle, n - 1, n and four pseudo-random ones. Proofs use their JSON view
//! (`{"hashes": [hex, ...]}`); hashes are lowercase hex.

use std::io::{BufWriter, Write};

use concordat_primitives::merkle_log::{leaf_hash, ConsistencyProof, InclusionProof, MemoryLog};
use concordat_primitives::Hash;
use serde::Serialize;

const MAX_SIZE: u64 = 1000;

#[derive(Serialize)]
struct Dump {
    format: &'static str,
    leaf_rule: &'static str,
    /// Leaf entries (hex of the bytes), in order.
    leaves: Vec<String>,
    /// `SHA-256(0x00 || entry)` of each leaf.
    leaf_hashes: Vec<Hash>,
    /// One entry per size 0..=MAX_SIZE.
    sizes: Vec<SizeEntry>,
}

#[derive(Serialize)]
struct SizeEntry {
    size: u64,
    root: Hash,
    inclusion: Vec<InclusionEntry>,
    consistency: Vec<ConsistencyEntry>,
}

#[derive(Serialize)]
struct InclusionEntry {
    index: u64,
    proof: InclusionProof,
}

#[derive(Serialize)]
struct ConsistencyEntry {
    old_size: u64,
    proof: ConsistencyProof,
}

fn leaf_data(i: u64) -> Vec<u8> {
    format!("concordat-leaf-{i}").into_bytes()
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let leaves: Vec<Vec<u8>> = (0..MAX_SIZE).map(leaf_data).collect();
    let leaf_hashes: Vec<Hash> = leaves.iter().map(|d| leaf_hash(d)).collect();
    let log = MemoryLog::from_leaf_hashes(leaf_hashes.iter().copied());

    let mut sizes = Vec::new();
    for n in 0..=MAX_SIZE {
        let inclusion = inclusion_indices(n)
            .into_iter()
            .map(|index| {
                Ok(InclusionEntry {
                    index,
                    proof: log.inclusion_proof(index, n)?,
                })
            })
            .collect::<Result<Vec<_>, concordat_primitives::merkle_log::LogError>>()?;
        let consistency = consistency_olds(n)
            .into_iter()
            .map(|old_size| {
                Ok(ConsistencyEntry {
                    old_size,
                    proof: log.consistency_proof(old_size, n)?,
                })
            })
            .collect::<Result<Vec<_>, concordat_primitives::merkle_log::LogError>>()?;
        sizes.push(SizeEntry {
            size: n,
            root: log.root_at(n)?,
            inclusion,
            consistency,
        });
    }

    let dump = Dump {
        format: "concordat-merkle-log-dump/1",
        leaf_rule: "leaf i is the UTF-8 bytes of \"concordat-leaf-{i}\"",
        leaves: leaves.iter().map(hex::encode).collect(),
        leaf_hashes,
        sizes,
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer(&mut out, &dump)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
