//! The part of the credit module that licences and commitments need now: dishonesty records
//! created by a false commitment (R4), the notification-commitment eligibility check (R3), and
//! re-application bars. Evaluations, lists and repair (record kinds D-F, R5-R6) come with the
//! credit module; they will extend these records, not replace them.
//!
//! Publicity windows by severity are the published ones (NDRC 《信用修复管理办法》, in force
//! 2026-04-01 [S]): LIGHT none (at most 3 months if published), GENERAL 3 months to 1 year,
//! SERIOUS 1 to 3 years, counted from the date of the basis document.

use serde::{Deserialize, Serialize};

use crate::context::BlockContext;
use crate::error::ExecError;
use crate::ids::Uscc;
use crate::kinds::{json_of, json_of_versioned, Id, KindSpec, Versioned};
use crate::record::{stateful, Change, OwnerIndex};
use crate::state::{keys, Overlay};
use crate::time::Date;

/// Most dishonesty records indexed per party.
pub const MAX_RECORDS_PER_PARTY: usize = 4096;

/// Dishonesty severity.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// 轻微: in principle not published.
    Light,
    /// 一般: published 3 months to 1 year.
    General,
    /// 严重: published 1 to 3 years.
    Serious,
}

impl Severity {
    /// Minimum and maximum publicity in months [S].
    pub fn publicity_months(self) -> (u32, u32) {
        match self {
            Severity::Light => (0, 3),
            Severity::General => (3, 12),
            Severity::Serious => (12, 36),
        }
    }
}

/// What the record is about.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DishonestyCategory {
    /// An administrative penalty.
    AdminPenalty,
    /// A false or unfulfilled credit commitment.
    FalseCommitment,
    /// A list entry.
    ListEntry,
    /// Anything else.
    Other,
}

/// Record status (record kind E).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DishonestyStatus {
    /// Recorded, not yet published.
    Recorded,
    /// Published (GENERAL, SERIOUS).
    Publicized,
    /// Not published (LIGHT).
    NotPublicized,
    /// Repair requested.
    RepairRequested,
    /// Repaired: publicity and derived restrictions stop.
    Repaired,
    /// Past the maximum publicity.
    Expired,
    /// Withdrawn by the authority.
    Withdrawn,
}

/// A dishonesty record (失信信息).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DishonestyRecord {
    /// Record id.
    pub record_id: String,
    /// The party.
    pub party: Uscc,
    /// The recording authority.
    pub authority: Uscc,
    /// Basis document number.
    pub basis_doc_no: String,
    /// Basis document date: publicity runs from here.
    pub basis_doc_date: Date,
    /// Category.
    pub category: DishonestyCategory,
    /// Severity.
    pub severity: Severity,
    /// Repair may be requested from this date.
    pub min_public_until: Date,
    /// Publication stops on this date.
    pub max_public_until: Date,
    /// Status.
    pub status: DishonestyStatus,
    /// What it concerns (e.g. the commitment id).
    pub relates_to: Option<String>,
    /// The policy version that set the severity.
    pub policy_version: u64,
    /// Height recorded.
    pub recorded_at_height: u64,
    /// Every status change, oldest first, from the recording on (appended to the record's
    /// format later: records stored before it decode without it, see [`crate::kinds`]).
    pub history: Vec<Change<DishonestyStatus>>,
}

// Records are created publicized (or not, for LIGHT) and do not move yet: repair, expiry and
// withdrawal arrive with their calls (issue 13), each through `record::transition`.
stateful!(
    DishonestyRecord,
    DishonestyStatus,
    "dishonesty record",
    record_id,
    []
);

impl Versioned for DishonestyRecord {
    const APPENDED: &'static [&'static str] = &["history"];
}

impl DishonestyRecord {
    /// True iff the record still has effect on `today`: not repaired, expired or withdrawn,
    /// and before its maximum publicity date.
    pub fn is_active(&self, today: Date) -> bool {
        matches!(
            self.status,
            DishonestyStatus::Recorded
                | DishonestyStatus::Publicized
                | DishonestyStatus::NotPublicized
                | DishonestyStatus::RepairRequested
        ) && today < self.max_public_until
    }
}

