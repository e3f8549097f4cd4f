//! The node core: admission, block production, execution and commit, as an event loop with
//! inputs in and outputs out. It owns no socket and no clock: the runtime ([`crate::service`])
//! feeds it [`Input`]s (submissions, ticks carrying the time) and acts on its [`Output`]s. The
//! same core runs over [`crate::store::MemStore`] in tests.
//!
//! Block production is split for consensus: [`NodeCore::build_block`] / `build_proposal`,
//! [`NodeCore::validate_block`] (re-execute) and [`NodeCore::commit_executed`], which the BFT
//! driver ([`crate::bft`]) calls. [`Decider`] with [`SoloDecider`] (a single validator holding
//! more than 2/3 of the power) drives [`NodeCore::handle`] in core unit tests; the daemon uses
//! [`ExternalConsensus`] and the BFT driver.
//!
//! # Invariants
//! - A block is visible (tip, API) only after its whole batch is durably committed.
//! - Each transaction's signature is verified once, at admission (in batches).
//! - Bad input changes nothing: a refused submission leaves mempool and state untouched.

use std::collections::BTreeSet;
use std::sync::Arc;

use concordat_consensus::{CommitCertificate, Vote, VoteKind};
use concordat_contracts::block::{txs_root, Block, MAX_BLOCK_TXS};
use concordat_contracts::executor::{check_admission, next_nonce};
use concordat_contracts::state::StateView;
use concordat_contracts::tx::MAX_TX_BYTES;
use concordat_contracts::{execute_block, BlockContext, ResultCode, SignedTransaction};
use concordat_genesis::snapshot::Snapshot;
use concordat_genesis::Genesis;
use concordat_primitives::crypto::{verify_batch, BatchItem};
use concordat_primitives::encoding::DecodeError;
use concordat_primitives::ledger::{Header, ValidatorSet, APP_VERSION};
use concordat_primitives::merkle_log::{self, LogNode, LogReader};
use concordat_primitives::namespace;
use concordat_primitives::state::{self, StoreError};
use concordat_primitives::{Hash, PublicKey, SecretKey};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::failpoint;
use crate::mempool::{AdmissionError, Mempool, MempoolConfig};
use crate::store::{ChainTip, CommitBatch, NodeStore, SnapshotBase, TxLocation};

/// How far ahead of a validator's clock a proposed block's time may be. Block times only
/// grow, so one far-future time (up to `u64::MAX`) would otherwise freeze every later block.
pub const MAX_CLOCK_DRIFT_MS: u64 = 30_000;

/// Block production limits.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusConfig {
    /// How often the core looks for work (ms).
    pub block_interval_ms: u64,
    /// An idle proposer waits this long for a transaction before proposing an empty block.
    pub empty_block_interval_ms: u64,
    /// With nothing to commit, the network makes an empty block at most this often (ms); a
    /// height starts at once when a transaction can be included. 0: a block every
    /// `empty_block_interval_ms` even when idle.
    pub idle_block_interval_ms: u64,
    /// Most transactions per block.
    pub max_block_txs: usize,
    /// Most transaction bytes per block.
    pub max_block_bytes: usize,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        ConsensusConfig {
            block_interval_ms: 50,
            empty_block_interval_ms: 1_000,
            idle_block_interval_ms: 30_000,
            max_block_txs: 2000,
            max_block_bytes: 4 * 1024 * 1024,
        }
    }
}

/// An input to the core.
#[derive(Debug)]
pub enum Input {
    /// Time passed; `now_ms` is the runtime's clock (ms since the Unix epoch).
    Tick {
        /// Current time.
        now_ms: u64,
    },
}

/// An output of the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A height was durably committed.
    Committed {
        /// The height.
        height: u64,
        /// Its transactions.
        tx_hashes: Vec<Hash>,
    },
    /// Pending transactions were dropped because they expired.
    Expired(Vec<Hash>),
}

/// Decides blocks: the consensus interface of the node core.
pub trait Decider: Send {
    /// The certificate that commits `header` (signed by `set`), once decided.
    fn decide(
        &mut self,
        chain_id: &str,
        set: &ValidatorSet,
        header: &Header,
    ) -> Option<CommitCertificate>;
}

