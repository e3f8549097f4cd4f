//! What a module knows about the block it runs in. Its own file so that modules depend on it
//! and the executor depends on the modules, with no cycle between them.

use serde::{Deserialize, Serialize};

/// What the executor knows about the block being executed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BlockContext {
    /// The chain id.
    pub chain_id: String,
    /// Height being executed.
    pub height: u64,
    /// Proposer time (ms since the Unix epoch).
    pub time_ms: u64,
}
