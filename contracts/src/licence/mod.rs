//! Licences (record kind B, 行政许可 / 电子证照) and the false-commitment rule R4.
//!
//! # State machine (the issuer is the LICENSING_AUTHORITY named at application)
//! | From | To | Call | Who | Guard |
//! |---|---|---|---|---|
//! | — | APPLIED | `Apply` | ENTERPRISE (the holder) | holder EXISTING (R2); sites are the holder's; no re-application bar; NC ⇒ R3, else routed to STANDARD |
//! | APPLIED | REFUSED | `Refuse` | issuer | — |
//! | APPLIED | 01 VALID | `Issue` | issuer | NC ⇒ its commitment ACTIVE; verification PENDING, due issue date + policy window |
//! | 01 PENDING | 01 VERIFIED | `RecordCheck{conforms:true}` | issuer or INSPECTOR | commitment → FULFILLED |
//! | 01 PENDING | 01 NON_CONFORMING | `RecordCheck{conforms:false}` | issuer or INSPECTOR | commitment → BREACHED |
//! | 01 PENDING | 01 OVERDUE | `FlagOverdueCheck` | anyone (a crank) | block date after `verification_due`; a check may still follow |
//! | 01 | 03 ANNULLED | `Annul` | issuer | a commitment ⇒ R4 |
//! | 01 | 02 SUSPENDED | `Suspend` | issuer or ENFORCEMENT_AUTHORITY | — |
//! | 02 | 01 | `LiftSuspension` | issuer | — |
//! | 01, 02 | 07 REVOKED | `Revoke` | ENFORCEMENT_AUTHORITY | — |
//! | 01, 02 | 04 CANCELLED | `Cancel` | issuer | — |
//! | 01 | 05 EXPIRED | `Expire` | anyone (a crank) | block date after `valid_until` |
//! | 01 | 06 TRANSFERRED_OUT | `TransferOut` | issuer | — |
//! | 01 | 99 SUPERSEDED, and a new 01 | `Renew` | issuer | the new version names the old in `supersedes` |
//!
//! Anything else is refused with `INVALID_TRANSITION`; REFUSED, 03, 04, 05, 06, 07 and 99 have
//! no way out ([`allowed`] is the table; a test walks every pair).
//!
//! R2 cascade ([`crate::rules::r2_party_closure`]): a holder moved to REVOKED_LICENCE (吊销) or
//! DEREGISTERED takes its live licences to 04 CANCELLED (ADR 0011; 07 is for a licence penalised
//! in its own right, by its own `Revoke`); open applications are REFUSED. R3 and R4 are in
//! [`crate::rules`].

mod calls;
mod record;
mod status_list;

pub use calls::*;
pub use record::*;
pub use status_list::*;
