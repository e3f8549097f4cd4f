//! R5, procurement eligibility (domain.md, rule R5; §6): a bidder is ineligible if
//!
//! - (a) it has an active entry on COURT_DISHONEST_DEBTOR, MAJOR_TAX_VIOLATION or
//!   GOV_PROC_SERIOUS (within its ban window): a STATUTE bar (财库〔2016〕125号);
//! - (b) it has a "major illegal record" in the last 3 years: a criminal penalty, an order to
//!   suspend business, a revoked permit or licence (a licence of its at 07, its business
//!   licence revoked), or a fine of at least CNY 2,000,000: a STATUTE bar (Government
//!   Procurement Law Art. 22(1)(5); Implementing Regulations Art. 19; 财库〔2022〕3号);
//! - (c) any other list entry restricts it with NO_GOV_PROCUREMENT (the SAMR serious list and
//!   the IPR dishonesty list, by policy): a POLICY bar;
//! - (d) the policy `proc_block_tax_d` is on and its tax grade in force is D: a POLICY bar.
//!
//! Repaired, expired and withdrawn dishonesty records no longer count (R6).
//!
//! Published dishonesty records that bar nothing, and a tax grade D without the policy, are
//! FLAGs: reported, never a bar (scenario 1: a GENERAL false-commitment record is a flag).
//! Every reason names its rule, its basis and the record it read, so the decision can be
//! replayed from the state at the height it read.

pub use super::Reason;
use super::{reason, spelled, Basis, Eligibility};
use crate::credit::{
    self, restrictions, DishonestyStatus, ListType, RestrictionCode, Scheme, Source,
};
use crate::ids::Uscc;
use crate::licence::{self, LicenceStatus};
use crate::party::{Party, PartyStatus};
use crate::state::{keys, Overlay};
use crate::time::Date;

/// The statutory procurement lists (R5(a)).
fn statutory(list: ListType) -> bool {
    matches!(
        list,
        ListType::CourtDishonestDebtor | ListType::MajorTaxViolation | ListType::GovProcSerious
    )
}

/// R5: whether `party` may take part in government procurement on `today`, and why.
pub fn procurement(state: &Overlay<'_>, party: &Uscc, today: Date) -> Eligibility {
    let mut bars = Vec::new();
    let mut flags = Vec::new();
    let policy = crate::policy::current(state).credit();
    // (a) and (c): the list entries restricting procurement.
    for source in restrictions::sources(state, party, RestrictionCode::NoGovProcurement) {
        if let Source::ListEntry(id) = source {
            let Some(e) = credit::ENTRIES.find(state, &id).ok().flatten() else {
                continue;
            };
            if !e.is_active(today) {
                continue;
            }
            if !e.list_type.bars_procurement_by_policy(&policy) {
                continue;
            }
            let (basis, rule) = if statutory(e.list_type) {
                (Basis::Statute, "R5(a)")
            } else {
                (Basis::Policy, "R5(c)")
            };
            let until = e
                .auto_remove_on
                .map(|d| format!(" until {d}"))
                .unwrap_or_default();
            bars.push(reason(
                basis,
                rule,
                "list_entry",
                &id,
                format!(
                    "on the {} list since {}{until}",
                    spelled(&e.list_type),
                    e.listed_on
                ),
            ));
        }
    }
    // (b): major illegal records in the last 3 years.
    let since = Date::from_days(today.days_since_epoch().saturating_sub(3 * 365 + 1));
    for id in credit::records_of(state, party) {
        let Some(r) = credit::RECORDS.find(state, &id).ok().flatten() else {
            continue;
        };
        // Repaired, expired and withdrawn records stop their derived restrictions (R6).
        if !r.in_force() {
            continue;
        }
        let major = r.penalty.and_then(|p| p.major());
        match major {
            Some(what) if r.basis_doc_date > since => bars.push(reason(
                Basis::Statute,
                "R5(b)",
                "dishonesty",
                &id,
                format!("{what} ({}, {})", r.basis_doc_no, r.basis_doc_date),
            )),
            _ if r.is_active(today)
                && matches!(
                    r.status,
                    DishonestyStatus::Publicized
                        | DishonestyStatus::RepairRequested
                        | DishonestyStatus::UnderObjection
                ) =>
            {
                flags.push(reason(
                    Basis::Flag,
                    "R5 flag",
                    "dishonesty",
                    &id,
                    format!(
                        "published {} dishonesty record ({}, {})",
                        spelled(&r.severity),
                        spelled(&r.category),
                        r.basis_doc_no
                    ),
                ))
            }
            _ => {}
        }
    }
    for id in licence::BY_HOLDER.ids(state, party) {
        let Some(l) = licence::LICENCES.find(state, &id).ok().flatten() else {
            continue;
        };
        let revoked_on = l
            .history
            .iter()
            .rev()
            .find(|c| c.status == LicenceStatus::Revoked)
            .map(|c| Date::of_ms(c.at_ms));
        if let Some(on) = revoked_on.filter(|on| *on > since) {
            bars.push(reason(
                Basis::Statute,
                "R5(b)",
                "licence",
                &id,
                format!("licence {} revoked (07) on {on}", l.type_code),
            ));
        }
    }
    if let Some(p) = state.get::<Party>(&keys::party(party.as_str())) {
        let revoked_on = p
            .history
            .iter()
            .rev()
            .find(|c| c.status == PartyStatus::RevokedLicence)
            .map(|c| Date::of_ms(c.at_ms));
        if let Some(on) = revoked_on.filter(|on| *on > since) {
            bars.push(reason(
                Basis::Statute,
                "R5(b)",
                "party",
                party.as_str(),
                format!("business licence revoked (吊销) on {on}"),
            ));
        }
    }
    // (d): tax grade D, a bar only by policy.
    if let Some(e) = credit::current_evaluation(state, party, Scheme::Tax) {
        if e.grade == "D" {
            let by_policy = crate::policy::current(state).credit().proc_block_tax_d;
            let text = format!("tax grade D for {} ({})", e.period, e.evaluation_id);
            if by_policy {
                bars.push(reason(
                    Basis::Policy,
                    "R5(d) PROC_BLOCK_TAX_D",
                    "evaluation",
                    &e.evaluation_id,
                    text,
                ));
            } else {
                flags.push(reason(
                    Basis::Flag,
                    "R5 flag",
                    "evaluation",
                    &e.evaluation_id,
                    text,
                ));
            }
        }
    }
    Eligibility {
        eligible: bars.is_empty(),
        bars,
        flags,
    }
}
