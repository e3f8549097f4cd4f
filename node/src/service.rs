//! The runtime around consensus: one thread owns the [`BftDriver`] (and through it the node
//! core). Submissions from the API, messages and synced blocks from the network, and timers
//! all arrive there in order; the thread persists the safety state (synced) before anything
//! it signed is handed to the network, and reports commits to the API.
//!
//! Two bounded queues lead into the thread: one for consensus (peer proposals, votes and
//! synced blocks), one for work that clients cause (API submissions, gossiped transactions,
//! pending checks). The thread always drains the consensus queue first, so API load can slow
//! admission but never starve consensus. The HTTP API reads committed data straight from the
//! store.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use concordat_consensus::{CommitCertificate, Message, SafetyState, Step, TimeoutKind};
use concordat_contracts::block::Block;
use concordat_primitives::{Hash, PublicKey};
use crossbeam_channel::{bounded, Receiver, Sender, TryRecvError};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::bft::{BftDriver, DriverStats, Effect, LockEvidence, NetMsg, SyncError};
use crate::failpoint;
use crate::mempool::AdmissionError;
use crate::metrics::Metrics;
use crate::signed_log::SignedLog;
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

/// The API's and the network's handle on the consensus thread.
#[derive(Clone)]
pub struct CoreHandle {
    consensus: Sender<Request>,
    work: Sender<Request>,
    /// Committed heights, as they happen.
    pub commits: broadcast::Sender<u64>,
}

impl CoreHandle {
    /// Sends a request to its queue (peer consensus messages and synced blocks to the
    /// consensus queue, everything else to the work queue); false if the thread has stopped
    /// or that queue is full.
    pub fn send(&self, req: Request) -> bool {
        let queue = match req {
            Request::Peer(_) | Request::Synced(_) | Request::Shutdown => &self.consensus,
            Request::Submit { .. } | Request::IsPending { .. } | Request::PeerTxs(_) => &self.work,
        };
        queue.try_send(req).is_ok()
    }

    /// Asks the thread to stop, waiting for room in its queue.
    pub fn shutdown(&self) {
        let _ = self.consensus.send(Request::Shutdown);
    }
}

/// Persists the safety state (with a new lock's evidence) durably, synced, or fails.
pub type Persist = Box<dyn FnMut(&SafetyState, Option<&LockEvidence>) -> Result<(), String> + Send>;

/// Settings of the consensus thread.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// How often mempool expiry and owed proposals are checked.
    pub tick: Duration,
    /// A height that has not committed for this long re-sends our own messages and relays
    /// what peers may lack; it is also reported as a stall (log and metrics).
    pub resend_after: Duration,
    /// Keys always allowed besides the validators (observers).
    pub observers: Vec<PublicKey>,
    /// Added to the system clock for block times (`CONCORDAT_CLOCK_OFFSET_MS`): rehearsals and
    /// tests of dated scenarios only. Every validator of a network must use the same offset.
    pub clock_offset_ms: i64,
}

fn now_ms(offset_ms: i64) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    now.saturating_add_signed(offset_ms)
}

/// Most submissions admitted (and signature-checked) together.
pub const MAX_ADMISSION_BATCH: usize = 256;
/// Capacity of the consensus queue (peer messages and synced blocks).
pub const CONSENSUS_QUEUE: usize = 4096;
/// Capacity of the work queue (API submissions, gossiped transactions, pending checks).
pub const WORK_QUEUE: usize = 4096;

fn monotonic_micros() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// Starts the consensus thread over `driver`. Outbound messages go to `out`.
/// Every message the node signs is appended to `signed_log` (when given) before it is sent.
pub fn spawn<S: NodeStore + 'static>(
    driver: BftDriver<S>,
    persist: Persist,
    out: mpsc::Sender<Outbound>,
    config: ServiceConfig,
    metrics: Arc<Metrics>,
    signed_log: Option<SignedLog>,
) -> (CoreHandle, JoinHandle<()>) {
    let (consensus, consensus_rx) = bounded::<Request>(CONSENSUS_QUEUE);
    let (work, work_rx) = bounded::<Request>(WORK_QUEUE);
    let (commits, _) = broadcast::channel(1024);
    let handle = CoreHandle {
        consensus,
        work,
        commits: commits.clone(),
    };
    let driver = driver.with_clock(monotonic_micros);
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
        reported: DriverStats::default(),
        signed_log,
        step_clock: None,
    };
    let join = std::thread::Builder::new()
        .name("concordat-consensus".into())
        .spawn(move || service.run(consensus_rx, work_rx))
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
    reported: DriverStats,
    signed_log: Option<SignedLog>,
    /// The consensus step in progress (height, round, step) and when it began.
    step_clock: Option<((u64, u32, Step), Instant)>,
}

