//! What a module knows about the block it runs in. Its own file so that modules depend on it
//! and the executor depends on the modules, with no cycle between them.

use concordat_primitives::Hash;
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
    /// The hash of the transaction being executed (`None` for what the executor runs by
    /// itself at the block's start), so that a record can name the transaction behind each
    /// step and a reader can prove it from the transaction log.
    #[serde(skip)]
    pub tx: Option<Hash>,
}

impl BlockContext {
    /// The context of block `height` at `time_ms`, outside any transaction.
    pub fn new(chain_id: &str, height: u64, time_ms: u64) -> BlockContext {
        BlockContext {
            chain_id: chain_id.to_string(),
            height,
            time_ms,
            tx: None,
        }
    }
}
