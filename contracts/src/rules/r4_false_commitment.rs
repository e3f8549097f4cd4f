//! R4, the false commitment (domain.md, rule R4): when a commitment is found false, or a
//! licence is annulled for fraud, the commitment becomes BREACHED, a FALSE_COMMITMENT
//! dishonesty record is created once, the licence that relied on it is annulled, and with
//! fraud re-application for that licence type is barred for the policy's months.
//!
//! Reached from `Commitment.Breach` and from `Licence.Annul`.

use crate::commitment::{self, Commitment, CommitmentStatus};
use crate::context::BlockContext;
use crate::credit::{self, DishonestyCategory, NewRecord, ReapplyBar};
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::Uscc;
use crate::licence::{self, Decision, Licence, LicenceStatus};
use crate::policy;
use crate::state::Overlay;
use crate::time::Date;

/// Annuls `l` (03) on decision `d`; with fraud, bars re-application for its type (policy:
/// longer for types that touch safety).
pub fn annul(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    l: Licence,
    d: &Decision<'_>,
) -> Result<(), ExecError> {
    let l = licence::transition(state, ctx, by, l, LicenceStatus::Annulled, d.doc_no)?;
    if d.fraud {
        let p = policy::current(state).params;
        let months = if p.safety_licence_types.contains(&l.type_code) {
            p.reapply_bar_safety_months
        } else {
            p.reapply_bar_months
        };
        credit::set_bar(
            state,
            ReapplyBar {
                holder: l.holder.clone(),
                type_code: l.type_code.clone(),
                until: d.doc_date.add_months(months),
                licence_id: l.licence_id.clone(),
                basis_doc_no: d.doc_no.to_string(),
            },
        );
    }
    Ok(())
}

/// R4, the false commitment: the commitment becomes BREACHED (if it is not already), a
/// FALSE_COMMITMENT dishonesty record is created once (severity from the policy; SERIOUS-level
/// policy severity when `fraud`), and the licence that relied on it, if still 01, is annulled
/// with the same decision (and barred from re-application when `fraud`).
pub fn apply(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    authority: &Uscc,
    c: Commitment,
    d: Decision<'_>,
) -> Result<(), ExecError> {
    if d.doc_date > Date::of_ms(ctx.time_ms) {
        return Err(invalid(format!(
            "basis_doc_date {} is after the block date",
            d.doc_date
        )));
    }
    let c = match c.status {
        CommitmentStatus::Active => commitment::set_status(
            state,
            ctx,
            authority,
            c,
            CommitmentStatus::Breached,
            d.doc_no,
        )?,
        CommitmentStatus::Breached => c,
        other => {
            return Err(ExecError::new(
                ResultCode::InvalidTransition,
                format!(
                    "commitment {} is {other:?}; it cannot be found false",
                    c.commitment_id
                ),
            ))
        }
    };
    let pol = policy::current(state);
    let severity = if d.fraud {
        pol.params.fraud_severity
    } else {
        pol.params.false_commitment_severity
    };
    credit::record(
        state,
        ctx,
        NewRecord {
            record_id: format!("FC-{}", c.commitment_id),
            party: &c.party,
            authority,
            basis_doc_no: d.doc_no,
            basis_doc_date: d.doc_date,
            category: DishonestyCategory::FalseCommitment,
            severity,
            relates_to: Some(c.commitment_id.clone()),
            policy_version: pol.version,
            obligations: Vec::new(),
            penalty: None,
        },
    )?;
    if let Some(lid) = &c.relied_on_by {
        let l = licence::load(state, lid)?;
        if l.status == LicenceStatus::Valid {
            annul(state, ctx, authority, l, &d)?;
        }
    }
    Ok(())
}
