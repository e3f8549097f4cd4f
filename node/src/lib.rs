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
pub mod http;
pub mod mempool;
pub mod metrics;
pub mod net;
pub mod rocks;
pub mod service;
pub mod store;
