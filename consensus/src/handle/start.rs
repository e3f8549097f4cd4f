//! `StartHeight` and `StartRound` (lines 10-21).

use crate::engine::{AwaitedValue, Engine};
use crate::error::InputError;
use crate::types::{Output, Step, TimeoutKind};

impl Engine {
    /// Line 10: `upon start do StartRound(0)` (or the restored round after a crash, see
    /// [`Engine::new`]).
    pub(crate) fn on_start_height(&mut self) -> Result<(), InputError> {
        if self.step != Step::Unstarted {
            return Err(InputError::AlreadyStarted);
        }
        self.start_round(self.first_round);
        Ok(())
    }

    /// Lines 11-21: `StartRound(round)`.
    ///
    /// If we are the proposer, lines 15-18 choose `validValue` when set, else `getValue()`;
    /// both go through the node ([`Output::RequestProposal`] carries `validValue`), which
    /// holds the block bodies, and line 19 runs when it answers with `ProposeValue`.
    ///
    /// Line 21 schedules `timeoutPropose` for non-proposers; we schedule it for the proposer
    /// too, because our `getValue()` is asynchronous: if the node never answers, the proposer
    /// still prevotes nil (line 57) like everyone else instead of waiting for line 47.
    pub(crate) fn start_round(&mut self, round: u32) {
        self.round = round; // line 12
        self.step = Step::Propose; // line 13
        self.awaiting_value = None;
        if self.me().is_some_and(|me| me == self.proposer_of(round)) {
            // lines 14-18
            let valid_value = self.valid.map(|v| v.block_hash);
            self.awaiting_value = Some(AwaitedValue { round, valid_value });
            self.out.push(Output::RequestProposal {
                height: self.height,
                round,
                valid_value,
            });
        }
        self.schedule_timeout(TimeoutKind::Propose); // line 21
    }
}
