//! Dishonesty records (失信信息, record kind E of domain.md) and their lifecycle: recorded by an
//! authority (or by R4 for a false commitment), published by severity, repaired on request
//! once the minimum window has passed (R6), ended automatically at the maximum window,
//! withdrawn by the authority, and objected to by the party (R16).
//!
//! Publicity windows by severity are the published ones (NDRC 《信用修复管理办法》, in force
//! 2026-04-01 [S]): LIGHT none (at most 3 months if published), GENERAL 3 months to 1 year,
//! SERIOUS 1 to 3 years, counted from the date of the basis document.
//!
//! | From | To | Who | Guard |
//! |---|---|---|---|
//! | — | PUBLICIZED (GENERAL, SERIOUS) or NOT_PUBLICIZED (LIGHT) | the authority; R4 | party registered; document date not after the block |
//! | PUBLICIZED, NOT_PUBLICIZED | REPAIR_REQUESTED | the party (ENTERPRISE) | block date ≥ `min_public_until`; every obligation fulfilled; an ACTIVE REPAIR_COMMITMENT of the party |
//! | REPAIR_REQUESTED | REPAIRED | CREDIT_PLATFORM | approval |
//! | REPAIR_REQUESTED | PUBLICIZED or NOT_PUBLICIZED (as before) | CREDIT_PLATFORM | rejection, with its reason |
//! | PUBLICIZED, NOT_PUBLICIZED, REPAIR_REQUESTED | EXPIRED | automatic at `max_public_until` (or anyone's `ExpireRecord` after it) | — |
//! | PUBLICIZED, NOT_PUBLICIZED | UNDER_OBJECTION | the party (R16) | still published and in force; decided by `decide_by` |
//! | UNDER_OBJECTION | PUBLICIZED or NOT_PUBLICIZED (as before), or WITHDRAWN | the recording authority | rejected, or upheld |
//! | PUBLICIZED, NOT_PUBLICIZED, REPAIR_REQUESTED, UNDER_OBJECTION | EXPIRED | automatic at `max_public_until` | — |
//! | any but WITHDRAWN | WITHDRAWN | the recording authority | an objection upheld, or the basis annulled |
//!
//! REPAIRED and EXPIRED stop publicity and every derived restriction at once (R6): the record
//! leaves the restriction index ([`super::restrictions`]) and red-list suspensions are
//! recomputed in the same transaction. A licence already annulled stays annulled.

use serde::{Deserialize, Serialize};

use super::restrictions::{self, RestrictionCode, Source};
use crate::context::BlockContext;
use crate::due;
use crate::error::ExecError;
use crate::ids::Uscc;
use crate::kinds::Versioned;
use crate::record::{self, stateful, Change, OwnerIndex, Table};
use crate::state::{keys, Overlay};
use crate::time::Date;

/// Most dishonesty records indexed per party.
pub const MAX_RECORDS_PER_PARTY: usize = 4096;
/// Longest record id.
pub const MAX_RECORD_ID_BYTES: usize = 64;
/// Most obligations per record.
pub const MAX_OBLIGATIONS: usize = 16;

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
    /// Objected to (R16): still published and in force, marked, until the authority decides.
    UnderObjection,
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
    /// What the party must do before repair (pay the fine, correct the act…).
    pub obligations: Vec<Obligation>,
    /// The latest repair request and its decision.
    pub repair: Option<RepairRequest>,
    /// The latest objection (R16) and its decision; while undecided the record stays
    /// published, marked as under objection.
    pub objection: Option<Objection>,
    /// The penalty decided, when the record is an administrative or criminal penalty (R5(b)
    /// reads it: a "major illegal record").
    pub penalty: Option<Penalty>,
}

/// What a penalty decided.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PenaltyKind {
    /// A warning.
    Warning,
    /// A fine (its amount in `amount_cny`).
    Fine,
    /// An order to suspend production or business.
    SuspensionOrder,
    /// A permit or licence revoked.
    LicenceRevoked,
    /// A criminal penalty.
    Criminal,
    /// Another penalty.
    Other,
}

/// A penalty.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Penalty {
    /// What it decided.
    pub kind: PenaltyKind,
    /// The fine in CNY, for a fine.
    pub amount_cny: Option<u64>,
}

