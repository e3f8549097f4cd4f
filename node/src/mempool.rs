//! The mempool: admitted, signature-checked transactions waiting for a block.
//!
//! Limits (all from `[mempool]` in config.toml): total count, total bytes, transactions per
//! signer (as a nonce window above the signer's committed nonce), and how far ahead an expiry
//! may be. Every refusal has a stable code (see docs/api.md). Deduplication is by transaction
//! hash and by (signer, nonce); replays are refused because their nonce is below the committed
//! nonce.
//!
//! Blocks take, round-robin by arrival, each signer's run of consecutive nonces starting at its
//! committed nonce.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use concordat_contracts::SignedTransaction;
use concordat_primitives::{Hash, PublicKey};
use serde::Deserialize;

/// Mempool limits.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolConfig {
    /// Most pending transactions.
    pub max_txs: usize,
    /// Most pending bytes.
    pub max_bytes: usize,
    /// Most pending transactions per signer (nonce window).
    pub max_per_signer: u64,
    /// Farthest expiry accepted, in blocks above the next height.
    pub max_expiry_blocks: u64,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig {
            max_txs: 5000,
            max_bytes: 32 * 1024 * 1024,
            max_per_signer: 1024,
            max_expiry_blocks: 100_000,
        }
    }
}

/// A refusal with its stable code and HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AdmissionError {
    /// Stable code, e.g. `BAD_SIGNATURE`.
    pub code: &'static str,
    /// HTTP status to answer with.
    pub http: u16,
    /// What was wrong.
    pub message: String,
}

impl AdmissionError {
    /// Builds an error.
    pub fn new(code: &'static str, http: u16, message: impl Into<String>) -> AdmissionError {
        AdmissionError {
            code,
            http,
            message: message.into(),
        }
    }
}

struct Entry {
    tx: SignedTransaction,
    hash: Hash,
    bytes: usize,
    seq: u64,
}

/// The pending transactions.
#[derive(Default)]
pub struct Mempool {
    config: MempoolConfig,
    by_signer: BTreeMap<PublicKey, BTreeMap<u64, Entry>>,
    by_hash: BTreeMap<Hash, (PublicKey, u64)>,
    bytes: usize,
    seq: u64,
}

impl Mempool {
    /// An empty mempool.
    pub fn new(config: MempoolConfig) -> Mempool {
        Mempool {
            config,
            ..Mempool::default()
        }
    }

