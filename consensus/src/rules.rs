//! The `upon` rules of Algorithm 1 (lines 22-56), evaluated to a fixpoint after every
//! accepted input.
//!
//! Each rule is a guard over the state and the message log; when the guard holds, the rule
//! acts and reports `true`. [`Engine::apply_rules`] repeats until no rule fires, so the order
//! of message arrival never matters, only the set of messages held. Termination: every firing
//! moves `step` forward, raises `round`, decides, or consumes a once-per-round flag.
//!
//! Validity (`valid(v)`) is the node's answer to [`crate::Output::ValidateProposal`]; while it
//! is unknown the rules that need it wait (the proposal stays buffered), so the engine never
//! prevotes for a block the node has not executed.

use crate::certificate::CommitCertificate;
use crate::engine::{Decision, Engine, Once};
use crate::types::{Output, RoundValue, Step, TimeoutKind};
use crate::vote::VoteKind;

impl Engine {
    /// Fires rules until none applies.
    pub(crate) fn apply_rules(&mut self) {
        while !matches!(self.step, Step::Unstarted | Step::Decided) && self.fire_one_rule() {}
    }

    fn fire_one_rule(&mut self) -> bool {
        self.decide_on_precommit_quorum()
            || self.skip_to_higher_round()
            || self.prevote_on_fresh_proposal()
            || self.prevote_on_proposal_with_pol()
            || self.schedule_prevote_timeout()
            || self.precommit_on_polka()
            || self.precommit_nil_on_nil_polka()
            || self.schedule_precommit_timeout()
    }

    /// Lines 22-27: `⟨PROPOSAL, h, round_p, v, -1⟩` while `step = propose`: prevote `id(v)` if
    /// `valid(v) ∧ (lockedRound = -1 ∨ lockedValue = v)`, else nil; `step ← prevote`.
    fn prevote_on_fresh_proposal(&mut self) -> bool {
        if self.step != Step::Propose {
            return false;
        }
        let Some(p) = self.proposals.get(&self.round).map(|p| p.proposal) else {
            return false;
        };
        let Some(valid) = p
            .pol_round
            .is_none()
            .then(|| self.validity_of(&p.block_hash))
            .flatten()
        else {
            return false;
        };
        let free = self.locked.is_none_or(|l| l.block_hash == p.block_hash);
        let value = (valid && free).then_some(p.block_hash);
        self.cast_vote(VoteKind::Prevote, value, None);
        self.step = Step::Prevote;
        true
    }

    /// Lines 28-33: `⟨PROPOSAL, h, round_p, v, vr⟩` and 2f+1 `⟨PREVOTE, h, vr, id(v)⟩` while
    /// `step = propose ∧ 0 <= vr < round_p`: prevote `id(v)` if
    /// `valid(v) ∧ (lockedRound <= vr ∨ lockedValue = v)`, else nil; `step ← prevote`.
    /// (This is how a validator locked on an older value is unlocked.)
    fn prevote_on_proposal_with_pol(&mut self) -> bool {
        if self.step != Step::Propose {
            return false;
        }
        let Some(p) = self.proposals.get(&self.round).map(|p| p.proposal) else {
            return false;
        };
        let Some(vr) = p.pol_round.filter(|vr| *vr < self.round) else {
            return false;
        };
        let pol = self
            .votes
            .power_for(vr, VoteKind::Prevote, Some(p.block_hash));
        let Some(valid) = self
            .validity_of(&p.block_hash)
            .filter(|_| self.is_quorum(pol))
        else {
            return false;
        };
        let free = self
            .locked
            .is_none_or(|l| l.round <= vr || l.block_hash == p.block_hash);
        let value = (valid && free).then_some(p.block_hash);
        self.cast_vote(VoteKind::Prevote, value, Some(vr));
        self.step = Step::Prevote;
        true
    }

    /// Lines 34-35: 2f+1 `⟨PREVOTE, h, round_p, *⟩` while `step = prevote`, for the first
    /// time: schedule `timeoutPrevote`.
    fn schedule_prevote_timeout(&mut self) -> bool {
        let any = self.votes.power_any(self.round, VoteKind::Prevote);
        if self.step != Step::Prevote
            || !self.is_quorum(any)
            || !self.once.insert((self.round, Once::PrevoteTimeout))
        {
            return false;
        }
        self.schedule_timeout(TimeoutKind::Prevote);
        true
    }

