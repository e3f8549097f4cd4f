//! R2, the entity gate (domain.md, rule R2): when a party stops existing as a market entity
//! (吊销 REVOKED_LICENCE or 注销 DEREGISTERED), everything it holds closes in the same
//! transaction. This file is the one list of what closes; each kind's own module does the
//! closing, with its own history entry naming the rule.
//!
//! | what | becomes | module |
//! |---|---|---|
//! | live licences (01, 02) | 04 CANCELLED (ADR 0011) | [`crate::licence::cascade_holder`] |
//! | open applications | REFUSED | [`crate::licence::cascade_holder`] |
//! | live seals (ACTIVE, SUSPENDED) | REVOKED | [`crate::seal::cascade_owner`] |
//! | open procurement bids (SUBMITTED, ACCEPTED) | WITHDRAWN | [`crate::procurement::cascade_bidder`] |
//! | data-sharing authorisations (ACTIVE) | REVOKED | [`crate::sharing::cascade_grantor`] |

use crate::context::BlockContext;
use crate::error::ExecError;
use crate::ids::Uscc;
use crate::state::Overlay;

/// How the party closed, in the words the history entries use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closure {
    /// 吊销.
    LicenceRevoked,
    /// 注销.
    Deregistered,
}

impl Closure {
    fn words(self) -> &'static str {
        match self {
            Closure::LicenceRevoked => "had its business licence revoked",
            Closure::Deregistered => "was deregistered",
        }
    }
}

/// Closes everything `party` holds, on a decision of `by`.
pub fn close_everything_of(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    party: &Uscc,
    closure: Closure,
) -> Result<(), ExecError> {
    let why = closure.words();
    crate::licence::cascade_holder(state, ctx, by, party, why)?;
    crate::seal::cascade_owner(state, ctx, by, party, why)?;
    crate::procurement::cascade_bidder(state, ctx, by, party, why)?;
    crate::sharing::cascade_grantor(state, ctx, by, party, why)?;
    Ok(())
}
