//! Timeout configuration: each timeout grows linearly with the round
//! (`base_ms + round * per_round_ms`, saturating), so that after the global stabilisation time
//! a round eventually lasts long enough for correct validators to hear each other (the
//! paper's assumption for liveness).

use serde::{Deserialize, Serialize};

use crate::types::TimeoutKind;

/// One timeout: `base_ms + round * per_round_ms`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Duration in round 0.
    pub base_ms: u64,
    /// Added per round.
    pub per_round_ms: u64,
}

impl Backoff {
    /// The duration for `round`.
    pub fn at(&self, round: u32) -> u64 {
        self.base_ms
            .saturating_add(self.per_round_ms.saturating_mul(u64::from(round)))
    }
}

/// The three timeouts of the paper.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutConfig {
    /// `timeoutPropose`: must cover receiving and executing the proposed block.
    pub propose: Backoff,
    /// `timeoutPrevote`.
    pub prevote: Backoff,
    /// `timeoutPrecommit`.
    pub precommit: Backoff,
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        TimeoutConfig {
            propose: Backoff {
                base_ms: 3_000,
                per_round_ms: 500,
            },
            prevote: Backoff {
                base_ms: 1_000,
                per_round_ms: 500,
            },
            precommit: Backoff {
                base_ms: 1_000,
                per_round_ms: 500,
            },
        }
    }
}

impl TimeoutConfig {
    /// The duration of timeout `kind` in `round`.
    pub fn duration_ms(&self, kind: TimeoutKind, round: u32) -> u64 {
        match kind {
            TimeoutKind::Propose => self.propose.at(round),
            TimeoutKind::Prevote => self.prevote.at(round),
            TimeoutKind::Precommit => self.precommit.at(round),
        }
    }
}