    /// Lines 36-43: `⟨PROPOSAL, h, round_p, v, *⟩` and 2f+1 `⟨PREVOTE, h, round_p, id(v)⟩`
    /// while `valid(v) ∧ step >= prevote`, for the first time: if `step = prevote`, lock on
    /// `v`, precommit `id(v)` and `step ← precommit`; in any case `validValue ← v`,
    /// `validRound ← round_p`.
    fn precommit_on_polka(&mut self) -> bool {
        if self.step < Step::Prevote {
            return false;
        }
        let Some(v) = self
            .proposals
            .get(&self.round)
            .map(|p| p.proposal.block_hash)
        else {
            return false;
        };
        let polka = self.votes.power_for(self.round, VoteKind::Prevote, Some(v));
        if self.validity_of(&v) != Some(true)
            || !self.is_quorum(polka)
            || !self.once.insert((self.round, Once::Polka))
        {
            return false;
        }
        let here = RoundValue {
            round: self.round,
            block_hash: v,
        };
        if self.step == Step::Prevote {
            self.locked = Some(here);
            self.cast_vote(VoteKind::Precommit, Some(v), None);
            self.step = Step::Precommit;
        }
        self.valid = Some(here);
        true
    }

    /// Lines 44-46: 2f+1 `⟨PREVOTE, h, round_p, nil⟩` while `step = prevote`: precommit nil,
    /// `step ← precommit`.
    fn precommit_nil_on_nil_polka(&mut self) -> bool {
        let nil = self.votes.power_for(self.round, VoteKind::Prevote, None);
        if self.step != Step::Prevote || !self.is_quorum(nil) {
            return false;
        }
        self.cast_vote(VoteKind::Precommit, None, None);
        self.step = Step::Precommit;
        true
    }

    /// Lines 47-48: 2f+1 `⟨PRECOMMIT, h, round_p, *⟩` for the first time: schedule
    /// `timeoutPrecommit`.
    fn schedule_precommit_timeout(&mut self) -> bool {
        let any = self.votes.power_any(self.round, VoteKind::Precommit);
        if !self.is_quorum(any) || !self.once.insert((self.round, Once::PrecommitTimeout)) {
            return false;
        }
        self.schedule_timeout(TimeoutKind::Precommit);
        true
    }

    /// Lines 49-54: `⟨PROPOSAL, h, r, v, *⟩` and 2f+1 `⟨PRECOMMIT, h, r, id(v)⟩` in ANY
    /// round `r`, while `decision = nil`: if `valid(v)`, decide `v`. The certificate is built
    /// from exactly those precommits. (Moving to `h + 1` is the node's job: it builds the next
    /// engine.)
    fn decide_on_precommit_quorum(&mut self) -> bool {
        let found = self.proposals.iter().find_map(|(round, p)| {
            let v = p.proposal.block_hash;
            let power = self.votes.power_for(*round, VoteKind::Precommit, Some(v));
            (self.validity_of(&v) == Some(true) && self.is_quorum(power)).then_some((*round, v))
        });
        let Some((round, block_hash)) = found else {
            return false;
        };
        let signatures = self
            .votes
            .signatures_for(round, VoteKind::Precommit, Some(block_hash));
        #[allow(clippy::expect_used)]
        let certificate = CommitCertificate::from_signatures(
            &self.validators,
            self.height,
            round,
            block_hash,
            &signatures,
        )
        .expect("counted precommits come from distinct members of the set");
        self.out.push(Output::Decide {
            height: self.height,
            round,
            block_hash,
            certificate: certificate.clone(),
        });
        self.decision = Some(Decision {
            round,
            block_hash,
            certificate,
        });
        self.step = Step::Decided;
        true
    }

    /// Lines 55-56: f+1 (by power) distinct senders of messages of a round above `round_p`:
    /// `StartRound(round)`. We jump to the highest such round.
    fn skip_to_higher_round(&mut self) -> bool {
        let mut rounds = self.votes.rounds();
        rounds.extend(self.proposals.keys().copied());
        let target = rounds
            .into_iter()
            .rev()
            .take_while(|r| *r > self.round)
            .find(|r| self.is_one_third(self.sender_power(*r)));
        let Some(round) = target else {
            return false;
        };
        self.start_round(round);
        true
    }

    /// Power of the distinct validators with a vote or the proposal in `round`.
    fn sender_power(&self, round: u32) -> u64 {
        let mut senders = self.votes.voters(round);
        if let Some(p) = self.proposals.get(&round) {
            senders.insert(p.proposer);
        }
        senders
            .iter()
            .filter_map(|k| self.power_of(k))
            .fold(0u64, u64::saturating_add)
    }
}
