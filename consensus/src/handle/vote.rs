//! A vote from the network: checked (height, signer in the set, quota of future rounds,
//! signature), then counted. A second, different vote of the same validator for the same
//! round and kind is recorded as [`Equivocation`] evidence and counted towards its own value
//! only (never twice towards "any"; see `votekeeper`).

use concordat_primitives::PublicKey;

use crate::engine::{Engine, MAX_FUTURE_ROUNDS_PER_VALIDATOR};
use crate::error::InputError;
use crate::evidence::Equivocation;
use crate::types::SignedVote;

impl Engine {
    /// Handles `Input::Vote`.
    pub(crate) fn on_vote(&mut self, signed: SignedVote) -> Result<(), InputError> {
        let vote = signed.vote;
        self.check_height(vote.height)?;
        let power = self
            .power_of(&signed.validator)
            .ok_or(InputError::UnknownValidator(signed.validator))?;
        if let Some(first) = self.votes.get(vote.round, vote.kind, &signed.validator) {
            if first.vote == vote
                || self.votes.has_vote_for(
                    vote.round,
                    vote.kind,
                    &signed.validator,
                    vote.block_hash,
                )
            {
                return Err(InputError::Duplicate);
            }
            let first = first.clone();
            self.verify_vote(&signed)?;
            // Counted for its own value only (see `votekeeper`): keeps proofs-of-lock
            // completable when a Byzantine validator shows different votes to different nodes.
            let known = vote.block_hash.is_none_or(|b| {
                self.proposals.values().any(|p| p.proposal.block_hash == b)
                    || self.valid.is_some_and(|v| v.block_hash == b)
                    || self.locked.is_some_and(|l| l.block_hash == b)
            });
            if !self.votes.add_equivocation(signed.clone(), power, known) {
                // Over the cap for a made-up value: dropped (not evidence-worthy twice).
                return Err(InputError::Duplicate);
            }
            self.report(
                Equivocation::Vote {
                    first,
                    second: signed,
                },
                vote.round,
                Some(vote.kind),
            );
            return Ok(());
        }
        self.check_future_quota(&signed.validator, vote.round)?;
        self.verify_vote(&signed)?;
        self.votes.add(signed, power);
        Ok(())
    }

    fn verify_vote(&self, signed: &SignedVote) -> Result<(), InputError> {
        signed
            .verify(&self.chain_id)
            .map_err(|_| InputError::BadSignature(signed.validator))
    }

    /// Refuses messages of other heights.
    pub(crate) fn check_height(&self, height: u64) -> Result<(), InputError> {
        if height != self.height {
            return Err(InputError::WrongHeight {
                expected: self.height,
                got: height,
            });
        }
        Ok(())
    }

    /// Refuses a message of `validator` for a round above ours when it already has messages in
    /// [`MAX_FUTURE_ROUNDS_PER_VALIDATOR`] other rounds above ours.
    pub(crate) fn check_future_quota(
        &self,
        validator: &PublicKey,
        round: u32,
    ) -> Result<(), InputError> {
        if round <= self.round {
            return Ok(());
        }
        let mut rounds = self.votes.rounds_above(self.round, validator);
        rounds.extend(
            self.proposals
                .range(self.round.saturating_add(1)..)
                .filter(|(_, p)| p.proposer == *validator)
                .map(|(r, _)| *r),
        );
        if rounds.contains(&round) || rounds.len() < MAX_FUTURE_ROUNDS_PER_VALIDATOR {
            return Ok(());
        }
        Err(InputError::TooFarAhead {
            validator: *validator,
            round,
        })
    }
}
