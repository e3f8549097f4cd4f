//! Prometheus metrics in the text exposition format, kept in atomics.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The node's metrics.
#[derive(Default)]
pub struct Metrics {
    /// Committed height.
    pub height: AtomicU64,
    /// Committed transactions.
    pub txs_committed: AtomicU64,
    /// Pending transactions.
    pub mempool_size: AtomicU64,
    /// Pending bytes.
    pub mempool_bytes: AtomicU64,
    /// HTTP requests served.
    pub http_requests: AtomicU64,
    /// Sum of block commit times (µs).
    pub commit_micros_sum: AtomicU64,
    /// Number of block commits timed.
    pub commit_count: AtomicU64,
    /// Connected peers.
    pub peers: AtomicU64,
    /// Connections refused at the handshake (key not in the validator/observer set).
    pub peers_refused: AtomicU64,
    /// Blocks applied by sync, each with its certificate verified.
    pub sync_blocks: AtomicU64,
    /// Blocks or certificates from sync that were rejected.
    pub sync_rejected: AtomicU64,
    /// Equivocations seen.
    pub equivocations: AtomicU64,
    /// Signing requests the safety rules refused.
    pub signing_refusals: AtomicU64,
    /// Consensus messages the engine refused (bad signature, unknown signer, ...).
    pub consensus_refused: AtomicU64,
    /// Block bodies dropped (no signed proposal, bad shape, over a cap).
    pub bodies_dropped: AtomicU64,
    /// Messages for later heights dropped (bad signature or over the per-signer cap).
    pub future_dropped: AtomicU64,
    /// Peer messages dropped because the consensus queue was full.
    pub peer_queue_dropped: AtomicU64,
    /// Transaction-gossip batches dropped because their peer was over its byte budget.
    pub peer_budget_dropped: AtomicU64,
    /// Messages to peers dropped because the network queue was full.
    pub outbound_dropped: AtomicU64,
    /// Stalls: heights that went without a commit for the stall threshold.
    pub stalls: AtomicU64,
    /// 1 while the current height is stalled, else 0.
    pub stalled: AtomicU64,
    /// Current consensus round.
    pub round: AtomicU64,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
}

/// Counts one dropped message in `counter` and logs a WARN with `what` at the 1st, 1,001st,
/// 2,001st... drop, so that a flood is visible without flooding the log.
pub fn count_drop(counter: &AtomicU64, what: &'static str) {
    let dropped = counter.fetch_add(1, Ordering::Relaxed);
    if dropped % 1000 == 0 {
        tracing::warn!(dropped = dropped + 1, "{what}");
    }
}

impl Metrics {
    /// Counts a refused submission by code.
    pub fn reject(&self, code: &'static str) {
        if let Ok(mut m) = self.rejected.lock() {
            *m.entry(code).or_default() += 1;
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let g = |s: &mut String, name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        g(
            &mut s,
            "concordat_height",
            "gauge",
            "Last committed height.",
            self.height.load(Ordering::Relaxed),
        );
        g(
            &mut s,
            "concordat_txs_committed_total",
            "counter",
            "Transactions committed.",
            self.txs_committed.load(Ordering::Relaxed),
        );
        g(
            &mut s,
            "concordat_mempool_size",
            "gauge",
            "Pending transactions.",
            self.mempool_size.load(Ordering::Relaxed),
        );
        g(
            &mut s,
            "concordat_mempool_bytes",
            "gauge",
            "Pending transaction bytes.",
            self.mempool_bytes.load(Ordering::Relaxed),
        );
        g(
            &mut s,
            "concordat_http_requests_total",
            "counter",
            "HTTP requests served.",
            self.http_requests.load(Ordering::Relaxed),
        );
        for (name, kind, help, v) in [
            (
                "concordat_p2p_peers",
                "gauge",
                "Connected peers.",
                &self.peers,
            ),
            (
                "concordat_p2p_refused_total",
                "counter",
                "Connections refused at the handshake (unknown key).",
                &self.peers_refused,
            ),
            (
                "concordat_sync_blocks_total",
                "counter",
                "Blocks applied by sync after verifying their certificates.",
                &self.sync_blocks,
            ),
            (
                "concordat_sync_rejected_total",
                "counter",
                "Synced blocks or certificates rejected.",
                &self.sync_rejected,
            ),
            (
                "concordat_equivocations_total",
                "counter",
                "Equivocating validator messages seen.",
                &self.equivocations,
            ),
            (
                "concordat_signing_refusals_total",
                "counter",
                "Signing requests refused by the safety rules (the stored vote is sent instead).",
                &self.signing_refusals,
            ),
            (
                "concordat_consensus_refused_total",
                "counter",
                "Consensus messages refused by the engine.",
                &self.consensus_refused,
            ),
            (
                "concordat_bodies_dropped_total",
                "counter",
                "Block bodies dropped (no signed proposal, bad shape, or over a cap).",
                &self.bodies_dropped,
            ),
            (
                "concordat_future_dropped_total",
                "counter",
                "Messages for later heights dropped (bad signature or over the per-signer cap).",
                &self.future_dropped,
            ),
            (
                "concordat_peer_queue_dropped_total",
                "counter",
                "Peer messages dropped because the consensus queue was full.",
                &self.peer_queue_dropped,
            ),
            (
                "concordat_p2p_budget_dropped_total",
                "counter",
                "Transaction-gossip batches dropped: their peer was over its byte budget.",
                &self.peer_budget_dropped,
            ),
            (
                "concordat_outbound_dropped_total",
                "counter",
                "Messages to peers dropped because the network queue was full.",
                &self.outbound_dropped,
            ),
            (
                "concordat_stalls_total",
                "counter",
                "Heights that went without a commit for the stall threshold while peers were connected.",
                &self.stalls,
            ),
            (
                "concordat_stalled",
                "gauge",
                "1 while the current height is stalled.",
                &self.stalled,
            ),
            (
                "concordat_round",
                "gauge",
                "Consensus round of the height being decided.",
                &self.round,
            ),
        ] {
            g(&mut s, name, kind, help, v.load(Ordering::Relaxed));
        }
        let _ = writeln!(s, "# HELP concordat_block_commit_seconds Time to execute and durably commit a block.\n# TYPE concordat_block_commit_seconds summary");
        let _ = writeln!(
            s,
            "concordat_block_commit_seconds_sum {:.6}",
            self.commit_micros_sum.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            s,
            "concordat_block_commit_seconds_count {}",
            self.commit_count.load(Ordering::Relaxed)
        );
        let _ = writeln!(s, "# HELP concordat_txs_rejected_total Submissions refused, by code.\n# TYPE concordat_txs_rejected_total counter");
        if let Ok(m) = self.rejected.lock() {
            for (code, n) in m.iter() {
                let _ = writeln!(s, "concordat_txs_rejected_total{{code=\"{code}\"}} {n}");
            }
        }
        s
    }
}
