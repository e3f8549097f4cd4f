//! The RocksDB [`NodeStore`]: one column family per kind of record, one synced `WriteBatch`
//! per committed height.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `meta` | `tip` | BCS `ChainTip` |
//! | `meta` | `safety` | BCS consensus `SafetyState` (written synced before any vote leaves) |
//! | `meta` | `snapshot_base` | BCS `SnapshotBase`, when the store joined from a snapshot |
//! | `blocks` | height BE | BCS `(Block, CommitCertificate)` |
//! | `receipts` | height BE | BCS `Vec<Receipt>` |
//! | `valsets` | height BE | BCS `ValidatorSet` that signed the height |
//! | `tx_index` | tx hash | BCS `TxLocation` |
//! | `jmt_nodes` | node key (`version BE ‖ path`) | node bytes |
//! | `jmt_values` | key hash ‖ `!version` BE | `0x00` (deleted) or `0x01 ‖ value` |
//! | `jmt_stale` | stale-since version BE ‖ node key | empty |
//! | `log_nodes` | level BE (4) ‖ index BE (8) | 32-byte hash |
//!
//! `!version` makes a forward seek from `key_hash ‖ !max` land on the newest version `<= max`.

use std::path::Path;

use concordat_consensus::CommitCertificate;
use concordat_contracts::block::Block;
use concordat_contracts::Receipt;
use concordat_primitives::encoding;
use concordat_primitives::ledger::ValidatorSet;
use concordat_primitives::merkle_log::LogReader;
use concordat_primitives::state::{StateStore, StoreError};
use concordat_primitives::Hash;
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, Direction, IteratorMode, Options,
    ReadOptions, SliceTransform, WriteBatch, WriteOptions, DB,
};
use serde::{de::DeserializeOwned, Serialize};

use crate::metrics::StorageGauge;
use crate::store::{ChainTip, CommitBatch, NodeStore, SnapshotBase, TxLocation};

const CFS: &[&str] = &[
    "meta",
    "blocks",
    "receipts",
    "valsets",
    "tx_index",
    "jmt_nodes",
    "jmt_values",
    "jmt_stale",
    "log_nodes",
];

/// The block cache all column families share (data, index and filter blocks).
pub const BLOCK_CACHE_BYTES: usize = 128 * 1024 * 1024;

/// The write-ahead log is held below this many bytes. Past it RocksDB flushes the column
/// families that still have data in the oldest log file, so that the file can be deleted.
/// Without a cap, a column family written a little per block (`valsets`, `meta`) fills its
/// memtable only after many gigabytes of the others, and keeps every log file until then: in
/// the benchmark 4.3 GB of each node's 6.9 GB were logs (docs/perf-analysis.md). The cap bounds
/// both that disk and the replay after a crash.
pub const MAX_TOTAL_WAL_BYTES: u64 = 256 * 1024 * 1024;

/// Per column family: bloom filters (10 bits a key), data blocks in one shared block cache
/// (index and filter blocks stay in the table readers: held in the cache, they were evicted
/// as the store grew and throughput fell run after run, docs/perf-analysis.md); and for
/// `jmt_values`, whose reads are seeks to the newest version of one key hash, a 32-byte prefix
/// extractor with prefix blooms in the memtable and the files, so that a seek skips what does
/// not hold that key hash instead of searching it (the profile's top storage cost).
fn cf_options(name: &str, cache: &Cache) -> Options {
    let mut o = Options::default();
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_bloom_filter(10.0, false);
    if name == "jmt_values" {
        o.set_prefix_extractor(SliceTransform::create_fixed_prefix(32));
        o.set_memtable_prefix_bloom_ratio(0.1);
        table.set_whole_key_filtering(false);
    }
    o.set_block_based_table_factory(&table);
    o
}

/// RocksDB-backed node storage.
pub struct RocksStore {
    db: DB,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn log_key(level: u32, index: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&level.to_be_bytes());
    k[4..].copy_from_slice(&index.to_be_bytes());
    k
}

fn value_key(key_hash: &Hash, version: u64) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(key_hash.as_bytes());
    k[32..].copy_from_slice(&(!version).to_be_bytes());
    k
}