impl Penalty {
    /// A "major illegal record" (Government Procurement Law Art. 22; Implementing Regulations
    /// Art. 19; 财库〔2022〕3号: a fine of at least CNY 2,000,000), and why.
    pub fn major(&self) -> Option<String> {
        match self.kind {
            PenaltyKind::Criminal => Some("a criminal penalty".into()),
            PenaltyKind::SuspensionOrder => Some("an order to suspend business".into()),
            PenaltyKind::LicenceRevoked => Some("a revoked permit or licence".into()),
            PenaltyKind::Fine if self.amount_cny.unwrap_or(0) >= MAJOR_FINE_CNY => Some(format!(
                "a fine of CNY {} (at least {MAJOR_FINE_CNY})",
                self.amount_cny.unwrap_or(0)
            )),
            _ => None,
        }
    }
}

/// A fine at least this large is a "major illegal record" (财库〔2022〕3号 [S]).
pub const MAJOR_FINE_CNY: u64 = 2_000_000;

stateful!(
    DishonestyRecord,
    DishonestyStatus,
    "dishonesty record",
    record_id,
    [
        (Publicized, RepairRequested),
        (NotPublicized, RepairRequested),
        (RepairRequested, Repaired),
        (RepairRequested, Publicized),
        (RepairRequested, NotPublicized),
        (Publicized, Expired),
        (NotPublicized, Expired),
        (RepairRequested, Expired),
        (Publicized, Withdrawn),
        (NotPublicized, Withdrawn),
        (RepairRequested, Withdrawn),
        (Repaired, Withdrawn),
        (Expired, Withdrawn),
        (Publicized, UnderObjection),
        (NotPublicized, UnderObjection),
        (UnderObjection, Publicized),
        (UnderObjection, NotPublicized),
        (UnderObjection, Withdrawn),
        (UnderObjection, Expired),
    ]
);

impl Versioned for DishonestyRecord {
    const APPENDED: &'static [&'static str] =
        &["history", "obligations", "repair", "objection", "penalty"];
}

/// One obligation of a dishonesty record.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Obligation {
    /// What it is (a code: `FINE_PAID`, `CORRECTED`…).
    pub kind: String,
    /// When the authority found it fulfilled.
    pub fulfilled_on: Option<Date>,
    /// The evidence it recorded.
    pub evidence: Option<String>,
}

/// A repair request and its decision.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RepairRequest {
    /// Requested on.
    pub requested_on: Date,
    /// The party's public REPAIR_COMMITMENT.
    pub commitment_id: String,
    /// Decided on.
    pub decided_on: Option<Date>,
    /// Approved or rejected.
    pub approved: Option<bool>,
    /// The credit platform's reason.
    pub reason: Option<String>,
}

/// An objection (R16) and its decision.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    /// Raised on.
    pub raised_on: Date,
    /// The party's grounds.
    pub reason: String,
    /// The authority decides by this date (`policy.credit.objection_days`).
    pub decide_by: Date,
    /// Decided on.
    pub decided_on: Option<Date>,
    /// Upheld (the record is withdrawn) or not.
    pub upheld: Option<bool>,
    /// The authority's decision text.
    pub decision: Option<String>,
}

impl Objection {
    /// An objection raised on `today`, to be decided within the policy's `objection_days`.
    pub fn open(state: &Overlay<'_>, today: Date, reason: &str) -> Objection {
        let days = crate::policy::current(state).credit().objection_days;
        Objection {
            raised_on: today,
            reason: reason.to_string(),
            decide_by: today.add_days(u64::from(days)),
            decided_on: None,
            upheld: None,
            decision: None,
        }
    }

    /// True while undecided.
    pub fn is_open(&self) -> bool {
        self.decided_on.is_none()
    }
}

impl DishonestyRecord {
    /// The restrictions the record itself carries while active (R3: a SERIOUS record or a
    /// false commitment bars the notification-commitment route).
    pub fn restrictions(&self) -> Vec<RestrictionCode> {
        if self.severity == Severity::Serious
            || self.category == DishonestyCategory::FalseCommitment
        {
            vec![RestrictionCode::NoNotificationCommitment]
        } else {
            Vec::new()
        }
    }

    /// The status a rejected repair request returns to.
    pub fn published_status(&self) -> DishonestyStatus {
        if self.severity == Severity::Light {
            DishonestyStatus::NotPublicized
        } else {
            DishonestyStatus::Publicized
        }
    }