    /// The limits.
    pub fn config(&self) -> &MempoolConfig {
        &self.config
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Pending bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// True iff `hash` is pending.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Checks the nonce window, duplicates and capacity, then inserts. The caller has already
    /// checked size, encoding, chain, expiry, signature and authorisation.
    pub fn insert(
        &mut self,
        tx: SignedTransaction,
        hash: Hash,
        bytes: usize,
        committed_nonce: u64,
    ) -> Result<(), AdmissionError> {
        let signer = tx.tx.signer;
        let nonce = tx.tx.nonce;
        if self.by_hash.contains_key(&hash) {
            return Err(AdmissionError::new(
                "DUPLICATE",
                409,
                format!("transaction {hash} is already pending"),
            ));
        }
        if nonce < committed_nonce {
            return Err(AdmissionError::new(
                "NONCE_TOO_LOW",
                409,
                format!(
                    "nonce {nonce} was already used; the signer's next nonce is {committed_nonce}"
                ),
            ));
        }
        if nonce - committed_nonce >= self.config.max_per_signer {
            return Err(AdmissionError::new(
                "NONCE_TOO_HIGH",
                409,
                format!(
                    "nonce {nonce} is more than {} ahead of the signer's next nonce {committed_nonce}",
                    self.config.max_per_signer
                ),
            ));
        }
        if self
            .by_signer
            .get(&signer)
            .is_some_and(|m| m.contains_key(&nonce))
        {
            return Err(AdmissionError::new(
                "DUPLICATE",
                409,
                format!("another transaction with nonce {nonce} from this signer is pending"),
            ));
        }
        if self.by_hash.len() >= self.config.max_txs || self.bytes + bytes > self.config.max_bytes {
            return Err(AdmissionError::new(
                "MEMPOOL_FULL",
                503,
                format!(
                    "the mempool is full ({} transactions, {} bytes); retry later",
                    self.by_hash.len(),
                    self.bytes
                ),
            ));
        }
        self.seq += 1;
        self.bytes += bytes;
        self.by_hash.insert(hash, (signer, nonce));
        self.by_signer.entry(signer).or_default().insert(
            nonce,
            Entry {
                tx,
                hash,
                bytes,
                seq: self.seq,
            },
        );
        Ok(())
    }

    /// Up to `max_txs` transactions and `max_bytes` bytes for the next block: each signer's run
    /// of consecutive nonces from its committed nonce, interleaved by arrival.
    pub fn select(
        &self,
        height: u64,
        max_txs: usize,
        max_bytes: usize,
        committed_nonce: impl Fn(&PublicKey) -> u64,
    ) -> Vec<SignedTransaction> {
        // Per signer: the run of consecutive nonces starting at the committed nonce, up to the
        // first transaction that has expired at `height` (it can never be included, and the
        // nonces after it wait for it).
        let mut runs: Vec<Vec<&Entry>> = Vec::new();
        for (signer, entries) in &self.by_signer {
            let start = committed_nonce(signer);
            let run: Vec<&Entry> = (start..)
                .zip(entries.range(start..))
                .take_while(|(expected, (nonce, e))| {
                    expected == *nonce && e.tx.tx.expiry_height >= height
                })
                .map(|(_, (_, e))| e)
                .collect();
            if !run.is_empty() {
                runs.push(run);
            }
        }
        // Merge: always take the head with the smallest arrival number.
        let mut heap: BinaryHeap<Reverse<(u64, usize, usize)>> = runs
            .iter()
            .enumerate()
            .map(|(i, r)| Reverse((r[0].seq, i, 0)))
            .collect();
        let (mut out, mut bytes) = (Vec::new(), 0usize);
        while let Some(Reverse((_, run, pos))) = heap.pop() {
            let e = runs[run][pos];
            if out.len() >= max_txs || bytes + e.bytes > max_bytes {
                break;
            }
            bytes += e.bytes;
            out.push(e.tx.clone());
            if let Some(next) = runs[run].get(pos + 1) {
                heap.push(Reverse((next.seq, run, pos + 1)));
            }
        }
        out
    }

    /// Whether a block at `height` could include at least one pending transaction: some
    /// signer's transaction carries exactly its committed nonce and has not expired. A
    /// transaction waiting behind a nonce gap is not ready (a proposer must not build empty
    /// blocks for it as fast as it can).
    pub fn has_ready(&self, height: u64, committed_nonce: impl Fn(&PublicKey) -> u64) -> bool {
        self.by_signer.iter().any(|(signer, entries)| {
            entries
                .get(&committed_nonce(signer))
                .is_some_and(|e| e.tx.tx.expiry_height >= height)
        })
    }

    /// After a commit: drops every transaction of `signer` below its new committed nonce.
    pub fn remove_below(&mut self, signer: &PublicKey, committed_nonce: u64) {
        let Some(entries) = self.by_signer.get_mut(signer) else {
            return;
        };
        let keep = entries.split_off(&committed_nonce);
        let gone = std::mem::replace(entries, keep);
        for e in gone.values() {
            self.by_hash.remove(&e.hash);
            self.bytes -= e.bytes;
        }
        if entries.is_empty() {
            self.by_signer.remove(signer);
        }
    }

    /// Drops transactions that can no longer be included at `next_height`; returns their hashes.
    pub fn remove_expired(&mut self, next_height: u64) -> Vec<Hash> {
        let mut gone = Vec::new();
        for entries in self.by_signer.values_mut() {
            entries.retain(|_, e| {
                let keep = e.tx.tx.expiry_height >= next_height;
                if !keep {
                    gone.push((e.hash, e.bytes));
                }
                keep
            });
        }
        self.by_signer.retain(|_, m| !m.is_empty());
        for (h, b) in &gone {
            self.by_hash.remove(h);
            self.bytes -= b;
        }
        gone.into_iter().map(|(h, _)| h).collect()
    }
}
