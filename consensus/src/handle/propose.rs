//! `ProposeValue`: the node's answer to `RequestProposal`; line 19 broadcasts the proposal.

use concordat_primitives::Hash;

use crate::engine::Engine;
use crate::error::InputError;
use crate::safety::Watermark;
use crate::types::{Message, Output, Proposal, Step};

impl Engine {
    /// Handles `Input::ProposeValue`. Accepted only in the round and step of the request, and,
    /// when the request carried `validValue`, only for that block (line 16).
    pub(crate) fn on_propose_value(
        &mut self,
        round: u32,
        block_hash: Hash,
    ) -> Result<(), InputError> {
        let Some(awaited) = self
            .awaiting_value
            .filter(|a| a.round == round && self.round == round && self.step == Step::Propose)
        else {
            return Err(InputError::UnexpectedProposeValue(round));
        };
        if let Some(expected) = awaited.valid_value.filter(|v| *v != block_hash) {
            return Err(InputError::NotValidValue {
                expected,
                got: block_hash,
            });
        }
        self.awaiting_value = None;
        // The node built and executed this block: it is valid (unless it said otherwise).
        self.validity.entry(block_hash).or_insert(true);
        let proposal = Proposal {
            height: self.height,
            round,
            block_hash,
            pol_round: self.valid.map(|v| v.round), // line 19: validRound
        };
        self.broadcast_proposal(proposal);
        Ok(())
    }

    /// Line 19: sign through the safety rules, keep as this round's proposal, broadcast.
    fn broadcast_proposal(&mut self, proposal: Proposal) {
        let Some(signer) = self.signer.as_mut() else {
            return;
        };
        let signed = match signer.sign_proposal(proposal) {
            Ok(signed) => {
                self.persist = true;
                signed
            }
            Err(_) => {
                self.refusals = self.refusals.saturating_add(1);
                // We proposed another block in this round before a restart: that proposal
                // stands; send it again.
                match signer.state().signed_at(Watermark::of_proposal(&proposal)) {
                    Some(Message::Proposal(stored)) => stored.clone(),
                    _ => return,
                }
            }
        };
        self.proposals
            .entry(proposal.round)
            .or_insert_with(|| signed.clone());
        self.out.push(Output::Broadcast(Message::Proposal(signed)));
    }
}
