//! `concordat-node`: the only crate with IO. It wraps the pure crates with storage (RocksDB),
//! the node core's event loop, the HTTP API and metrics.
//!
//! Data flows one way: API and peers -> consensus thread (admission, the BFT driver) ->
//! contracts (execute) -> store (one atomic synced batch per height) -> API reads. The network
//! task (libp2p) carries consensus messages, gossip and sync between nodes.

pub mod api;
pub mod bft;
pub mod config;
pub mod core;
pub mod credentials;
pub mod failpoint;
pub mod http;
pub mod mempool;
pub mod metrics;
pub mod net;
#[cfg(feature = "rocksdb")]
pub mod rocks;
pub mod service;
pub mod signed_log;
pub mod store;
pub mod trace_api;

/// Exit status of a node stopped by a storage failure or a broken invariant on the consensus
/// thread (sysexits' EX_SOFTWARE).
pub const FATAL_EXIT_STATUS: i32 = 70;

/// Stops the whole process after an error log: used when the consensus thread cannot go on
/// (a panic there, or a safety state that cannot be made durable). Every such stop looks the
/// same to an operator and a supervisor: the same log line and exit status 70.
pub fn stop_fatally() -> ! {
    tracing::error!("the consensus thread failed; the node stops (exit status 70)");
    std::process::exit(FATAL_EXIT_STATUS)
}