impl RocksStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<RocksStore, StoreError> {
        Self::open_with_wal_cap(path, MAX_TOTAL_WAL_BYTES)
    }

    /// [`RocksStore::open`] with another cap on the write-ahead log (0: RocksDB's default, four
    /// times the memtables' total size; for tests).
    pub fn open_with_wal_cap(
        path: &Path,
        max_total_wal_bytes: u64,
    ) -> Result<RocksStore, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_open_files(512);
        opts.set_max_total_wal_size(max_total_wal_bytes);
        let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let cfs = CFS
            .iter()
            .map(|name| ColumnFamilyDescriptor::new(*name, cf_options(name, &cache)));
        let db = DB::open_cf_descriptors(&opts, path, cfs).map_err(err)?;
        Ok(RocksStore { db })
    }

    fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| StoreError(format!("missing column family {name}")))
    }

    fn get_raw(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db.get_cf(self.cf(cf)?, key).map_err(err)
    }

    fn get_bcs<T: Serialize + DeserializeOwned>(
        &self,
        cf: &str,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match self.get_raw(cf, key)? {
            None => Ok(None),
            Some(bytes) => encoding::from_bytes(&bytes)
                .map(Some)
                .map_err(|e| StoreError(format!("corrupt record in {cf}: {e}"))),
        }
    }
}

impl RocksStore {
    /// Durably writes the consensus safety state (synced): call it before sending anything the
    /// state covers.
    pub fn persist_safety(
        &self,
        state: &concordat_consensus::SafetyState,
    ) -> Result<(), StoreError> {
        self.persist_consensus(state, None)
    }

    /// Durably writes the safety state and, when the step locked, the lock's evidence (block
    /// and proof-of-lock), in one synced batch.
    pub fn persist_consensus(
        &self,
        state: &concordat_consensus::SafetyState,
        lock: Option<&crate::bft::LockEvidence>,
    ) -> Result<(), StoreError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        let meta = self.cf("meta")?;
        let mut batch = rocksdb::WriteBatch::default();
        batch.put_cf(meta, b"safety", encoding::to_bytes(state));
        if let Some(lock) = lock {
            batch.put_cf(meta, b"lock_evidence", encoding::to_bytes(lock));
        }
        self.db.write_opt(batch, &wo).map_err(err)
    }

    /// The evidence of the last lock (see [`crate::bft::LockEvidence`]), if any.
    pub fn load_lock_evidence(&self) -> Result<Option<crate::bft::LockEvidence>, StoreError> {
        self.get_bcs("meta", b"lock_evidence")
    }

    /// The persisted safety state (the default for a validator that never signed). A state
    /// written before the round's earlier messages were kept (two fields: last signed message
    /// and lock) is still read.
    pub fn load_safety(&self) -> Result<concordat_consensus::SafetyState, StoreError> {
        use concordat_consensus::safety::Lock;
        use concordat_consensus::{Message, SafetyState};
        let Some(bytes) = self.get_raw("meta", b"safety")? else {
            return Ok(SafetyState::default());
        };
        if let Ok(state) = encoding::from_bytes::<SafetyState>(&bytes) {
            return Ok(state);
        }
        encoding::from_bytes::<(Option<Message>, Option<Lock>)>(&bytes)
            .map(|(last, lock)| SafetyState::from_parts(last, lock))
            .map_err(|e| StoreError(format!("corrupt record in meta (safety): {e}")))
    }
}

impl StateStore for RocksStore {
    fn get_node(&self, node_key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.get_raw("jmt_nodes", node_key)
    }

    fn get_value(&self, key_hash: &Hash, max_version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let start = value_key(key_hash, max_version);
        let mut read = ReadOptions::default();
        read.set_prefix_same_as_start(true);
        let mut it = self.db.iterator_cf_opt(
            self.cf("jmt_values")?,
            read,
            IteratorMode::From(&start, Direction::Forward),
        );
        match it.next() {
            None => Ok(None),
            Some(item) => {
                let (k, v) = item.map_err(err)?;
                if k.len() != 40 || &k[..32] != key_hash.as_bytes() {
                    return Ok(None);
                }
                match v.split_first() {
                    Some((0, [])) => Ok(None),
                    Some((1, rest)) => Ok(Some(rest.to_vec())),
                    _ => Err(StoreError("corrupt value entry in jmt_values".into())),
                }
            }
        }
    }

    fn latest_version(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.tip()?.map(|t| t.height))
    }
}

impl LogReader for RocksStore {
    fn size(&self) -> u64 {
        // A read failure here is a storage fault; the tip read in `tip()` reports it properly.
        self.tip()
            .ok()
            .flatten()
            .map(|t| t.tx_log_size)
            .unwrap_or(0)
    }

    fn perfect_node(&self, level: u32, index: u64) -> Option<Hash> {
        let bytes = self.get_raw("log_nodes", &log_key(level, index)).ok()??;
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(Hash(arr))
    }
}

