//! R3, notification-commitment eligibility (domain.md, rule R3): an applicant is refused the
//! notification-commitment route (its application is routed to the standard procedure) while
//! any record restricts it with NO_NOTIFICATION_COMMITMENT: an active SERIOUS dishonesty
//! record, an unrepaired FALSE_COMMITMENT, or a list entry carrying the restriction (the SAMR
//! serious list and the IPR dishonesty list by default); and, where the policy says so
//! (`nc_block_tax_d`, `nc_block_samr_d`), a tax grade or SAMR risk class D in force.
//!
//! The check reads the restriction index (`credit::restrictions`), the same key whose absence
//! proves "not barred" to an outsider, and checks each source's dates, so a record past its
//! maximum window no longer bars even before the block that marks it expired.
//!
//! Reached from `Licence.Apply`.

use crate::credit::{
    self, restrictions, DishonestyCategory, RestrictionCode, Scheme, Severity, Source,
};
use crate::ids::Uscc;
use crate::state::Overlay;
use crate::time::Date;

/// R3: why `party` may not use the notification-commitment route on `today`, if it may not.
pub fn ineligibility(state: &Overlay<'_>, party: &Uscc, today: Date) -> Option<String> {
    by_records(state, party, today).or_else(|| by_grades(state, party))
}

/// The optional policy bars: a tax grade D, a SAMR risk class D.
fn by_grades(state: &Overlay<'_>, party: &Uscc) -> Option<String> {
    let p = crate::policy::current(state).credit();
    [
        (Scheme::Tax, p.nc_block_tax_d),
        (Scheme::SamrRisk, p.nc_block_samr_d),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .find_map(|(scheme, _)| {
        let e = credit::current_evaluation(state, party, scheme)?;
        (e.grade == "D").then(|| {
            format!(
                "R3 (policy): {} grade D for {} (evaluation {})",
                scheme.as_str(),
                e.period,
                e.evaluation_id
            )
        })
    })
}

fn by_records(state: &Overlay<'_>, party: &Uscc, today: Date) -> Option<String> {
    restrictions::sources(state, party, RestrictionCode::NoNotificationCommitment)
        .into_iter()
        .find_map(|source| match source {
            Source::Dishonesty(id) => {
                let rec = credit::RECORDS.find(state, &id).ok().flatten()?;
                if !rec.is_active(today) {
                    None
                } else if rec.category == DishonestyCategory::FalseCommitment {
                    Some(format!(
                        "R3: unrepaired false commitment {} (record {})",
                        rec.relates_to.as_deref().unwrap_or("?"),
                        rec.record_id
                    ))
                } else if rec.severity == Severity::Serious {
                    Some(format!(
                        "R3: active SERIOUS dishonesty record {}",
                        rec.record_id
                    ))
                } else {
                    None
                }
            }
            Source::ListEntry(id) => {
                let e = credit::ENTRIES.find(state, &id).ok().flatten()?;
                e.is_active(today).then(|| {
                    format!(
                        "R3: on the {:?} list (entry {}), which bars the notification-commitment route",
                        e.list_type, e.entry_id
                    )
                })
            }
        })
}
