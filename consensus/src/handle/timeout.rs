//! `TimeoutElapsed` (lines 57-67). A timeout for another height, round, or a step already
//! left is stale and does nothing (it is not an error: timers race with progress).

use crate::engine::Engine;
use crate::types::{Step, TimeoutKind};
use crate::vote::VoteKind;

impl Engine {
    /// Dispatches a timeout to its function of the paper.
    pub(crate) fn on_timeout(&mut self, kind: TimeoutKind, height: u64, round: u32) {
        if height != self.height || round != self.round || self.step == Step::Unstarted {
            return;
        }
        match kind {
            TimeoutKind::Propose => self.on_timeout_propose(),
            TimeoutKind::Prevote => self.on_timeout_prevote(),
            TimeoutKind::Precommit => self.on_timeout_precommit(),
        }
    }

    /// Lines 57-60: still in `propose`: prevote nil, `step ← prevote`.
    fn on_timeout_propose(&mut self) {
        if self.step == Step::Propose {
            self.cast_vote(VoteKind::Prevote, None, None);
            self.step = Step::Prevote;
        }
    }

    /// Lines 61-64: still in `prevote`: precommit nil, `step ← precommit`.
    fn on_timeout_prevote(&mut self) {
        if self.step == Step::Prevote {
            self.cast_vote(VoteKind::Precommit, None, None);
            self.step = Step::Precommit;
        }
    }

    /// Lines 65-67: `StartRound(round_p + 1)`, whatever the step.
    fn on_timeout_precommit(&mut self) {
        if let Some(next) = self.round.checked_add(1) {
            self.start_round(next);
        }
    }
}