/// For a core driven by [`crate::bft::BftDriver`]: blocks are decided by the BFT engine, so
/// [`NodeCore::handle`] never commits on its own.
pub struct ExternalConsensus;

impl Decider for ExternalConsensus {
    fn decide(&mut self, _: &str, _: &ValidatorSet, _: &Header) -> Option<CommitCertificate> {
        None
    }
}

/// One validator holding more than 2/3 of the power: its own precommit commits.
pub struct SoloDecider {
    key: SecretKey,
}

impl SoloDecider {
    /// A decider signing with `key`.
    pub fn new(key: SecretKey) -> SoloDecider {
        SoloDecider { key }
    }
}

impl Decider for SoloDecider {
    fn decide(
        &mut self,
        chain_id: &str,
        set: &ValidatorSet,
        header: &Header,
    ) -> Option<CommitCertificate> {
        let me = self.key.public_key();
        let power = set.validators().get(set.index_of(&me)?)?.power;
        if !set.is_quorum(power) {
            return None;
        }
        let vote = Vote {
            kind: VoteKind::Precommit,
            height: header.height,
            round: 0,
            block_hash: Some(header.hash()),
        };
        let sig = self.key.sign(&vote.signing_bytes(chain_id));
        CommitCertificate::from_signatures(set, header.height, 0, header.hash(), &[(me, sig)]).ok()
    }
}

/// Why the core could not start.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The stored chain belongs to another genesis.
    #[error("the data directory holds chain {stored} but genesis.json is {expected}")]
    WrongGenesis {
        /// Stored.
        stored: Hash,
        /// From genesis.json.
        expected: Hash,
    },
    /// Something else is inconsistent.
    #[error("{0}")]
    Invalid(String),
}

/// Writes a snapshot file's height into an empty `store` after checking it against `genesis`
/// ([`Snapshot::check`]); returns the height. The node then goes on from there by sync
/// (docs/adr/0023-joining-from-a-snapshot.md).
pub fn import_snapshot<S: NodeStore + ?Sized, R: rand::RngCore + rand::CryptoRng>(
    store: &S,
    genesis: &Genesis,
    snapshot: &Snapshot,
    rng: R,
) -> Result<u64, CoreError> {
    if let Some(tip) = store.tip()? {
        return Err(CoreError::Invalid(format!(
            "the data directory already holds the chain up to height {}; a snapshot starts an empty one",
            tip.height
        )));
    }
    let checked = snapshot.check(genesis, rng).map_err(CoreError::Invalid)?;
    let header = &snapshot.header;
    let tip = ChainTip {
        height: checked.height,
        block_hash: checked.block_hash,
        state_root: header.state_root,
        tx_log_root: header.tx_log_root,
        tx_log_size: header.tx_log_size,
        time_ms: header.time_ms,
        next_validator_set: snapshot.next_validator_set.clone(),
    };
    let batch = CommitBatch {
        block: None,
        receipts: Vec::new(),
        validator_set: snapshot.validator_set.clone(),
        state: checked.state,
        log_nodes: checked.log_nodes,
        tx_index: Vec::new(),
        tip,
    };
    let base = SnapshotBase {
        height: checked.height,
        genesis_hash: genesis.hash(),
    };
    store.import_snapshot(&batch, &base)?;
    Ok(checked.height)
}

/// A read-only view of committed state at one version, for the executor.
pub struct VersionView<'a, S: NodeStore + ?Sized> {
    store: &'a S,
    version: u64,
}

impl<'a, S: NodeStore + ?Sized> VersionView<'a, S> {
    /// The state of `store` at `version`.
    pub fn new(store: &'a S, version: u64) -> Self {
        VersionView { store, version }
    }
}

impl<S: NodeStore + ?Sized> StateView for VersionView<'_, S> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match state::get(self.store, key, self.version) {
            Ok(v) => v,
            // A read failure must not be mistaken for "absent": stop the node.
            Err(e) => panic!("state read failed at version {}: {e}", self.version),
        }
    }
}

