//! A state snapshot file: the state of one certified height, for a node that joins without
//! replaying from genesis (docs/adr/0023-joining-from-a-snapshot.md).
//!
//! `concordat snapshot fetch` builds it from a node's pages after verifying the height's header
//! with the light-client rule against the genesis file; `concordat-node --import-snapshot`
//! checks it again here (certificate against the included validator set, every hash the
//! header names, the rebuilt state root) before writing anything.

use concordat_consensus::CommitCertificate;
use concordat_primitives::ledger::{Header, ValidatorSet};
use concordat_primitives::merkle_log::{self, LogNode};
use concordat_primitives::state::{snapshot, MemoryStore, StateUpdate};
use concordat_primitives::{encoding, Hash};
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::Genesis;

/// The snapshot file's format version.
pub const SNAPSHOT_VERSION: u16 = 1;

/// The largest snapshot file read (the state of 1 M records is about 190 MB; this allows some
/// 40 M, and the file is held in memory while it is checked).
pub const MAX_SNAPSHOT_BYTES: usize = 8 << 30;

/// The state of a certified height and what a node needs to go on from it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// [`SNAPSHOT_VERSION`].
    pub version: u16,
    /// The genesis the chain grew from.
    pub genesis_hash: Hash,
    /// The header of the height (it names every root checked here).
    pub header: Header,
    /// The certificate that decided it.
    pub certificate: CommitCertificate,
    /// The validator set that signed it.
    pub validator_set: ValidatorSet,
    /// The validator set in force from the next height.
    pub next_validator_set: ValidatorSet,
    /// The transaction log's frontier (see [`merkle_log::frontier`]).
    pub log_frontier: Vec<Hash>,
    /// Every state entry, in key-hash order.
    pub entries: Vec<snapshot::Entry>,
}

/// A snapshot that passed [`Snapshot::check`]: what the node persists.
#[derive(Debug, Clone)]
pub struct CheckedSnapshot {
    /// The height.
    pub height: u64,
    /// Its block hash.
    pub block_hash: Hash,
    /// The state tree at the height.
    pub state: StateUpdate,
    /// The log's frontier nodes.
    pub log_nodes: Vec<LogNode>,
}

impl Snapshot {
    /// The canonical bytes (the file).
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::to_bytes(self)
    }

    /// Reads a snapshot file (at most [`MAX_SNAPSHOT_BYTES`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Snapshot, String> {
        encoding::from_bytes_limited(bytes, MAX_SNAPSHOT_BYTES)
            .map_err(|e| format!("not a snapshot file: {e}"))
    }

    /// Checks the snapshot against `genesis`: the chain and genesis, the certificate of the
    /// block by the included validator set (whose hash the header names), the next set's hash,
    /// the log frontier against the header's log root, and the state rebuilt from the entries
    /// against the header's state root. The validator set itself is trusted here; `concordat
    /// snapshot fetch` verified the header with the light-client rule from genesis.
    pub fn check<R: RngCore + CryptoRng>(
        &self,
        genesis: &Genesis,
        rng: R,
    ) -> Result<CheckedSnapshot, String> {
        if self.version != SNAPSHOT_VERSION {
            return Err(format!("snapshot format {} is not known", self.version));
        }
        if self.genesis_hash != genesis.hash() {
            return Err(format!(
                "the snapshot is of the chain from genesis {}, not {}",
                self.genesis_hash,
                genesis.hash()
            ));
        }
        let header = &self.header;
        if header.chain_id != genesis.chain_id {
            return Err(format!("the snapshot is of chain {}", header.chain_id));
        }
        if header.height == 0 {
            return Err("a snapshot is of a height above genesis".into());
        }
        if self.validator_set.hash() != header.validator_set_hash {
            return Err("the included validator set is not the one the header names".into());
        }
        if self.next_validator_set.hash() != header.next_validator_set_hash {
            return Err("the included next validator set is not the one the header names".into());
        }
        let block_hash = header.hash();
        self.certificate
            .verify(
                &genesis.chain_id,
                &self.validator_set,
                header.height,
                &block_hash,
                rng,
            )
            .map_err(|e| format!("the snapshot's certificate: {e}"))?;
        let log_nodes = merkle_log::verified_frontier(
            header.tx_log_size,
            &self.log_frontier,
            &header.tx_log_root,
        )
        .ok_or("the log frontier does not give the header's log root")?;
        let (root, state) = snapshot::import(&MemoryStore::new(), header.height, &self.entries)
            .map_err(|e| format!("the snapshot's state: {e}"))?;
        if root != header.state_root {
            return Err(format!(
                "the state rebuilt from the snapshot has root {root}, the certified header {}",
                header.state_root
            ));
        }
        Ok(CheckedSnapshot {
            height: header.height,
            block_hash,
            state,
            log_nodes,
        })
    }
}