/// A bar on applying again for a licence type (Administrative Licensing Law Arts. 78/79).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ReapplyBar {
    /// The barred party.
    pub holder: Uscc,
    /// The licence type.
    pub type_code: String,
    /// Applications are refused before this date.
    pub until: Date,
    /// The annulled licence that caused it.
    pub licence_id: String,
    /// The decision document.
    pub basis_doc_no: String,
}

/// What a new dishonesty record says.
pub struct NewRecord<'a> {
    /// Record id.
    pub record_id: String,
    /// The party.
    pub party: &'a Uscc,
    /// The authority.
    pub authority: &'a Uscc,
    /// Basis document number.
    pub basis_doc_no: &'a str,
    /// Basis document date.
    pub basis_doc_date: Date,
    /// Category.
    pub category: DishonestyCategory,
    /// Severity.
    pub severity: Severity,
    /// What it concerns.
    pub relates_to: Option<String>,
    /// Policy version used.
    pub policy_version: u64,
}

/// The ids of a party's dishonesty records.
pub fn records_of(state: &Overlay<'_>, party: &Uscc) -> Vec<String> {
    BY_PARTY.ids(state, party)
}

/// The dishonesty record ids of each party.
pub const BY_PARTY: OwnerIndex = OwnerIndex {
    what: "dishonesty records",
    cap: MAX_RECORDS_PER_PARTY,
    key: keys::dishonesty_index,
};

/// Creates a dishonesty record; a record with the same id already present is kept as it is
/// (a decision is recorded once).
pub fn record(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    new: NewRecord<'_>,
) -> Result<DishonestyRecord, ExecError> {
    if let Some(existing) = state.get(&keys::dishonesty(&new.record_id)) {
        return Ok(existing);
    }
    let (min, max) = new.severity.publicity_months();
    let status = if new.severity == Severity::Light {
        DishonestyStatus::NotPublicized
    } else {
        DishonestyStatus::Publicized
    };
    let rec = DishonestyRecord {
        record_id: new.record_id,
        party: new.party.clone(),
        authority: new.authority.clone(),
        basis_doc_no: new.basis_doc_no.to_string(),
        basis_doc_date: new.basis_doc_date,
        category: new.category,
        severity: new.severity,
        min_public_until: new.basis_doc_date.add_months(min),
        max_public_until: new.basis_doc_date.add_months(max),
        status,
        relates_to: new.relates_to,
        policy_version: new.policy_version,
        recorded_at_height: ctx.height,
        history: vec![Change::now(ctx, status, new.authority, new.basis_doc_no)],
    };
    BY_PARTY.add(state, new.party, &rec.record_id)?;
    state.put(keys::dishonesty(&rec.record_id), &rec);
    Ok(rec)
}

/// The active re-application bar on (`holder`, `type_code`) on `today`, if any.
pub fn active_bar(
    state: &Overlay<'_>,
    holder: &Uscc,
    type_code: &str,
    today: Date,
) -> Option<ReapplyBar> {
    state
        .get::<ReapplyBar>(&keys::reapply_bar(holder.as_str(), type_code))
        .filter(|b| today < b.until)
}

/// Sets (or extends) a re-application bar.
pub fn set_bar(state: &mut Overlay<'_>, bar: ReapplyBar) {
    let key = keys::reapply_bar(bar.holder.as_str(), &bar.type_code);
    match state.get::<ReapplyBar>(&key) {
        Some(old) if old.until >= bar.until => {}
        _ => state.put(key, &bar),
    }
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "dishonesty",
        "dishonesty record",
        "a record id",
        "FC-C-2026-000123",
        Id::Record(keys::dishonesty),
        json_of_versioned::<DishonestyRecord>,
    )
    .stateful::<DishonestyRecord>(),
    KindSpec::new(
        "reapply_bar",
        "re-application bar",
        "USCC:TYPE_CODE",
        "91110105MA01R7K442:FOOD_BUSINESS",
        Id::Custom(|id| match (id.get(..18), id.get(18..19), id.get(19..)) {
            (Some(uscc), Some(":"), Some(t)) if !t.is_empty() => Ok(keys::reapply_bar(uscc, t)),
            _ => Err("a reapply_bar id is USCC:TYPE_CODE".into()),
        }),
        json_of::<ReapplyBar>,
    ),
    KindSpec::new(
        "party_records",
        "a party's dishonesty records",
        "a USCC",
        "91110105MA01R7K442",
        Id::Uscc(keys::dishonesty_index),
        json_of::<Vec<String>>,
    ),
];
