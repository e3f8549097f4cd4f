//! R3, notification-commitment eligibility (domain.md, rule R3): an applicant with an active
//! SERIOUS dishonesty record or an unrepaired FALSE_COMMITMENT may not use the
//! notification-commitment route; its application is routed to the standard procedure.
//! List entries with NO_NOTIFICATION_COMMITMENT (SAMR_SERIOUS, IPR_DISHONEST) join here with the
//! list module.
//!
//! Reached from `Licence.Apply`.

use crate::credit::{self, DishonestyCategory, DishonestyRecord, Severity};
use crate::ids::Uscc;
use crate::state::{keys, Overlay};
use crate::time::Date;

/// R3: why `party` may not use the notification-commitment route on `today`, if it may not.
/// Active SERIOUS records and unrepaired false commitments bar it. (List entries with
/// NO_NOTIFICATION_COMMITMENT join this check with the list module.)
pub fn ineligibility(state: &Overlay<'_>, party: &Uscc, today: Date) -> Option<String> {
    credit::records_of(state, party).iter().find_map(|id| {
        let rec: DishonestyRecord = state.get(&keys::dishonesty(id))?;
        if !rec.is_active(today) {
            return None;
        }
        if rec.category == DishonestyCategory::FalseCommitment {
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
    })
}