    /// True iff the record's status still gives it effect (not repaired, expired or
    /// withdrawn).
    pub fn in_force(&self) -> bool {
        matches!(
            self.status,
            DishonestyStatus::Recorded
                | DishonestyStatus::Publicized
                | DishonestyStatus::NotPublicized
                | DishonestyStatus::RepairRequested
                | DishonestyStatus::UnderObjection
        )
    }

    /// True iff the record still has effect on `today`: in force and before its maximum
    /// publicity date.
    pub fn is_active(&self, today: Date) -> bool {
        self.in_force() && today < self.max_public_until
    }
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
    /// Obligation codes.
    pub obligations: Vec<String>,
    /// The penalty, if any.
    pub penalty: Option<Penalty>,
}

/// The ids of a party's dishonesty records.
pub fn records_of(state: &Overlay<'_>, party: &Uscc) -> Vec<String> {
    BY_PARTY.ids(state, party)
}

/// The dishonesty records, by id.
pub const RECORDS: Table<DishonestyRecord> = Table::new(
    "dishonesty record",
    "record_id",
    MAX_RECORD_ID_BYTES,
    keys::dishonesty,
);

/// The dishonesty record ids of each party.
pub const BY_PARTY: OwnerIndex = OwnerIndex {
    what: "dishonesty records",
    cap: MAX_RECORDS_PER_PARTY,
    key: keys::dishonesty_index,
};

/// Creates a dishonesty record; a record with the same id already present is kept as it is
/// (a decision is recorded once). The record enters the restriction index for what it
/// restricts, its expiry is scheduled at its maximum window, and the party's red-list entries
/// are suspended if it is SERIOUS.
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
        obligations: new
            .obligations
            .into_iter()
            .map(|kind| Obligation {
                kind,
                fulfilled_on: None,
                evidence: None,
            })
            .collect(),
        repair: None,
        objection: None,
        penalty: new.penalty,
    };
    BY_PARTY.add(state, new.party, &rec.record_id)?;
    let source = Source::Dishonesty(rec.record_id.clone());
    for code in rec.restrictions() {
        restrictions::add(state, &rec.party, code, &source)?;
    }
    due::schedule(
        state,
        rec.max_public_until,
        due::Event::DishonestyExpiry,
        &rec.record_id,
    )?;
    RECORDS.put(state, &rec.record_id, &rec);
    if rec.severity == Severity::Serious {
        super::lists::refresh_red(state, ctx, &rec.party, new.authority)?;
    }
    Ok(rec)
}

/// Moves `rec` to `to` (`by` decides, on `basis`), stores it, and when it stops having effect
/// (REPAIRED, EXPIRED, WITHDRAWN) takes it out of the restriction index and recomputes the
/// party's red-list suspensions (R6).
pub fn move_record(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    mut rec: DishonestyRecord,
    to: DishonestyStatus,
    by: &Uscc,
    basis: &str,
) -> Result<DishonestyRecord, ExecError> {
    let was_in_force = rec.in_force();
    record::transition(&mut rec, to, ctx, by, basis)?;
    RECORDS.put(state, &rec.record_id, &rec);
    if was_in_force && !rec.in_force() {
        let source = Source::Dishonesty(rec.record_id.clone());
        for code in rec.restrictions() {
            restrictions::remove(state, &rec.party, code, &source);
        }
        if rec.severity == Severity::Serious {
            super::lists::refresh_red(state, ctx, &rec.party, by)?;
        }
    }
    Ok(rec)
}

/// Ends the publicity of record `id` if its maximum window has passed by the block's date
/// (the automatic transition, also open to anyone as `ExpireRecord`).
pub fn expire(state: &mut Overlay<'_>, ctx: &BlockContext, id: &str) -> Result<(), ExecError> {
    let rec = RECORDS.load(state, id)?;
    let today = Date::of_ms(ctx.time_ms);
    if today < rec.max_public_until {
        return Err(ExecError::new(
            crate::error::ResultCode::InvalidTransition,
            format!(
                "dishonesty record {id} is published until {}; it cannot expire on {today}",
                rec.max_public_until
            ),
        ));
    }
    let by = rec.authority.clone();
    let basis = format!(
        "maximum publicity reached on {} (automatic)",
        rec.max_public_until
    );
    move_record(state, ctx, rec, DishonestyStatus::Expired, &by, &basis).map(|_| ())
}
