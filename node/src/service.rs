//! The runtime around consensus: one thread owns the [`BftDriver`] (and through it the node
//! core). Submissions from the API, messages and synced blocks from the network, and timers
//! all arrive there in order; the thread persists the safety state (synced) before anything
//! it signed is handed to the network, and reports commits to the API.
//!
//! The HTTP API talks to the thread through a bounded channel and reads committed data
//! straight from the store.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use concordat_consensus::{CommitCertificate, SafetyState, TimeoutKind};
use concordat_contracts::block::Block;
use concordat_primitives::{Hash, PublicKey};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::bft::{BftDriver, Effect, NetMsg, SyncError};
use crate::mempool::AdmissionError;
use crate::metrics::Metrics;
use crate::store::NodeStore;

/// A request to the consensus thread.
pub enum Request {
    /// Admit a transaction (from the API).
    Submit {
        /// Canonical bytes.
        bytes: Vec<u8>,
        /// Where to answer.
        reply: oneshot::Sender<Result<Hash, AdmissionError>>,
    },
    /// Is this transaction pending?
    IsPending {
        /// Its hash.
        hash: Hash,
        /// Where to answer.
        reply: oneshot::Sender<bool>,
    },
    /// A consensus message or block body from a peer.
    Peer(Box<NetMsg>),
    /// Transactions gossiped by a peer (admitted like submissions, not gossiped again).
    PeerTxs(Vec<Vec<u8>>),
    /// Blocks with their certificates, fetched by sync, in height order.
    Synced(Vec<(Block, CommitCertificate)>),
    /// Stop the loop.
    Shutdown,
}

/// What the consensus thread hands to the network.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// Send to every connected peer.
    Consensus(Box<NetMsg>),
    /// Gossip a transaction this node admitted from a client.
    Tx(Vec<u8>),
    /// The keys now allowed to connect (after a validator-set change).
    Allow(Vec<PublicKey>),
}

/// The API's handle on the consensus thread.
#[derive(Clone)]
pub struct CoreHandle {
    tx: SyncSender<Request>,
    /// Committed heights, as they happen.
    pub commits: broadcast::Sender<u64>,
}

impl CoreHandle {
    /// Sends a request; false if the thread has stopped or is overloaded.
    pub fn send(&self, req: Request) -> bool {
        self.tx.try_send(req).is_ok()
    }

    /// Asks the thread to stop, waiting for room in its queue.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Request::Shutdown);
    }
}

/// Persists the safety state durably (synced) or fails.
pub type Persist = Box<dyn FnMut(&SafetyState) -> Result<(), String> + Send>;

/// Settings of the consensus thread.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// How often mempool expiry and owed proposals are checked.
    pub tick: Duration,
    /// A height that has not committed for this long re-sends our own messages.
    pub resend_after: Duration,
    /// Keys always allowed besides the validators (observers).
    pub observers: Vec<PublicKey>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Most submissions admitted (and signature-checked) together.
pub const MAX_ADMISSION_BATCH: usize = 256;
/// Capacity of the request channel into the consensus thread.
pub const REQUEST_QUEUE: usize = 4096;

/// Starts the consensus thread over `driver`. Outbound messages go to `out`.
pub fn spawn<S: NodeStore + 'static>(
    driver: BftDriver<S>,
    persist: Persist,
    out: mpsc::Sender<Outbound>,
    config: ServiceConfig,
    metrics: Arc<Metrics>,
) -> (CoreHandle, JoinHandle<()>) {
    let (tx, rx) = sync_channel::<Request>(REQUEST_QUEUE);
    let (commits, _) = broadcast::channel(1024);
    let handle = CoreHandle {
        tx,
        commits: commits.clone(),
    };
    metrics
        .height
        .store(driver.core().tip().height, Ordering::Relaxed);
    let mut service = Service {
        driver,
        persist,
        out,
        config,
        metrics,
        commits,
        timers: Vec::new(),
        allowed: Vec::new(),
    };
    let join = std::thread::Builder::new()
        .name("concordat-consensus".into())
        .spawn(move || service.run(rx))
        .unwrap_or_else(|e| panic!("cannot start the consensus thread: {e}"));
    (handle, join)
}

