//! The node's storage interface and the in-memory implementation used by tests and the
//! simulation. The RocksDB implementation is in [`crate::rocks`].
//!
//! # Invariants
//! - [`NodeStore::commit`] applies a whole [`CommitBatch`] atomically and durably (synced)
//!   before it returns: after a crash either all of a block is visible or none of it.
//! - Heights are committed consecutively from genesis (height 0).

use std::collections::BTreeMap;
use std::sync::RwLock;

use concordat_consensus::CommitCertificate;
use concordat_contracts::block::Block;
use concordat_contracts::{Receipt, ResultCode};
use concordat_primitives::ledger::{Header, ValidatorSet};
use concordat_primitives::merkle_log::{LogNode, LogReader};
use concordat_primitives::state::{StateStore, StateUpdate, StoreError};
use concordat_primitives::Hash;
use serde::{Deserialize, Serialize};

/// What the node knows about the last committed height.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ChainTip {
    /// Last committed height (0 = genesis).
    pub height: u64,
    /// Its header hash (the genesis hash at height 0).
    pub block_hash: Hash,
    /// State root after it.
    pub state_root: Hash,
    /// Transaction-log root after it.
    pub tx_log_root: Hash,
    /// Transaction-log size after it.
    pub tx_log_size: u64,
    /// Its proposer time (the genesis time at height 0).
    pub time_ms: u64,
    /// The validator set that signs the next height.
    pub next_validator_set: ValidatorSet,
}

/// Where a committed transaction is and how it ended.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TxLocation {
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    /// Position in the global transaction log.
    pub log_index: u64,
    /// Result code.
    pub code: ResultCode,
    /// Result message.
    pub message: String,
}

/// Everything one committed height writes. Genesis (height 0) has no block.
#[derive(Debug, Clone)]
pub struct CommitBatch {
    /// The block and its certificate (None for genesis).
    pub block: Option<(Block, CommitCertificate)>,
    /// Receipts in block order.
    pub receipts: Vec<Receipt>,
    /// The validator set that signed this height (the genesis set at height 0).
    pub validator_set: ValidatorSet,
    /// State tree writes for version = height.
    pub state: StateUpdate,
    /// New transaction-log nodes.
    pub log_nodes: Vec<LogNode>,
    /// Transaction index entries.
    pub tx_index: Vec<(Hash, TxLocation)>,
    /// The new tip.
    pub tip: ChainTip,
}

/// Where a store that joined from a snapshot begins: nothing below `height` is kept.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SnapshotBase {
    /// The snapshot's height (the store's first).
    pub height: u64,
    /// The genesis the chain grew from.
    pub genesis_hash: Hash,
}

/// Storage the node core needs.
pub trait NodeStore: StateStore + LogReader + Send + Sync {
    /// The last committed height, `None` before genesis.
    fn tip(&self) -> Result<Option<ChainTip>, StoreError>;
    /// Atomically and durably commits one height. Refuses a height that is not the next.
    fn commit(&self, batch: &CommitBatch) -> Result<(), StoreError>;
    /// A committed block.
    fn block(&self, height: u64) -> Result<Option<Block>, StoreError>;
    /// A committed block's certificate.
    fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>, StoreError>;
    /// A committed block's receipts.
    fn receipts(&self, height: u64) -> Result<Option<Vec<Receipt>>, StoreError>;
    /// The validator set that signed `height`.
    fn validator_set(&self, height: u64) -> Result<Option<ValidatorSet>, StoreError>;
    /// Where a committed transaction is.
    fn tx_location(&self, tx_hash: &Hash) -> Result<Option<TxLocation>, StoreError>;
    /// Writes a checked snapshot's height into an empty store, like [`NodeStore::commit`] of
    /// that height (no block: the store's history begins after it). Refuses a store that holds
    /// anything.
    fn import_snapshot(&self, batch: &CommitBatch, base: &SnapshotBase) -> Result<(), StoreError>;
    /// Where the store begins if it joined from a snapshot.
    fn snapshot_base(&self) -> Result<Option<SnapshotBase>, StoreError>;
    /// Storage figures for `/metrics` (sizes, write stalls); none for a store in memory.
    fn storage_gauges(&self) -> Vec<crate::metrics::StorageGauge> {
        Vec::new()
    }
}

/// Convenience: the header of a committed height.
pub fn header<S: NodeStore + ?Sized>(store: &S, height: u64) -> Result<Option<Header>, StoreError> {
    Ok(store.block(height)?.map(|b| b.header))
}

