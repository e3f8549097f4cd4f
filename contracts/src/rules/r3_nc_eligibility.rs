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

use super::{reason, Basis, Eligibility, Reason};
use crate::credit::{
    self, restrictions, DishonestyCategory, RestrictionCode, Scheme, Severity, Source,
};
use crate::ids::Uscc;
use crate::state::Overlay;
use crate::time::Date;

/// R3: why `party` may not use the notification-commitment route on `today`, if it may not
/// (the first bar of [`assess`]).
pub fn ineligibility(state: &Overlay<'_>, party: &Uscc, today: Date) -> Option<String> {
    assess(state, party, today)
        .bars
        .into_iter()
        .next()
        .map(|r| r.text)
}

/// R3: every bar on `party`'s notification-commitment route on `today`, each naming the
/// record it read (statute: the records and lists; policy: the optional grade bars).
pub fn assess(state: &Overlay<'_>, party: &Uscc, today: Date) -> Eligibility {
    let mut bars: Vec<Reason> =
        restrictions::sources(state, party, RestrictionCode::NoNotificationCommitment)
            .into_iter()
            .filter_map(|source| match source {
                Source::Dishonesty(id) => {
                    let rec = credit::RECORDS.find(state, &id).ok().flatten()?;
                    let text = if !rec.is_active(today) {
                        return None;
                    } else if rec.category == DishonestyCategory::FalseCommitment {
                        format!(
                            "R3: unrepaired false commitment {} (record {})",
                            rec.relates_to.as_deref().unwrap_or("?"),
                            rec.record_id
                        )
                    } else if rec.severity == Severity::Serious {
                        format!("R3: active SERIOUS dishonesty record {}", rec.record_id)
                    } else {
                        return None;
                    };
                    Some(reason(Basis::Statute, "R3", "dishonesty", &id, text))
                }
                Source::ListEntry(id) => {
                    let e = credit::ENTRIES.find(state, &id).ok().flatten()?;
                    e.is_active(today).then(|| {
                        let text = format!(
                    "R3: on the {} list (entry {}), which bars the notification-commitment route",
                    super::spelled(&e.list_type),
                    e.entry_id
                );
                        reason(Basis::Statute, "R3", "list_entry", &id, text)
                    })
                }
            })
            .collect();
    let p = crate::policy::current(state).credit();
    for (scheme, on) in [
        (Scheme::Tax, p.nc_block_tax_d),
        (Scheme::SamrRisk, p.nc_block_samr_d),
    ] {
        let Some(e) = credit::current_evaluation(state, party, scheme) else {
            continue;
        };
        if on && e.grade == "D" {
            let text = format!(
                "R3 (policy): {} grade D for {} (evaluation {})",
                scheme.as_str(),
                e.period,
                e.evaluation_id
            );
            bars.push(reason(
                Basis::Policy,
                "R3 (policy)",
                "evaluation",
                &e.evaluation_id,
                text,
            ));
        }
    }
    Eligibility {
        eligible: bars.is_empty(),
        bars,
        flags: Vec::new(),
    }
}