type Submission = (
    Vec<u8>,
    Option<oneshot::Sender<Result<Hash, AdmissionError>>>,
);

struct Service<S: NodeStore> {
    driver: BftDriver<S>,
    persist: Persist,
    out: mpsc::Sender<Outbound>,
    config: ServiceConfig,
    metrics: Arc<Metrics>,
    commits: broadcast::Sender<u64>,
    timers: Vec<(Instant, TimeoutKind, u64, u32)>,
    allowed: Vec<PublicKey>,
}

impl<S: NodeStore> Service<S> {
    fn run(&mut self, rx: Receiver<Request>) {
        self.publish_allowed();
        self.driver.set_time(now_ms());
        let effects = self.driver.start();
        self.apply(effects);
        let mut next_tick = Instant::now() + self.config.tick;
        let mut height = self.driver.height();
        let mut height_since = Instant::now();
        let mut last_resend = Instant::now();
        loop {
            let first_timer = self.timers.iter().map(|t| t.0).min();
            let deadline = first_timer.map_or(next_tick, |t| t.min(next_tick));
            let wait = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(req) => {
                    if !self.on_request(req, &rx) {
                        return;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.fire_timers();
            let now = Instant::now();
            if self.driver.height() != height {
                height = self.driver.height();
                height_since = now;
            }
            if now >= next_tick {
                let expired = self.driver.core_mut().expire_mempool();
                if !expired.is_empty() {
                    tracing::info!(count = expired.len(), "dropped expired transactions");
                }
                self.driver.set_time(now_ms());
                let effects = self.driver.poll();
                self.apply(effects);
                if now.duration_since(height_since) >= self.config.resend_after
                    && now.duration_since(last_resend) >= self.config.resend_after
                {
                    let effects = self.driver.resend();
                    self.apply(effects);
                    last_resend = now;
                }
                let mempool = self.driver.core().mempool();
                self.metrics
                    .mempool_size
                    .store(mempool.len() as u64, Ordering::Relaxed);
                self.metrics
                    .mempool_bytes
                    .store(mempool.bytes() as u64, Ordering::Relaxed);
                next_tick = now + self.config.tick;
            }
        }
    }

    /// Handles one request (and, for submissions, those queued behind it); false means stop.
    fn on_request(&mut self, req: Request, rx: &Receiver<Request>) -> bool {
        match req {
            Request::Submit { bytes, reply } => {
                // Take every submission already queued (up to a batch) so their signatures
                // are verified together.
                let mut subs: Vec<Submission> = vec![(bytes, Some(reply))];
                let mut next = None;
                while subs.len() < MAX_ADMISSION_BATCH {
                    match rx.try_recv() {
                        Ok(Request::Submit { bytes, reply }) => subs.push((bytes, Some(reply))),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                self.admit(subs);
                match next {
                    Some(req) => self.on_request(req, rx),
                    None => true,
                }
            }
            Request::PeerTxs(txs) => {
                for chunk in txs.chunks(MAX_ADMISSION_BATCH) {
                    self.admit(chunk.iter().map(|b| (b.clone(), None)).collect());
                }
                true
            }
            Request::IsPending { hash, reply } => {
                let _ = reply.send(self.driver.core().mempool().contains(&hash));
                true
            }
            Request::Peer(msg) => {
                self.driver.set_time(now_ms());
                let effects = self.driver.on_message(*msg);
                self.apply(effects);
                true
            }
            Request::Synced(blocks) => {
                self.on_synced(blocks);
                true
            }
            Request::Shutdown => false,
        }
    }

    fn admit(&mut self, subs: Vec<Submission>) {
        let inputs: Vec<&[u8]> = subs.iter().map(|(b, _)| b.as_slice()).collect();
        let results = self.driver.core_mut().submit_batch(&inputs);
        for ((bytes, reply), result) in subs.into_iter().zip(results) {
            match reply {
                // A client's transaction: answer and gossip it if admitted.
                Some(reply) => {
                    if let Err(e) = &result {
                        self.metrics.reject(e.code);
                    } else {
                        self.send_out(Outbound::Tx(bytes));
                    }
                    let _ = reply.send(result);
                }
                // A peer's: already gossiped by the node that admitted it.
                None => {
                    if let Err(e) = result {
                        tracing::debug!(code = e.code, "gossiped transaction refused");
                    }
                }
            }
        }
        self.driver.set_time(now_ms());
        let effects = self.driver.poll();
        self.apply(effects);
    }

    fn on_synced(&mut self, blocks: Vec<(Block, CommitCertificate)>) {
        for (block, cert) in blocks {
            let height = block.header.height;
            match self.driver.apply_synced(block, cert) {
                Ok(effects) => {
                    self.metrics.sync_blocks.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(height, "synced block (certificate verified)");
                    self.apply(effects);
                }
                // Already have it (a concurrent commit or an overlapping fetch).
                Err(SyncError::NotNext { got, tip }) if got <= tip => {}
                Err(e) => {
                    self.metrics.sync_rejected.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(height, error = %e, "synced block rejected");
                    return;
                }
            }
        }
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        let height = self.driver.height();
        self.timers.retain(|t| t.2 >= height);
        let due: Vec<_> = self.timers.iter().filter(|t| t.0 <= now).copied().collect();
        self.timers.retain(|t| t.0 > now);
        for (_, kind, h, round) in due {
            self.driver.set_time(now_ms());
            let effects = self.driver.on_timeout(kind, h, round);
            self.apply(effects);
        }
    }

    fn send_out(&self, msg: Outbound) {
        if let Err(e) = self.out.try_send(msg) {
            // Consensus tolerates a lost message (stalled heights re-send); a full queue
            // means the network is far behind.
            tracing::warn!(error = %e, "network queue full; message dropped");
        }
    }

    fn publish_allowed(&mut self) {
        let mut keys: Vec<PublicKey> = self
            .driver
            .core()
            .validator_set()
            .validators()
            .iter()
            .map(|v| v.key)
            .collect();
        keys.extend(self.config.observers.iter().copied());
        keys.sort();
        keys.dedup();
        if keys != self.allowed {
            self.allowed = keys.clone();
            self.send_out(Outbound::Allow(keys));
        }
    }

    fn apply(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Persist(state) => {
                    if let Err(e) = (self.persist)(&state) {
                        // Voting without a durable watermark could double-sign after a crash:
                        // stop the whole process, not just this thread.
                        tracing::error!(error = %e, "cannot persist the consensus safety state; stopping");
                        std::process::abort();
                    }
                }
                Effect::Send(msg) => self.send_out(Outbound::Consensus(Box::new(msg))),
                Effect::Timer {
                    kind,
                    height,
                    round,
                    duration_ms,
                } => self.timers.push((
                    Instant::now() + Duration::from_millis(duration_ms),
                    kind,
                    height,
                    round,
                )),
                Effect::Committed {
                    height,
                    block_hash,
                    txs,
                    commit_micros,
                } => {
                    self.metrics
                        .commit_micros_sum
                        .fetch_add(commit_micros, Ordering::Relaxed);
                    self.metrics.commit_count.fetch_add(1, Ordering::Relaxed);
                    self.metrics.height.store(height, Ordering::Relaxed);
                    self.metrics
                        .txs_committed
                        .fetch_add(txs as u64, Ordering::Relaxed);
                    tracing::info!(height, %block_hash, txs, "committed block");
                    let _ = self.commits.send(height);
                    self.publish_allowed();
                }
                Effect::Evidence(e) => {
                    self.metrics.equivocations.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(evidence = ?e, "equivocation");
                }
            }
        }
    }
}
