//! A proposal from the network, and the node's validity answer for a proposed block.
//!
//! A proposal is kept (one per round: the first valid one from that round's proposer) and
//! the node is asked to execute its block ([`Output::ValidateProposal`]) unless its validity is
//! already known. The prevote rules wait for the answer. A second, different proposal of the
//! same proposer for the same round is recorded as evidence and ignored.

use concordat_primitives::Hash;

use crate::engine::Engine;
use crate::error::InputError;
use crate::evidence::Equivocation;
use crate::types::{Output, SignedProposal};

impl Engine {
    /// Handles `Input::Proposal`.
    pub(crate) fn on_proposal(&mut self, signed: SignedProposal) -> Result<(), InputError> {
        let p = signed.proposal;
        self.check_height(p.height)?;
        if let Some(pol_round) = p.pol_round.filter(|vr| *vr >= p.round) {
            return Err(InputError::BadPolRound {
                round: p.round,
                pol_round,
            });
        }
        let expected = self.proposer_of(p.round);
        if signed.proposer != expected {
            return Err(InputError::NotProposer {
                round: p.round,
                expected,
                got: signed.proposer,
            });
        }
        if let Some(first) = self.proposals.get(&p.round) {
            if first.proposal == p {
                return Err(InputError::Duplicate);
            }
            let first = first.clone();
            self.verify_proposal(&signed)?;
            self.report(
                Equivocation::Proposal {
                    first,
                    second: signed,
                },
                p.round,
                None,
            );
            return Ok(());
        }
        self.check_future_quota(&signed.proposer, p.round)?;
        self.verify_proposal(&signed)?;
        self.request_validation(p.round, p.block_hash);
        self.proposals.insert(p.round, signed);
        Ok(())
    }

    fn verify_proposal(&self, signed: &SignedProposal) -> Result<(), InputError> {
        signed
            .verify(&self.chain_id)
            .map_err(|_| InputError::BadSignature(signed.proposer))
    }

    /// Asks the node to execute `block_hash`, once, unless its validity is known.
    fn request_validation(&mut self, round: u32, block_hash: Hash) {
        if !self.validity.contains_key(&block_hash) && self.validation_requested.insert(block_hash)
        {
            self.out.push(Output::ValidateProposal {
                height: self.height,
                round,
                block_hash,
            });
        }
    }

    /// Handles `Input::ProposalValidity`: records `valid(v)`. The first answer for a block
    /// stands; a contradicting one is refused.
    pub(crate) fn on_validity(
        &mut self,
        _round: u32,
        block_hash: Hash,
        valid: bool,
    ) -> Result<(), InputError> {
        match self.validity.get(&block_hash) {
            Some(known) if *known != valid => Err(InputError::ConflictingValidity(block_hash)),
            Some(_) => Err(InputError::Duplicate),
            None => {
                self.validity.insert(block_hash, valid);
                Ok(())
            }
        }
    }
}