/// Transaction-log nodes of the store plus pending appends of the block being built.
struct PendingLog<'a, S: NodeStore + ?Sized> {
    store: &'a S,
    size: u64,
    nodes: std::collections::BTreeMap<(u32, u64), Hash>,
}

impl<S: NodeStore + ?Sized> LogReader for PendingLog<'_, S> {
    fn size(&self) -> u64 {
        self.size
    }
    fn perfect_node(&self, level: u32, index: u64) -> Option<Hash> {
        self.nodes
            .get(&(level, index))
            .copied()
            .or_else(|| self.store.perfect_node(level, index))
    }
}

/// The node core.
pub struct NodeCore<S: NodeStore> {
    store: Arc<S>,
    chain_id: String,
    genesis_hash: Hash,
    key: SecretKey,
    config: ConsensusConfig,
    mempool: Mempool,
    decider: Box<dyn Decider>,
    tip: ChainTip,
    current_set: ValidatorSet,
    /// Randomness for batch signature verification, seeded by the caller (the daemon from the
    /// OS, the simulation from its seed): the core itself reads no OS randomness.
    rng: std::cell::RefCell<ChaCha20Rng>,
    /// The issuers' status lists, updated at each commit (shared with the API).
    status_lists: Arc<crate::credentials::StatusLists>,
}

/// Commits the genesis state (height 0) to an empty store.
fn commit_genesis<S: NodeStore>(store: &S, genesis: &Genesis) -> Result<ChainTip, CoreError> {
    let writes = genesis.initial_writes().map_err(CoreError::Invalid)?;
    let (root, update) =
        state::apply(store, 0, &writes).map_err(|e| CoreError::Invalid(e.to_string()))?;
    let set = genesis.validator_set().map_err(CoreError::Invalid)?;
    let tip = ChainTip {
        height: 0,
        block_hash: genesis.hash(),
        state_root: root,
        tx_log_root: merkle_log::EMPTY_ROOT,
        tx_log_size: 0,
        time_ms: genesis.genesis_time_ms,
        next_validator_set: set.clone(),
    };
    store.commit(&CommitBatch {
        block: None,
        receipts: Vec::new(),
        validator_set: set,
        state: update,
        log_nodes: Vec::new(),
        tx_index: Vec::new(),
        tip: tip.clone(),
    })?;
    Ok(tip)
}

impl<S: NodeStore> NodeCore<S> {
    /// Opens the core over `store`, committing genesis if the store is empty and refusing a
    /// store that holds another chain.
    pub fn open(
        store: Arc<S>,
        genesis: &Genesis,
        key: SecretKey,
        config: ConsensusConfig,
        mempool: MempoolConfig,
        decider: Box<dyn Decider>,
        rng_seed: [u8; 32],
    ) -> Result<NodeCore<S>, CoreError> {
        let tip = match store.tip()? {
            Some(tip) => tip,
            None => commit_genesis(store.as_ref(), genesis)?,
        };
        let stored_genesis = if tip.height == 0 {
            tip.block_hash
        } else if let Some(base) = store.snapshot_base()? {
            base.genesis_hash
        } else {
            store
                .block(1)?
                .map(|b| b.header.parent_hash)
                .ok_or_else(|| CoreError::Invalid("block 1 missing".into()))?
        };
        if stored_genesis != genesis.hash() {
            return Err(CoreError::WrongGenesis {
                stored: stored_genesis,
                expected: genesis.hash(),
            });
        }
        let current_set = tip.next_validator_set.clone();
        let status_lists = Arc::new(crate::credentials::StatusLists::new(tip.height));
        Ok(NodeCore {
            status_lists,
            store,
            chain_id: genesis.chain_id.clone(),
            genesis_hash: genesis.hash(),
            key,
            config,
            mempool: Mempool::new(mempool),
            decider,
            tip,
            current_set,
            rng: std::cell::RefCell::new(ChaCha20Rng::from_seed(rng_seed)),
        })
    }

    /// The issuers' Bitstring Status Lists, kept current at each commit.
    pub fn status_lists(&self) -> Arc<crate::credentials::StatusLists> {
        self.status_lists.clone()
    }