impl<S: NodeStore> Service<S> {
    /// Times consensus steps: when the height, round or step has changed since the last call,
    /// the one that ended is recorded in `concordat_consensus_step_seconds`.
    fn note_step(&mut self) {
        let (round, step) = self.driver.round_step();
        let now_at = (self.driver.height(), round, step);
        match self.step_clock {
            Some((at, _)) if at == now_at => {}
            previous => {
                let now = Instant::now();
                if let Some(((_, _, ended), since)) = previous {
                    let slot = match ended {
                        Step::Propose => Some(0),
                        Step::Prevote => Some(1),
                        Step::Precommit => Some(2),
                        _ => None,
                    };
                    if let Some(i) = slot {
                        self.metrics.step_seconds[i]
                            .observe_micros(now.duration_since(since).as_micros() as u64);
                    }
                }
                self.step_clock = Some((now_at, now));
            }
        }
    }

    fn run(&mut self, consensus: Receiver<Request>, work: Receiver<Request>) {
        self.publish_allowed();
        self.driver.set_time(now_ms(self.config.clock_offset_ms));
        let effects = self.driver.start();
        self.apply(effects);
        let mut next_tick = Instant::now() + self.config.tick;
        let mut height = self.driver.height();
        let mut height_since = Instant::now();
        let mut last_resend = Instant::now();
        let mut stalled = false;
        loop {
            // Consensus first: what is queued there goes before client work (bounded per turn
            // so that timers still fire under a flood).
            for _ in 0..MAX_ADMISSION_BATCH {
                match consensus.try_recv() {
                    Ok(req) => {
                        if !self.on_request(req, &work) {
                            return;
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            let first_timer = self.timers.iter().map(|t| t.0).min();
            let deadline = first_timer.map_or(next_tick, |t| t.min(next_tick));
            let wait = deadline.saturating_duration_since(Instant::now());
            let mut select = crossbeam_channel::Select::new();
            let from_consensus = select.recv(&consensus);
            let from_work = select.recv(&work);
            if let Ok(op) = select.select_timeout(wait) {
                let received = match op.index() {
                    i if i == from_consensus => op.recv(&consensus),
                    i if i == from_work => op.recv(&work),
                    _ => unreachable!("two operations were registered"),
                };
                match received {
                    Ok(req) => {
                        if !self.on_request(req, &work) {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
            self.fire_timers();
            let now = Instant::now();
            if self.driver.is_idle() {
                // Waiting for something to commit is not a stall.
                height_since = now;
            }
            if self.driver.height() != height {
                if stalled {
                    tracing::info!(
                        height = self.driver.height() - 1,
                        stalled_for_ms = now.duration_since(height_since).as_millis() as u64,
                        "committing again after a stall"
                    );
                    self.metrics.stalled.store(0, Ordering::Relaxed);
                    stalled = false;
                }
                height = self.driver.height();
                height_since = now;
            }
            if now >= next_tick {
                let expired = self.driver.core_mut().expire_mempool();
                if !expired.is_empty() {
                    tracing::info!(count = expired.len(), "dropped expired transactions");
                }
                self.driver.set_time(now_ms(self.config.clock_offset_ms));
                let effects = self.driver.poll();
                self.apply(effects);
                let waiting = now.duration_since(height_since);
                if waiting >= self.config.resend_after
                    && now.duration_since(last_resend) >= self.config.resend_after
                {
                    if !stalled {
                        stalled = true;
                        self.metrics.stalls.fetch_add(1, Ordering::Relaxed);
                        self.metrics.stalled.store(1, Ordering::Relaxed);
                        let (round, step) = self.driver.round_step();
                        tracing::warn!(
                            height,
                            round,
                            step = ?step,
                            peers = self.metrics.peers.load(Ordering::Relaxed),
                            waited_ms = waiting.as_millis() as u64,
                            "no commit: height stalled; re-sending our messages and relaying the round's votes"
                        );
                    }
                    let effects = self.driver.resend();
                    self.apply(effects);
                    last_resend = now;
                }
                self.report_stats();
                next_tick = now + self.config.tick;
            }
        }
    }

    /// Exports the driver's counters and logs signing refusals as they happen.
    fn report_stats(&mut self) {
        let stats = self.driver.stats();
        let (round, _) = self.driver.round_step();
        self.metrics
            .round
            .store(u64::from(round), Ordering::Relaxed);
        if stats.signing_refusals > self.reported.signing_refusals {
            let (round, step) = self.driver.round_step();
            tracing::warn!(
                height = self.driver.height(),
                round,
                step = ?step,
                refused = stats.signing_refusals - self.reported.signing_refusals,
                "safety rules refused to sign a different message at a step already signed (after a restart); the stored message was counted and sent instead"
            );
        }
        let m = &self.metrics;
        m.signing_refusals
            .store(stats.signing_refusals, Ordering::Relaxed);
        m.consensus_refused
            .store(stats.messages_refused, Ordering::Relaxed);
        m.bodies_dropped
            .store(stats.bodies_dropped, Ordering::Relaxed);
        m.future_dropped
            .store(stats.future_dropped, Ordering::Relaxed);
        let mempool = self.driver.core().mempool();
        m.mempool_size
            .store(mempool.len() as u64, Ordering::Relaxed);
        m.mempool_bytes
            .store(mempool.bytes() as u64, Ordering::Relaxed);
        self.reported = stats;
    }

    /// Handles one request (and, for submissions, those queued behind it); false means stop.
    fn on_request(&mut self, req: Request, work: &Receiver<Request>) -> bool {
        match req {
            Request::Submit { bytes, reply } => {
                // Take every submission already queued (up to a batch) so their signatures
                // are verified together.
                let mut subs: Vec<Submission> = vec![(bytes, Some(reply))];
                let mut next = None;
                while subs.len() < MAX_ADMISSION_BATCH {
                    match work.try_recv() {
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
                    Some(req) => self.on_request(req, work),
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
                self.driver.set_time(now_ms(self.config.clock_offset_ms));
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
                    match &result {
                        Err(e) => self.metrics.reject(e.code),
                        Ok(hash) => {
                            self.metrics.submitted(*hash);
                            self.send_out(Outbound::Tx(bytes));
                        }
                    }
                    let _ = reply.send(result);
                }
                // A peer's: already gossiped by the node that admitted it.
                None => {
                    if let Err(e) = result {
                        self.metrics
                            .peer_txs_refused
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(code = e.code, "gossiped transaction refused");
                    }
                }
            }
        }
        self.driver.set_time(now_ms(self.config.clock_offset_ms));
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
            self.driver.set_time(now_ms(self.config.clock_offset_ms));
            let effects = self.driver.on_timeout(kind, h, round);
            self.apply(effects);
        }
    }

    fn send_out(&self, msg: Outbound) {
        if self.out.try_send(msg).is_err() {
            // Consensus tolerates a lost message (stalled heights re-send); a full queue
            // means the network is far behind.
            crate::metrics::count_drop(
                &self.metrics.outbound_dropped,
                "network queue full; messages to peers dropped",
            );
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

    /// Appends a message this node signed to the journal. A journal that cannot be written is
    /// reported and closed: it is for audits, and consensus does not wait on it.
    fn journal(&mut self, msg: &NetMsg) {
        let Some(log) = self.signed_log.as_mut() else {
            return;
        };
        let m = match msg {
            NetMsg::Consensus(m) => m.clone(),
            NetMsg::Proposal { proposal, .. } => Message::Proposal(proposal.clone()),
        };
        if let Err(e) = log.record(&m) {
            tracing::error!(error = %e, "cannot write the journal of signed messages; it is closed");
            self.signed_log = None;
        }
    }

    fn apply(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Persist(state, lock) => {
                    let persisted = failpoint::hit("vote.before_persist")
                        .and_then(|()| (self.persist)(&state, lock.as_deref()))
                        .and_then(|()| failpoint::hit("vote.after_persist"));
                    if let Err(e) = persisted {
                        // Voting without a durable watermark could double-sign after a crash:
                        // stop the whole process, not just this thread (status 70, as for any
                        // storage failure on this thread).
                        tracing::error!(error = %e, "cannot persist the consensus safety state; stopping");
                        crate::stop_fatally();
                    }
                }
                Effect::Send(msg) => {
                    self.journal(&msg);
                    self.send_out(Outbound::Consensus(Box::new(msg)));
                    if let Err(e) = failpoint::hit("vote.after_send") {
                        tracing::error!(error = %e, "stopping");
                        crate::stop_fatally();
                    }
                }
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
                    tx_hashes,
                    commit_micros,
                } => {
                    self.metrics.committed(commit_micros, &tx_hashes);
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
        self.note_step();
    }
}
