//! The runtime around the core: one thread runs the core's event loop (submissions in, ticks
//! from the clock, commits out); the HTTP API talks to it through a bounded channel and reads
//! committed data straight from the store.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use concordat_primitives::Hash;
use tokio::sync::{broadcast, oneshot};

use crate::core::{Input, NodeCore, Output};
use crate::mempool::AdmissionError;
use crate::metrics::Metrics;
use crate::store::NodeStore;

/// A request to the core thread.
pub enum Request {
    /// Admit a transaction.
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
    /// Stop the loop.
    Shutdown,
}

/// The API's handle on the core thread.
#[derive(Clone)]
pub struct CoreHandle {
    tx: SyncSender<Request>,
    /// Committed heights, as they happen.
    pub commits: broadcast::Sender<u64>,
}

impl CoreHandle {
    /// Sends a request; false if the core has stopped or is overloaded.
    pub fn send(&self, req: Request) -> bool {
        self.tx.try_send(req).is_ok()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Starts the core thread.
pub fn spawn_core<S: NodeStore + 'static>(
    mut core: NodeCore<S>,
    interval: Duration,
    metrics: Arc<Metrics>,
) -> (CoreHandle, JoinHandle<()>) {
    let (tx, rx) = sync_channel::<Request>(4096);
    let (commits, _) = broadcast::channel(1024);
    let handle = CoreHandle {
        tx,
        commits: commits.clone(),
    };
    metrics.height.store(core.tip().height, Ordering::Relaxed);
    let join = std::thread::Builder::new()
        .name("concordat-core".into())
        .spawn(move || run_loop(&mut core, rx, interval, &metrics, &commits))
        .unwrap_or_else(|e| panic!("cannot start the core thread: {e}"));
    (handle, join)
}

/// Most submissions admitted (and signature-checked) together.
pub const MAX_ADMISSION_BATCH: usize = 256;

/// Answers a non-submission request; false means stop.
fn answer<S: NodeStore>(core: &mut NodeCore<S>, req: Request) -> bool {
    match req {
        Request::Submit { bytes, reply } => {
            let _ = reply.send(core.submit(&bytes));
            true
        }
        Request::IsPending { hash, reply } => {
            let _ = reply.send(core.mempool().contains(&hash));
            true
        }
        Request::Shutdown => false,
    }
}

fn run_loop<S: NodeStore>(
    core: &mut NodeCore<S>,
    rx: Receiver<Request>,
    interval: Duration,
    metrics: &Metrics,
    commits: &broadcast::Sender<u64>,
) {
    let mut next_tick = Instant::now() + interval;
    loop {
        let wait = next_tick.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Request::Submit { bytes, reply }) => {
                // Take every submission already queued (up to a batch) so their signatures
                // are verified together.
                let mut subs = vec![(bytes, reply)];
                let mut next = None;
                while subs.len() < MAX_ADMISSION_BATCH {
                    match rx.try_recv() {
                        Ok(Request::Submit { bytes, reply }) => subs.push((bytes, reply)),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let inputs: Vec<&[u8]> = subs.iter().map(|(b, _)| b.as_slice()).collect();
                let results = core.submit_batch(&inputs);
                for ((_, reply), result) in subs.into_iter().zip(results) {
                    if let Err(e) = &result {
                        metrics.reject(e.code);
                    }
                    let _ = reply.send(result);
                }
                if let Some(req) = next {
                    if !answer(core, req) {
                        return;
                    }
                }
            }
            Ok(req) => {
                if !answer(core, req) {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if Instant::now() >= next_tick {
            let started = Instant::now();
            for out in core.handle(Input::Tick { now_ms: now_ms() }) {
                match out {
                    Output::Committed { height, tx_hashes } => {
                        let micros = started.elapsed().as_micros() as u64;
                        metrics
                            .commit_micros_sum
                            .fetch_add(micros, Ordering::Relaxed);
                        metrics.commit_count.fetch_add(1, Ordering::Relaxed);
                        metrics.height.store(height, Ordering::Relaxed);
                        metrics
                            .txs_committed
                            .fetch_add(tx_hashes.len() as u64, Ordering::Relaxed);
                        tracing::info!(height, txs = tx_hashes.len(), "committed block");
                        let _ = commits.send(height);
                    }
                    Output::Expired(hashes) => {
                        tracing::info!(count = hashes.len(), "dropped expired transactions");
                    }
                }
            }
            metrics
                .mempool_size
                .store(core.mempool().len() as u64, Ordering::Relaxed);
            metrics
                .mempool_bytes
                .store(core.mempool().bytes() as u64, Ordering::Relaxed);
            next_tick = Instant::now() + interval;
        }
    }
}