    /// The last committed height.
    pub fn tip(&self) -> &ChainTip {
        &self.tip
    }

    /// The store (committed data).
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The genesis hash.
    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// This node's public key.
    pub fn node_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The mempool.
    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    /// The validator set that signs the next height.
    pub fn validator_set(&self) -> &ValidatorSet {
        &self.current_set
    }

    fn view(&self) -> VersionView<'_, S> {
        VersionView {
            store: self.store.as_ref(),
            version: self.tip.height,
        }
    }

    /// Admits a transaction given as canonical bytes, or says exactly why not (changing
    /// nothing).
    pub fn submit(&mut self, bytes: &[u8]) -> Result<Hash, AdmissionError> {
        self.submit_batch(&[bytes])
            .pop()
            .unwrap_or_else(|| Err(AdmissionError::new("MALFORMED", 400, "empty batch")))
    }

    /// Admits several transactions at once, answering each in order. Signatures of the
    /// transactions that pass the other checks are verified in one batch (the same ZIP-215
    /// rule as single verification); a bad signature is pinned to its own transaction.
    pub fn submit_batch(&mut self, batch: &[&[u8]]) -> Vec<Result<Hash, AdmissionError>> {
        let mut results: Vec<Result<(SignedTransaction, Hash), AdmissionError>> =
            batch.iter().map(|bytes| self.precheck(bytes)).collect();
        let candidates: Vec<(usize, Vec<u8>)> = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().ok().map(|(stx, _)| (i, stx.tx.signing_bytes())))
            .collect();
        let items: Vec<BatchItem<'_>> = candidates
            .iter()
            .map(|(i, msg)| {
                let (stx, _) = results[*i]
                    .as_ref()
                    .unwrap_or_else(|_| unreachable!("filtered above"));
                (*stx.tx.signer.as_bytes(), msg.as_slice(), stx.signature.0)
            })
            .collect();
        if let Err(bad) = verify_batch(&items, &mut *self.rng.borrow_mut()) {
            for b in bad {
                let i = candidates[b].0;
                let signer = results[i]
                    .as_ref()
                    .map(|(stx, _)| stx.tx.signer.to_hex())
                    .unwrap_or_default();
                results[i] = Err(AdmissionError::new(
                    "BAD_SIGNATURE",
                    400,
                    format!("signature does not verify for signer {signer}"),
                ));
            }
        }
        results
            .into_iter()
            .zip(batch)
            .map(|(r, bytes)| {
                let (stx, hash) = r?;
                let committed = next_nonce(&self.view(), &stx.tx.signer);
                self.mempool.insert(stx, hash, bytes.len(), committed)?;
                Ok(hash)
            })
            .collect()
    }

    /// Every admission check except the signature and the mempool's own.
    fn precheck(&self, bytes: &[u8]) -> Result<(SignedTransaction, Hash), AdmissionError> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(AdmissionError::new(
                "TX_TOO_LARGE",
                413,
                format!(
                    "transaction is {} bytes, over the limit of {MAX_TX_BYTES}",
                    bytes.len()
                ),
            ));
        }
        // The hash of the bytes as sent: a transaction already pending (the same one arriving
        // from a client and again from every peer's gossip) is answered without decoding it,
        // which would re-validate its signer's key. A pending transaction's hash is over its
        // canonical bytes, so only those bytes can match.
        let hash = namespace::tagged_hash(namespace::TX_HASH, bytes);
        if self.mempool.contains(&hash) {
            return Err(AdmissionError::new(
                "DUPLICATE",
                409,
                format!("transaction {hash} is already pending"),
            ));
        }
        let stx = SignedTransaction::from_bytes(bytes).map_err(|e| {
            let detail = match e {
                DecodeError::NonCanonical => "not the canonical encoding".to_string(),
                other => other.to_string(),
            };
            AdmissionError::new(
                "MALFORMED",
                400,
                format!("not a signed transaction: {detail}"),
            )
        })?;
        // Decoding refuses all but the canonical encoding, so these bytes are the ones the
        // transaction hash is over.
        debug_assert_eq!(hash, stx.hash());
        let next_height = self.tip.height + 1;
        let max_expiry = next_height.saturating_add(self.mempool.config().max_expiry_blocks);
        if stx.tx.expiry_height > max_expiry {
            return Err(AdmissionError::new(
                "EXPIRY_TOO_FAR",
                400,
                format!(
                    "expiry_height {} is beyond {max_expiry}",
                    stx.tx.expiry_height
                ),
            ));
        }
        check_admission(&self.view(), &self.chain_id, next_height, &stx).map_err(|e| {
            // One spelling of every code: the contract's own (`ResultCode::as_str`). Stateless
            // check failures (BAD_IDENTIFIER, INVALID_ARGUMENT) are refused here with the code
            // the block would have given, and never committed.
            let http = match e.code {
                ResultCode::UnknownSigner | ResultCode::Unauthorised => 403,
                _ => 400,
            };
            let code = e.code.as_str();
            AdmissionError::new(code, http, e.message)
        })?;
        Ok((stx, hash))
    }

    /// Handles one input.
    ///
    /// # Panics
    /// If storage fails while committing: a node that cannot persist must stop.
    pub fn handle(&mut self, input: Input) -> Vec<Output> {
        match input {
            Input::Tick { now_ms } => {
                let mut out = Vec::new();
                let expired = self.mempool.remove_expired(self.tip.height + 1);
                if !expired.is_empty() {
                    out.push(Output::Expired(expired));
                }
                if let Some(committed) = self.produce_block(now_ms) {
                    out.push(committed);
                }
                out
            }
        }
    }

    /// Whether the next block could include a pending transaction (see
    /// [`Mempool::has_ready`]): a proposer waits for one (up to the empty-block interval)
    /// instead of proposing empty blocks for transactions stuck behind a nonce gap.
    pub fn has_ready_txs(&self) -> bool {
        let view = self.view();
        self.mempool
            .has_ready(self.tip.height + 1, |s| next_nonce(&view, s))
    }

    /// Checks that `certificate` commits `block_hash` at the next height under the current
    /// validator set (every signature, with the core's batch-verification randomness).
    pub fn verify_certificate(
        &self,
        certificate: &CommitCertificate,
        height: u64,
        block_hash: &Hash,
    ) -> Result<u64, concordat_consensus::CertificateError> {
        certificate.verify(
            &self.chain_id,
            &self.current_set,
            height,
            block_hash,
            &mut *self.rng.borrow_mut(),
        )
    }

    /// Drops pending transactions that can no longer be included in the next height.
    pub fn expire_mempool(&mut self) -> Vec<Hash> {
        self.mempool.remove_expired(self.tip.height + 1)
    }

    fn produce_block(&mut self, now_ms: u64) -> Option<Output> {
        let executed = self.build_block(now_ms)?;
        let certificate =
            self.decider
                .decide(&self.chain_id, &self.current_set, &executed.block.header)?;
        Some(self.commit_executed(executed, certificate))
    }

    /// The proposer's path: takes transactions from the mempool and executes them on top of the
    /// tip. Nothing is committed. `None` when there is nothing to propose.
    pub fn build_block(&self, now_ms: u64) -> Option<Executed> {
        self.build(now_ms, false)
    }

    /// Like [`NodeCore::build_block`], but builds an empty block when nothing is pending (a BFT
    /// proposer must propose something).
    pub fn build_proposal(&self, now_ms: u64) -> Executed {
        match self.build(now_ms, true) {
            Some(e) => e,
            None => unreachable!("build with allow_empty always returns a block"),
        }
    }

    fn build(&self, now_ms: u64, allow_empty: bool) -> Option<Executed> {
        let view = self.view();
        let max_txs = self.config.max_block_txs.min(MAX_BLOCK_TXS);
        let height = self.tip.height + 1;
        let txs = self
            .mempool
            .select(height, max_txs, self.config.max_block_bytes, |s| {
                next_nonce(&view, s)
            });
        if txs.is_empty() && !allow_empty {
            return None;
        }
        let time_ms = now_ms.max(self.tip.time_ms.saturating_add(1));
        Some(self.execute(txs, time_ms, self.key.public_key()))
    }

    /// A live proposal's validity (Tendermint's `valid(v)` at a validator): the block's time
    /// may be at most [`MAX_CLOCK_DRIFT_MS`] ahead of this node's clock `now_ms`, and then
    /// everything [`NodeCore::validate_block`] checks. (Blocks from sync carry a certificate
    /// and are judged without a clock.)
    pub fn validate_proposal(&self, block: &Block, now_ms: u64) -> Result<Executed, String> {
        let limit = now_ms.saturating_add(MAX_CLOCK_DRIFT_MS);
        if block.header.time_ms > limit {
            return Err(format!(
                "block time {} is more than {MAX_CLOCK_DRIFT_MS} ms ahead of this node's clock {now_ms}",
                block.header.time_ms
            ));
        }
        self.validate_block(block)
    }

    /// A validator's path (Tendermint's `valid(v)`): re-executes a proposed block on top of the
    /// tip and accepts it only if its header is exactly the one execution produces. Checks the
    /// shape (limits, `txs_root`), the height, the time, and every transaction signature (in
    /// one batch). Nothing is committed.
    pub fn validate_block(&self, block: &Block) -> Result<Executed, String> {
        block.check_shape().map_err(|e| e.to_string())?;
        let h = &block.header;
        if h.height != self.tip.height + 1 || h.parent_hash != self.tip.block_hash {
            return Err(format!(
                "block {} at height {} does not extend the tip {} at height {}",
                h.hash(),
                h.height,
                self.tip.block_hash,
                self.tip.height
            ));
        }
        if h.time_ms <= self.tip.time_ms {
            return Err(format!(
                "block time {} is not after the parent's {}",
                h.time_ms, self.tip.time_ms
            ));
        }
        // Each signature is verified once per node: a transaction this node admitted (its
        // hash, which covers the signature, is in the mempool) was verified then.
        let unverified: Vec<&SignedTransaction> = block
            .txs
            .iter()
            .filter(|t| !self.mempool.contains(&t.hash()))
            .collect();
        let msgs: Vec<Vec<u8>> = unverified.iter().map(|t| t.tx.signing_bytes()).collect();
        let items: Vec<BatchItem<'_>> = unverified
            .iter()
            .zip(&msgs)
            .map(|(t, m)| (*t.tx.signer.as_bytes(), m.as_slice(), t.signature.0))
            .collect();
        verify_batch(&items, &mut *self.rng.borrow_mut())
            .map_err(|bad| format!("transactions {bad:?} carry invalid signatures"))?;
        let executed = self.execute(block.txs.clone(), h.time_ms, h.proposer);
        if &executed.block.header != h {
            return Err(format!(
                "header does not match execution (expected state root {}, tx log root {}, size {})",
                executed.block.header.state_root,
                executed.block.header.tx_log_root,
                executed.block.header.tx_log_size
            ));
        }
        Ok(executed)
    }

    /// Executes `txs` as the next block with the given time and proposer.
    ///
    /// # Panics
    /// If a state or log read fails: a node that cannot read its store must stop.
    fn execute(&self, txs: Vec<SignedTransaction>, time_ms: u64, proposer: PublicKey) -> Executed {
        let view = self.view();
        let height = self.tip.height + 1;
        let ctx = BlockContext::new(&self.chain_id, height, time_ms);
        let output = execute_block(&view, &ctx, &txs);
        let status_changes = concordat_contracts::licence::status_changes(&output.writes);
        let store = self.store.as_ref();
        let (state_root, update) = match state::apply(store, height, &output.writes) {
            Ok(r) => r,
            Err(e) => panic!("state update for height {height} failed: {e}"),
        };
        let mut log = PendingLog {
            store,
            size: self.tip.tx_log_size,
            nodes: Default::default(),
        };
        let mut log_nodes: Vec<LogNode> = Vec::new();
        let mut tx_index = Vec::new();
        for (i, r) in output.receipts.iter().enumerate() {
            let leaf = merkle_log::leaf_hash(&r.log_record(height).leaf_bytes());
            let nodes = match merkle_log::nodes_for_append(&log, leaf) {
                Ok(n) => n,
                Err(e) => panic!("tx log append failed: {e}"),
            };
            for n in &nodes {
                log.nodes.insert((n.level, n.index), n.hash);
            }
            log_nodes.extend(nodes);
            tx_index.push((
                r.tx_hash,
                TxLocation {
                    height,
                    index: i as u32,
                    log_index: log.size,
                    code: r.code,
                    message: r.message.clone(),
                },
            ));
            log.size += 1;
        }
        let tx_log_root = match merkle_log::root_at(&log, log.size) {
            Ok(r) => r,
            Err(e) => panic!("tx log root failed: {e}"),
        };
        let next_set = output
            .next_validator_set
            .clone()
            .unwrap_or_else(|| self.current_set.clone());
        let header = Header {
            chain_id: self.chain_id.clone(),
            height,
            parent_hash: self.tip.block_hash,
            time_ms,
            proposer,
            txs_root: txs_root(&txs),
            state_root,
            tx_log_root,
            tx_log_size: log.size,
            validator_set_hash: self.current_set.hash(),
            next_validator_set_hash: next_set.hash(),
            app_version: APP_VERSION,
        };
        let tip = ChainTip {
            height,
            block_hash: header.hash(),
            state_root,
            tx_log_root,
            tx_log_size: log.size,
            time_ms,
            next_validator_set: next_set.clone(),
        };
        Executed {
            block: Block { header, txs },
            receipts: output.receipts,
            update,
            log_nodes,
            tx_index,
            tip,
            next_set,
            status_changes,
        }
    }

    /// Commits an executed block with the certificate that decided it (one synced batch), and
    /// prunes the mempool.
    ///
    /// # Panics
    /// If `executed` does not extend the tip, or storage fails: both are fatal.
    pub fn commit_executed(
        &mut self,
        executed: Executed,
        certificate: CommitCertificate,
    ) -> Output {
        let Executed {
            block,
            receipts,
            update,
            log_nodes,
            tx_index,
            tip,
            next_set,
            status_changes,
        } = executed;
        let height = tip.height;
        assert_eq!(
            height,
            self.tip.height + 1,
            "executed block does not extend the tip"
        );
        let signers: BTreeSet<PublicKey> = block.txs.iter().map(|t| t.tx.signer).collect();
        let tx_hashes: Vec<Hash> = receipts.iter().map(|r| r.tx_hash).collect();
        let batch = CommitBatch {
            block: Some((block, certificate)),
            receipts,
            validator_set: self.current_set.clone(),
            state: update,
            log_nodes,
            tx_index,
            tip: tip.clone(),
        };
        let committed = failpoint::hit("commit.before_batch")
            .and_then(|()| self.store.commit(&batch).map_err(|e| e.to_string()))
            .and_then(|()| failpoint::hit("commit.after_batch"));
        if let Err(e) = committed {
            panic!("committing height {height} failed: {e}");
        }
        self.tip = tip;
        self.current_set = next_set;
        self.status_lists.apply(height, status_changes);
        let view = self.view();
        let nonces: Vec<(PublicKey, u64)> =
            signers.iter().map(|s| (*s, next_nonce(&view, s))).collect();
        for (s, n) in nonces {
            self.mempool.remove_below(&s, n);
        }
        // What expired with this height can never be included: drop it now, not on a tick.
        self.mempool.remove_expired(height + 1);
        if let Err(e) = failpoint::hit("commit.after_apply") {
            panic!("after committing height {height}: {e}");
        }
        Output::Committed { height, tx_hashes }
    }
}

/// A block executed on top of the tip (by its proposer or by a validator checking it), with
/// everything needed to commit it without executing again.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The block (its header commits to the execution results).
    pub block: Block,
    receipts: Vec<concordat_contracts::Receipt>,
    update: concordat_primitives::state::StateUpdate,
    log_nodes: Vec<LogNode>,
    tx_index: Vec<(Hash, TxLocation)>,
    tip: ChainTip,
    next_set: ValidatorSet,
    status_changes: Vec<concordat_contracts::licence::StatusChange>,
}
