//! Blocks: a header and the ordered transactions it commits to through `txs_root`.
//!
//! The commit certificate travels beside the block (it signs the header hash), so the block
//! bytes are final when proposed.

use concordat_primitives::encoding::{self, DecodeError};
use concordat_primitives::ledger::Header;
use concordat_primitives::merkle_log::MemoryLog;
use concordat_primitives::{merkle_log, Hash};
use serde::{Deserialize, Serialize};

use crate::tx::SignedTransaction;

/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 10_000;
/// Largest encoded block (8 MiB).
pub const MAX_BLOCK_BYTES: usize = 8 * 1024 * 1024;

/// A block.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The header (its hash is the block id).
    pub header: Header,
    /// Transactions in execution order.
    pub txs: Vec<SignedTransaction>,
}

/// Why a block's shape is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlockError {
    /// Bad bytes.
    #[error("block does not decode: {0}")]
    Decode(#[from] DecodeError),
    /// Too many transactions.
    #[error("{0} transactions is over the limit of {MAX_BLOCK_TXS}")]
    TooManyTxs(usize),
    /// `txs_root` does not match the transactions.
    #[error("txs_root {claimed} does not match the transactions ({actual})")]
    TxsRootMismatch {
        /// In the header.
        claimed: Hash,
        /// Computed.
        actual: Hash,
    },
}

/// RFC 9162 root over the transaction hashes, in order (the empty-tree root for none).
pub fn txs_root(txs: &[SignedTransaction]) -> Hash {
    let mut log = MemoryLog::new();
    for tx in txs {
        log.append(merkle_log::leaf_hash(tx.hash().as_bytes()));
    }
    log.root()
}

impl Block {
    /// The block id: its header hash.
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::to_bytes(self)
    }

    /// Decodes at most [`MAX_BLOCK_BYTES`] and checks the shape ([`Block::check_shape`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Block, BlockError> {
        let block: Block = encoding::from_bytes_limited(bytes, MAX_BLOCK_BYTES)?;
        block.check_shape()?;
        Ok(block)
    }

    /// Limits and `txs_root`. (Signatures, execution results and the certificate are checked
    /// by the node and consensus.)
    pub fn check_shape(&self) -> Result<(), BlockError> {
        if self.txs.len() > MAX_BLOCK_TXS {
            return Err(BlockError::TooManyTxs(self.txs.len()));
        }
        let actual = txs_root(&self.txs);
        if actual != self.header.txs_root {
            return Err(BlockError::TxsRootMismatch {
                claimed: self.header.txs_root,
                actual,
            });
        }
        Ok(())
    }
}
