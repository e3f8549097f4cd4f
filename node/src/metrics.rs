//! Prometheus metrics in the text exposition format, kept in atomics. Every metric is named
//! in docs/operations.md, and a test checks that each one named there is served.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use concordat_primitives::Hash;

/// Upper bounds (seconds) of every histogram's buckets.
pub const BUCKETS_SECONDS: [f64; 13] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Most submissions whose commit latency is awaited at once; more are not timed.
pub const MAX_TIMED_SUBMISSIONS: usize = 100_000;

/// The consensus steps whose durations are timed, as labelled.
pub const STEPS: [&str; 3] = ["propose", "prevote", "precommit"];

/// A Prometheus histogram over [`BUCKETS_SECONDS`].
#[derive(Default)]
pub struct Histogram {
    /// Observations at or under each bound (not cumulative; summed when rendered).
    buckets: [AtomicU64; BUCKETS_SECONDS.len()],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    /// Records one observation of `micros` microseconds.
    pub fn observe_micros(&self, micros: u64) {
        let seconds = micros as f64 / 1e6;
        if let Some(i) = BUCKETS_SECONDS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, s: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, n) in BUCKETS_SECONDS.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(
                s,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count();
        let _ = writeln!(s, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(
            s,
            "{name}_sum{braces} {:.6}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(s, "{name}_count{braces} {count}");
    }
}

/// One storage figure read when `/metrics` is served.
pub struct StorageGauge {
    /// Metric name.
    pub name: &'static str,
    /// Its help text.
    pub help: &'static str,
    /// `gauge` or `counter`.
    pub kind: &'static str,
    /// Its value.
    pub value: u64,
}

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
    /// Block commit times (execute and durably write).
    pub block_commit: Histogram,
    /// Time from a client's accepted submission to the commit of its transaction.
    pub tx_commit_latency: Histogram,
    /// Time between consecutive commits.
    pub block_interval: Histogram,
    /// Time spent in each consensus step (indexed as [`STEPS`]).
    pub step_seconds: [Histogram; 3],
    /// Bytes received from peers.
    pub p2p_bytes_in: AtomicU64,
    /// Bytes sent to peers.
    pub p2p_bytes_out: AtomicU64,
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
    /// Transactions gossiped by peers that admission refused (bad signature, nonce, ...).
    pub peer_txs_refused: AtomicU64,
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
    http_by_route: Mutex<BTreeMap<(String, u16), u64>>,
    submitted: Mutex<HashMap<Hash, Instant>>,
    last_commit: Mutex<Option<Instant>>,
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

    /// Counts one HTTP request by its route pattern (e.g. `/v1/state/{kind}/{id}`) and status.
    pub fn http_request(&self, route: &str, status: u16) {
        self.http_requests.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.http_by_route.lock() {
            *m.entry((route.to_string(), status)).or_default() += 1;
        }
    }

    /// Notes a client's accepted submission, to time it to its commit.
    pub fn submitted(&self, hash: Hash) {
        if let Ok(mut m) = self.submitted.lock() {
            if m.len() >= MAX_TIMED_SUBMISSIONS {
                // Expired or refused transactions never commit: forget the old ones.
                let cutoff = Instant::now() - std::time::Duration::from_secs(600);
                m.retain(|_, t| *t > cutoff);
            }
            if m.len() < MAX_TIMED_SUBMISSIONS {
                m.entry(hash).or_insert_with(Instant::now);
            }
        }
    }

    /// Records a committed block: its commit time, the interval since the last, and the commit
    /// latency of every transaction in it that a client submitted here.
    pub fn committed(&self, commit_micros: u64, tx_hashes: &[Hash]) {
        let now = Instant::now();
        self.block_commit.observe_micros(commit_micros);
        if let Ok(mut last) = self.last_commit.lock() {
            if let Some(t) = *last {
                self.block_interval
                    .observe_micros(now.duration_since(t).as_micros() as u64);
            }
            *last = Some(now);
        }
        if let Ok(mut m) = self.submitted.lock() {
            if m.is_empty() {
                return;
            }
            for h in tx_hashes {
                if let Some(t) = m.remove(h) {
                    self.tx_commit_latency
                        .observe_micros(now.duration_since(t).as_micros() as u64);
                }
            }
        }
    }

    /// The text exposition, with `storage` figures read by the caller.
    pub fn render(&self, storage: &[StorageGauge]) -> String {
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
                "concordat_peer_txs_refused_total",
                "counter",
                "Transactions gossiped by peers that admission refused.",
                &self.peer_txs_refused,
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
        for (name, help, h) in [
            (
                "concordat_block_commit_seconds",
                "Time to execute and durably commit a block.",
                &self.block_commit,
            ),
            (
                "concordat_tx_commit_latency_seconds",
                "Time from a client's accepted submission to this node to its transaction's commit.",
                &self.tx_commit_latency,
            ),
            (
                "concordat_block_interval_seconds",
                "Time between consecutive commits.",
                &self.block_interval,
            ),
        ] {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} histogram");
            h.render(&mut s, name, "");
        }
        let name = "concordat_consensus_step_seconds";
        let _ = writeln!(
            s,
            "# HELP {name} Time spent in each consensus step (until the next step, round or height).\n# TYPE {name} histogram"
        );
        for (step, h) in STEPS.iter().zip(&self.step_seconds) {
            h.render(&mut s, name, &format!("step=\"{step}\""));
        }
        for (name, help, v) in [
            (
                "concordat_p2p_received_bytes_total",
                "Bytes of messages received from peers.",
                &self.p2p_bytes_in,
            ),
            (
                "concordat_p2p_sent_bytes_total",
                "Bytes of messages sent to peers.",
                &self.p2p_bytes_out,
            ),
        ] {
            g(&mut s, name, "counter", help, v.load(Ordering::Relaxed));
        }
        for gauge in storage {
            g(&mut s, gauge.name, gauge.kind, gauge.help, gauge.value);
        }
        let _ = writeln!(s, "# HELP concordat_txs_rejected_total Submissions refused, by code.\n# TYPE concordat_txs_rejected_total counter");
        if let Ok(m) = self.rejected.lock() {
            for (code, n) in m.iter() {
                let _ = writeln!(s, "concordat_txs_rejected_total{{code=\"{code}\"}} {n}");
            }
        }
        let _ = writeln!(s, "# HELP concordat_http_responses_total HTTP responses, by route pattern and status.\n# TYPE concordat_http_responses_total counter");
        if let Ok(m) = self.http_by_route.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    s,
                    "concordat_http_responses_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_render_cumulative_buckets_and_latency_is_timed_per_submission() {
        let m = Metrics::default();
        m.block_commit.observe_micros(3_000); // 3 ms: in le=0.005 and above
        m.block_commit.observe_micros(40_000_000); // over every bound: only +Inf
        let known = Hash::digest(b"submitted here");
        m.submitted(known);
        m.committed(2_000, &[Hash::digest(b"gossiped"), known]);
        m.committed(2_000, &[known]); // timed once only
        m.http_request("/v1/state/{kind}/{id}", 404);
        let text = m.render(&[StorageGauge {
            name: "concordat_storage_live_bytes",
            help: "x",
            kind: "gauge",
            value: 7,
        }]);
        for line in [
            "concordat_block_commit_seconds_bucket{le=\"0.001\"} 0",
            "concordat_block_commit_seconds_bucket{le=\"0.005\"} 3",
            "concordat_block_commit_seconds_bucket{le=\"30\"} 3",
            "concordat_block_commit_seconds_bucket{le=\"+Inf\"} 4",
            "concordat_block_commit_seconds_count 4",
            "concordat_tx_commit_latency_seconds_count 1",
            "concordat_block_interval_seconds_count 1",
            "concordat_consensus_step_seconds_count{step=\"prevote\"} 0",
            "concordat_http_responses_total{route=\"/v1/state/{kind}/{id}\",status=\"404\"} 1",
            "concordat_http_requests_total 1",
            "concordat_storage_live_bytes 7",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