impl RocksStore {
    /// Writes one height in one synced batch: the next height (`expected`), or a snapshot's
    /// first height with its `base`.
    fn write_height(
        &self,
        batch: &CommitBatch,
        expected: u64,
        base: Option<&SnapshotBase>,
    ) -> Result<(), StoreError> {
        let h = batch.tip.height;
        if h != expected || batch.state.version != h {
            return Err(StoreError(format!(
                "commit of height {h} (state version {}) but next is {expected}",
                batch.state.version
            )));
        }
        let hk = h.to_be_bytes();
        let mut wb = WriteBatch::default();

        if let Some(block_and_cert) = &batch.block {
            wb.put_cf(self.cf("blocks")?, hk, encoding::to_bytes(block_and_cert));
        }
        wb.put_cf(
            self.cf("receipts")?,
            hk,
            encoding::to_bytes(&batch.receipts),
        );
        wb.put_cf(
            self.cf("valsets")?,
            hk,
            encoding::to_bytes(&batch.validator_set),
        );
        let tx_cf = self.cf("tx_index")?;
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        if crate::failpoint::mutation("split_commit") {
            // A deliberate defect for the failpoint campaign's control run: the transactions
            // read as committed (a durable write of their index) before the block that holds
            // them is written. The campaign must catch it.
            let mut first = WriteBatch::default();
            for (hash, loc) in &batch.tx_index {
                first.put_cf(tx_cf, hash.as_bytes(), encoding::to_bytes(loc));
            }
            self.db.write_opt(first, &wo).map_err(err)?;
        } else {
            for (hash, loc) in &batch.tx_index {
                wb.put_cf(tx_cf, hash.as_bytes(), encoding::to_bytes(loc));
            }
        }
        let nodes = self.cf("jmt_nodes")?;
        for n in &batch.state.nodes {
            wb.put_cf(nodes, &n.key, &n.node);
        }
        let values = self.cf("jmt_values")?;
        for v in &batch.state.values {
            let bytes = match &v.value {
                None => vec![0u8],
                Some(val) => [&[1u8][..], val].concat(),
            };
            wb.put_cf(values, value_key(&v.key_hash, v.version), bytes);
        }
        let stale = self.cf("jmt_stale")?;
        for s in &batch.state.stale {
            wb.put_cf(
                stale,
                [&s.stale_since_version.to_be_bytes()[..], &s.node_key].concat(),
                [],
            );
        }
        let log = self.cf("log_nodes")?;
        for n in &batch.log_nodes {
            wb.put_cf(log, log_key(n.level, n.index), n.hash.as_bytes());
        }
        wb.put_cf(self.cf("meta")?, b"tip", encoding::to_bytes(&batch.tip));
        if let Some(base) = base {
            wb.put_cf(self.cf("meta")?, b"snapshot_base", encoding::to_bytes(base));
        }
        crate::failpoint::hit("commit.batch").map_err(StoreError)?;
        self.db.write_opt(wb, &wo).map_err(err)
    }
}

impl NodeStore for RocksStore {
    fn storage_gauges(&self) -> Vec<StorageGauge> {
        // Summed over the column families (each property is per family).
        let sum = |property: &str| -> u64 {
            CFS.iter()
                .filter_map(|name| self.db.cf_handle(name))
                .filter_map(|cf| self.db.property_int_value_cf(cf, property).ok().flatten())
                .sum()
        };
        let db_wide = |property: &str| -> u64 {
            self.db
                .property_int_value(property)
                .ok()
                .flatten()
                .unwrap_or(0)
        };
        vec![
            StorageGauge {
                name: "concordat_storage_sst_bytes",
                help: "Size of RocksDB's table files, all column families.",
                kind: "gauge",
                value: sum("rocksdb.total-sst-files-size"),
            },
            StorageGauge {
                name: "concordat_storage_live_data_bytes",
                help: "RocksDB's estimate of live data, all column families.",
                kind: "gauge",
                value: sum("rocksdb.estimate-live-data-size"),
            },
            StorageGauge {
                name: "concordat_storage_memtable_bytes",
                help: "RocksDB memtables, all column families.",
                kind: "gauge",
                value: sum("rocksdb.cur-size-all-mem-tables"),
            },
            StorageGauge {
                name: "concordat_storage_pending_compaction_bytes",
                help: "Bytes RocksDB estimates compaction must rewrite.",
                kind: "gauge",
                value: sum("rocksdb.estimate-pending-compaction-bytes"),
            },
            StorageGauge {
                name: "concordat_storage_write_stopped",
                help: "1 while RocksDB stops writes (a write stall).",
                kind: "gauge",
                value: db_wide("rocksdb.is-write-stopped"),
            },
            StorageGauge {
                name: "concordat_storage_delayed_write_rate",
                help:
                    "RocksDB's write rate limit while it slows writes (bytes/s; 0 when not slowed).",
                kind: "gauge",
                value: db_wide("rocksdb.actual-delayed-write-rate"),
            },
        ]
    }

