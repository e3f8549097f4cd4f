//! Rules that span record kinds, one file per rule of domain.md's section "Rules", each citing
//! it. A kind's own state machine stays in its module; what one kind's change does to others
//! is here.
//!
//! - [`r2_party_closure`]: R2, what closes when a party is 吊销 or 注销.
//! - [`r3_nc_eligibility`]: R3, who may use the notification-commitment route.
//! - [`r4_false_commitment`]: R4, a commitment found false.
//!
//! R5–R8 and R12–R15 join as their record kinds arrive.

pub mod r2_party_closure;
pub mod r3_nc_eligibility;
pub mod r4_false_commitment;
pub mod r5_procurement_eligibility;
