//! Rules that span record kinds, one file per rule of domain.md's section "Rules", each citing
//! it. A kind's own state machine stays in its module; what one kind's change does to others
//! is here.
//!
//! - [`r2_party_closure`]: R2, what closes when a party is 吊销 or 注销.
//! - [`r3_nc_eligibility`]: R3, who may use the notification-commitment route.
//! - [`r4_false_commitment`]: R4, a commitment found false.
//! - [`r5_procurement_eligibility`]: R5, who may take part in government procurement.
//!
//! The eligibility rules (R3, R5) answer with an [`Eligibility`]: every bar and flag with its
//! basis and the record it read. R6–R8 and R12–R15 join as their record kinds arrive.

pub mod r2_party_closure;
pub mod r3_nc_eligibility;
pub mod r4_false_commitment;
pub mod r5_procurement_eligibility;

use serde::{Deserialize, Serialize};

/// What a reason rests on.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Basis {
    /// A statute or regulation bars.
    Statute,
    /// The ledger's policy bars.
    Policy,
    /// Reported, not a bar.
    Flag,
}

/// One reason of an eligibility decision.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// What it rests on.
    pub basis: Basis,
    /// The rule (`R5(a)`…).
    pub rule: String,
    /// The kind of the record read (`list_entry`, `dishonesty`, `licence`, `party`,
    /// `evaluation`).
    pub kind: String,
    /// Its id.
    pub id: String,
    /// For people.
    pub text: String,
}

/// An eligibility decision.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Eligibility {
    /// No bar applies.
    pub eligible: bool,
    /// The bars (statute and policy).
    pub bars: Vec<Reason>,
    /// The flags.
    pub flags: Vec<Reason>,
}

pub(crate) fn reason(basis: Basis, rule: &str, kind: &str, id: &str, text: String) -> Reason {
    Reason {
        basis,
        rule: rule.into(),
        kind: kind.into(),
        id: id.into(),
        text,
    }
}

/// A value as the API spells it (`IPR_DISHONEST`, `SERIOUS`), for the texts of reasons.
pub(crate) fn spelled<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}