    fn tip(&self) -> Result<Option<ChainTip>, StoreError> {
        self.get_bcs("meta", b"tip")
    }

    fn commit(&self, batch: &CommitBatch) -> Result<(), StoreError> {
        let expected = self.tip()?.map(|t| t.height + 1).unwrap_or(0);
        self.write_height(batch, expected, None)
    }

    fn import_snapshot(&self, batch: &CommitBatch, base: &SnapshotBase) -> Result<(), StoreError> {
        if let Some(tip) = self.tip()? {
            return Err(StoreError(format!(
                "a snapshot is imported into an empty data directory; this one holds height {}",
                tip.height
            )));
        }
        self.write_height(batch, batch.tip.height, Some(base))
    }

    fn snapshot_base(&self) -> Result<Option<SnapshotBase>, StoreError> {
        self.get_bcs("meta", b"snapshot_base")
    }

    fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        Ok(self
            .get_bcs::<(Block, CommitCertificate)>("blocks", &height.to_be_bytes())?
            .map(|b| b.0))
    }

    fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>, StoreError> {
        Ok(self
            .get_bcs::<(Block, CommitCertificate)>("blocks", &height.to_be_bytes())?
            .map(|b| b.1))
    }

    fn receipts(&self, height: u64) -> Result<Option<Vec<Receipt>>, StoreError> {
        self.get_bcs("receipts", &height.to_be_bytes())
    }

    fn validator_set(&self, height: u64) -> Result<Option<ValidatorSet>, StoreError> {
        self.get_bcs("valsets", &height.to_be_bytes())
    }

    fn tx_location(&self, tx_hash: &Hash) -> Result<Option<TxLocation>, StoreError> {
        self.get_bcs("tx_index", tx_hash.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes of the write-ahead log files in `dir`.
    fn wal_bytes(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .expect("read the data directory")
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    }

    /// 16 MiB into `blocks`, whose memtable is made small (1 MiB) so that it flushes on its own,
    /// after (with `quiet`) one small write into `valsets`, a column family written a little per
    /// block: the logs on disk afterwards (with `settle`, waiting up to 10 s for the flushes to
    /// let them go).
    fn logs_after_writes(cap: u64, quiet: bool, settle: bool) -> u64 {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RocksStore::open_with_wal_cap(dir.path(), cap).expect("open");
        let cf = |name: &str| store.cf(name).expect("column family");
        store
            .db
            .set_options_cf(cf("blocks"), &[("write_buffer_size", "1048576")])
            .expect("set the memtable size");
        if quiet {
            store.db.put_cf(cf("valsets"), b"k", b"v").expect("put");
        }
        let value = vec![7u8; 2048];
        for i in 0u32..8192 {
            store
                .db
                .put_cf(cf("blocks"), i.to_be_bytes(), &value)
                .expect("put");
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut bytes = wal_bytes(dir.path());
        while settle && bytes > 4 * 1024 * 1024 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
            bytes = wal_bytes(dir.path());
        }
        // Everything written is still there.
        if quiet {
            assert_eq!(
                store
                    .db
                    .get_cf(cf("valsets"), b"k")
                    .expect("get")
                    .as_deref(),
                Some(&b"v"[..])
            );
        }
        assert_eq!(
            store
                .db
                .get_cf(cf("blocks"), 8191u32.to_be_bytes())
                .expect("get"),
            Some(value)
        );
        bytes
    }

    #[test]
    fn the_write_ahead_log_stays_under_its_cap_when_a_quiet_family_lags() {
        let capped = logs_after_writes(1024 * 1024, true, true);
        assert!(
            capped <= 4 * 1024 * 1024,
            "capped at 1 MiB, the logs are {capped} bytes"
        );
        // The controls, uncapped: the quiet family keeps every log file although `blocks`
        // flushes its own data; without the quiet family's write the logs go as `blocks` flushes.
        let uncapped = logs_after_writes(0, true, false);
        let alone = logs_after_writes(0, false, true);
        eprintln!(
            "write-ahead log: {capped} bytes capped at 1 MiB, {uncapped} bytes uncapped, \
             {alone} bytes uncapped without the quiet family"
        );
        assert!(
            uncapped >= 12 * 1024 * 1024,
            "uncapped, the logs are {uncapped} bytes"
        );
        assert!(
            alone <= 4 * 1024 * 1024,
            "uncapped without the quiet family, the logs are {alone} bytes"
        );
    }
}