#[derive(Default)]
struct MemInner {
    tip: Option<ChainTip>,
    blocks: BTreeMap<u64, (Block, CommitCertificate)>,
    receipts: BTreeMap<u64, Vec<Receipt>>,
    valsets: BTreeMap<u64, ValidatorSet>,
    state: concordat_primitives::state::MemoryStore,
    log: BTreeMap<(u32, u64), Hash>,
    log_size: u64,
    txs: BTreeMap<Hash, TxLocation>,
    base: Option<SnapshotBase>,
}

/// In-memory [`NodeStore`] for tests and simulation.
#[derive(Default)]
pub struct MemStore {
    inner: RwLock<MemInner>,
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError("memory store lock poisoned".into())
}

impl MemInner {
    /// Everything of a height but its state (already committed to the tree).
    fn write_height(&mut self, batch: &CommitBatch) {
        let inner = self;
        let h = batch.tip.height;
        if let Some(b) = &batch.block {
            inner.blocks.insert(h, b.clone());
        }
        inner.receipts.insert(h, batch.receipts.clone());
        inner.valsets.insert(h, batch.validator_set.clone());
        for n in &batch.log_nodes {
            inner.log.insert((n.level, n.index), n.hash);
        }
        inner.log_size = batch.tip.tx_log_size;
        for (hash, loc) in &batch.tx_index {
            inner.txs.insert(*hash, loc.clone());
        }
        inner.tip = Some(batch.tip.clone());
    }
}

impl MemStore {
    /// An empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }
}

impl StateStore for MemStore {
    fn get_node(&self, node_key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner
            .read()
            .map_err(poisoned)?
            .state
            .get_node(node_key)
    }
    fn get_value(&self, key_hash: &Hash, max_version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner
            .read()
            .map_err(poisoned)?
            .state
            .get_value(key_hash, max_version)
    }
    fn latest_version(&self) -> Result<Option<u64>, StoreError> {
        self.inner.read().map_err(poisoned)?.state.latest_version()
    }
}

impl LogReader for MemStore {
    fn size(&self) -> u64 {
        self.inner.read().map(|i| i.log_size).unwrap_or(0)
    }
    fn perfect_node(&self, level: u32, index: u64) -> Option<Hash> {
        self.inner.read().ok()?.log.get(&(level, index)).copied()
    }
}

impl NodeStore for MemStore {
    fn tip(&self) -> Result<Option<ChainTip>, StoreError> {
        Ok(self.inner.read().map_err(poisoned)?.tip.clone())
    }

    fn commit(&self, batch: &CommitBatch) -> Result<(), StoreError> {
        let mut inner = self.inner.write().map_err(poisoned)?;
        let expected = inner.tip.as_ref().map(|t| t.height + 1).unwrap_or(0);
        if batch.tip.height != expected {
            return Err(StoreError(format!(
                "commit of height {} but next is {expected}",
                batch.tip.height
            )));
        }
        inner
            .state
            .commit(batch.state.clone())
            .map_err(|e| StoreError(e.to_string()))?;
        inner.write_height(batch);
        Ok(())
    }

    fn import_snapshot(&self, batch: &CommitBatch, base: &SnapshotBase) -> Result<(), StoreError> {
        let mut inner = self.inner.write().map_err(poisoned)?;
        if inner.tip.is_some() {
            return Err(StoreError(
                "a snapshot is imported into an empty store".into(),
            ));
        }
        inner
            .state
            .commit_snapshot(batch.state.clone())
            .map_err(|e| StoreError(e.to_string()))?;
        inner.write_height(batch);
        inner.base = Some(base.clone());
        Ok(())
    }

    fn snapshot_base(&self) -> Result<Option<SnapshotBase>, StoreError> {
        Ok(self.inner.read().map_err(poisoned)?.base.clone())
    }

    fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        Ok(self
            .inner
            .read()
            .map_err(poisoned)?
            .blocks
            .get(&height)
            .map(|b| b.0.clone()))
    }
    fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>, StoreError> {
        Ok(self
            .inner
            .read()
            .map_err(poisoned)?
            .blocks
            .get(&height)
            .map(|b| b.1.clone()))
    }
    fn receipts(&self, height: u64) -> Result<Option<Vec<Receipt>>, StoreError> {
        Ok(self
            .inner
            .read()
            .map_err(poisoned)?
            .receipts
            .get(&height)
            .cloned())
    }
    fn validator_set(&self, height: u64) -> Result<Option<ValidatorSet>, StoreError> {
        Ok(self
            .inner
            .read()
            .map_err(poisoned)?
            .valsets
            .get(&height)
            .cloned())
    }
    fn tx_location(&self, tx_hash: &Hash) -> Result<Option<TxLocation>, StoreError> {
        Ok(self
            .inner
            .read()
            .map_err(poisoned)?
            .txs
            .get(tx_hash)
            .cloned())
    }
}
