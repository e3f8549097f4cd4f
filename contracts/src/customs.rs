//! Customs declarations (record kind K of domain.md) and rules R12 (facilitation by customs
//! credit tier), R13 (two-step and advance declarations) and R14 (the clearance-time SLA).
//!
//! | From | To | Who | Guard |
//! |---|---|---|---|
//! | — | DRAFT (暂存) | the declarant (ENTERPRISE) | declarant and consignee/consignor EXISTING (R2); every number checked (R1) |
//! | DRAFT | SUBMITTED | the declarant | STANDARD: the goods' arrival confirmed (运抵); ADVANCE may precede it |
//! | DRAFT | SUMMARY_SUBMITTED | the declarant | TWO_STEP only |
//! | SUBMITTED, SUMMARY_SUBMITTED | ACCEPTED (入库) or REJECTED (退单, final) | CUSTOMS of the office | — |
//! | ACCEPTED | UNDER_REVIEW (人工审核) or ASSESSED (审结) | CUSTOMS | — |
//! | UNDER_REVIEW | ASSESSED | CUSTOMS | — |
//! | ASSESSED | INSPECTION (查验) | CUSTOMS | — |
//! | INSPECTION | ASSESSED or DETAINED (扣留) | CUSTOMS | — |
//! | ASSESSED, DETAINED | RELEASED (放行) | CUSTOMS | arrival confirmed, not after the release; the SLA is computed (R14) |
//! | DETAINED | RETURNED (退运) or SEIZED | CUSTOMS | — |
//! | RELEASED | CLOSED (结关) | CUSTOMS | not TWO_STEP |
//! | RELEASED | COMPLETE_SUBMITTED | the declarant | TWO_STEP |
//! | COMPLETE_SUBMITTED | CLOSED | CUSTOMS | — |
//!
//! "CUSTOMS of the office": a CUSTOMS department whose jurisdiction covers the province of the
//! office that accepted the entry (the first four digits of its number).
//!
//! Every step carries its business time (the customs system's decision time, the declarant's
//! filing time), which may not run backwards and may not lie ahead of the block time by more
//! than [`MAX_CLOCK_SKEW_MS`]; the block time stays the ledger's own record of when the state
//! changed. The clearance metrics are measured on business times: import `released −
//! transport entry declared`, export `released − arrival confirmed`, against the policy's
//! targets (default 30 h and 1.1 h); a breach is flagged and blocks nothing (R14).
//!
//! TWO_STEP: the complete declaration is due 14 days (policy) after the date the means of
//! transport declared entry. If it is not in by then, the system flags OVERDUE_COMPLETE and
//! records a customs credit event against the declarant (a dishonesty record, severity per
//! policy) (R13).

use concordat_primitives::Hash;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::codes::{self, IeFlag, LocationFunction, TraceKind};
use crate::context::BlockContext;
use crate::credit::{self, DishonestyCategory, NewRecord, Scheme};
use crate::due;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{parse_uscc, validate_text, Uscc, MAX_REF_BYTES};
use crate::kinds::{Id, KindSpec, Versioned};
use crate::policy;
use crate::record::{self, stateful, Change, OwnerIndex, Table};
use crate::roles::Role;
use crate::state::Overlay;
use crate::time::{Date, Instant};
use crate::trace;

/// How far a business time may lie ahead of the block time (clocks of the customs system and
/// the proposer differ): 5 minutes.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60_000;
/// Most goods items per declaration.
pub const MAX_ITEMS: usize = 64;
/// Most transport documents per declaration.
pub const MAX_TRANSPORT_DOCS: usize = 16;
/// Most containers per declaration.
pub const MAX_CONTAINERS: usize = 64;
/// Most declarations indexed per declarant.
pub const MAX_DECLARATIONS_PER_DECLARANT: usize = 65_536;
/// Most steps kept per declaration.
pub const MAX_STEPS: usize = record::MAX_HISTORY;

/// How the declaration is lodged.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeclarationMode {
    /// After arrival.
    Standard,
    /// 提前申报: lodged before arrival, released only after it.
    Advance,
    /// 两步申报: a summary declaration releases the goods; the complete one follows.
    TwoStep,
}

/// Declaration status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeclarationStatus {
    /// 暂存: saved, not lodged.
    Draft,
    /// Lodged.
    Submitted,
    /// TWO_STEP: the summary declaration (概要申报) lodged.
    SummarySubmitted,
    /// 入库: accepted into the customs system.
    Accepted,
    /// 退单: rejected (final; resubmit as a new entry).
    Rejected,
    /// 人工审核: manual review.
    UnderReview,
    /// 审结: assessment completed.
    Assessed,
    /// 查验: physical inspection.
    Inspection,
    /// 扣留: detained.
    Detained,
    /// 放行: released.
    Released,
    /// 退运: returned (final).
    Returned,
    /// Seized (final).
    Seized,
    /// TWO_STEP: the complete declaration (完整申报) lodged.
    CompleteSubmitted,
    /// 结关: closed (final).
    Closed,
}

/// A flag on a declaration: reported, never a bar.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeclarationFlag {
    /// TWO_STEP: the complete declaration was not in by its due date (R13).
    OverdueComplete,
    /// The clearance time exceeded the policy's target (R14).
    SlaBreach,
}

/// A transport document.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TransportDoc {
    /// BILL_OF_LADING or AIR_WAYBILL.
    pub kind: TraceKind,
    /// Its number (checked by R1).
    pub number: String,
}

/// One goods item.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct GoodsItem {
    /// HS code, 10 digits.
    pub hs_code: String,
    /// Description.
    pub description: String,
    /// Quantity.
    pub quantity: u64,
    /// Unit of the quantity.
    pub unit: String,
    /// Declared value in CNY fen (hundredths).
    pub value_fen: u64,
}

/// The consignee (import) or consignor (export).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Trader {
    /// Its USCC (a registered party).
    pub uscc: Uscc,
    /// Its 10-digit customs registration code.
    pub customs_code: Option<String>,
}

/// The business times of a declaration.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Times {
    /// The means of transport declared entry (the manifest).
    pub transport_entry_declared_at: Option<Instant>,
    /// 运抵: arrival confirmed (an arrival event at a customs-controlled read point, or customs).
    pub arrival_confirmed_at: Option<Instant>,
    /// Lodged.
    pub submitted_at: Option<Instant>,
    /// TWO_STEP: the summary declaration lodged.
    pub summary_declared_at: Option<Instant>,
    /// Accepted.
    pub accepted_at: Option<Instant>,
    /// Inspection ordered.
    pub inspection_ordered_at: Option<Instant>,
    /// Released.
    pub released_at: Option<Instant>,
    /// TWO_STEP: the complete declaration lodged.
    pub complete_declared_at: Option<Instant>,
    /// Closed.
    pub closed_at: Option<Instant>,
}

/// Which clearance time is measured.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Metric {
    /// Import: released − transport entry declared.
    ImportClearance,
    /// Export: released − arrival confirmed.
    ExportClearance,
}

/// The SLA's verdict.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SlaResult {
    /// Within the target.
    Pass,
    /// Over the target (flagged, never blocking).
    Breach,
}

/// The clearance time measured on release (R14).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Clearance {
    /// What is measured.
    pub metric: Metric,
    /// From.
    pub from: Instant,
    /// To (the release).
    pub released: Instant,
    /// Elapsed milliseconds.
    pub elapsed_ms: u64,
    /// Elapsed hours, two decimals (`0.83`).
    pub hours: String,
    /// The policy's target in minutes.
    pub target_minutes: u32,
    /// The verdict.
    pub result: SlaResult,
}

/// R12: what a party's customs credit tier gives it, as read by a declaring office.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Facilitation {
    /// The party.
    pub party: Uscc,
    /// Its tier (REGULAR when it has no customs evaluation in force).
    pub tier: String,
    /// The evaluation read (`None`: none in force).
    pub evaluation_id: Option<String>,
    /// AEO facilitation applies (AEO_ADVANCED or AEO_CERTIFIED), whichever office declares.
    pub aeo: bool,
    /// Intensified inspection (DISHONEST or SERIOUSLY_DISHONEST).
    pub intensified_inspection: bool,
    /// The policy's inspection rate for the tier, per mille.
    pub inspection_rate_permille: u32,
    /// The office that asked, if any.
    pub office: Option<String>,
}

/// One step of a declaration for the shipment timeline: what happened, its business time, who
/// did it, and the transaction that did it (`None` for a step the system took at a block's
/// start), so that each step can be proven from the transaction log.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// A status name, or ARRIVAL_CONFIRMED, TRANSPORT_ENTRY_DECLARED, OVERDUE_COMPLETE.
    pub what: String,
    /// Business time.
    pub at: Instant,
    /// Who.
    pub by: Uscc,
    /// Basis or detail.
    pub basis: String,
    /// The transaction.
    pub tx: Option<Hash>,
    /// The block height.
    pub height: u64,
}

/// A customs declaration.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The 18-digit entry (declaration) number.
    pub entry_id: String,
    /// The office that accepts it (its first four digits).
    pub customs_office: String,
    /// Import or export (digit 9).
    pub ie_flag: IeFlag,
    /// Who lodges it.
    pub declarant: Uscc,
    /// The consignee or consignor.
    pub trader: Trader,
    /// Mode.
    pub mode: DeclarationMode,
    /// UN/ECE Recommendation 19 transport mode (1 sea, 2 rail, 3 road, 4 air, 5 mail, …).
    pub transport_mode: u8,
    /// Bills of lading and air waybills.
    pub transport_docs: Vec<TransportDoc>,
    /// Containers (ISO 6346).
    pub containers: Vec<String>,
    /// The port, airport or station of entry or exit (UN/LOCODE).
    pub port_locode: String,
    /// Goods.
    pub items: Vec<GoodsItem>,
    /// Business times.
    pub times: Times,
    /// TWO_STEP: the complete declaration's last day.
    pub complete_due_on: Option<Date>,
    /// Status.
    pub status: DeclarationStatus,
    /// Flags.
    pub flags: Vec<DeclarationFlag>,
    /// The clearance time, once released (R14).
    pub clearance: Option<Clearance>,
    /// The trader's facilitation when customs accepted the entry (R12).
    pub facilitation: Option<Facilitation>,
    /// The logistics event that confirmed arrival, if an event did.
    pub arrival_event: Option<String>,
    /// Steps with business times and transactions, oldest first.
    pub steps: Vec<Step>,
    /// Status changes (block times), oldest first.
    pub history: Vec<Change<DeclarationStatus>>,
}

stateful!(
    Declaration,
    DeclarationStatus,
    "declaration",
    entry_id,
    [
        (Draft, Submitted),
        (Draft, SummarySubmitted),
        (Submitted, Accepted),
        (Submitted, Rejected),
        (SummarySubmitted, Accepted),
        (SummarySubmitted, Rejected),
        (Accepted, UnderReview),
        (Accepted, Assessed),
        (UnderReview, Assessed),
        (Assessed, Inspection),
        (Inspection, Assessed),
        (Inspection, Detained),
        (Assessed, Released),
        (Detained, Released),
        (Detained, Returned),
        (Detained, Seized),
        (Released, Closed),
        (Released, CompleteSubmitted),
        (CompleteSubmitted, Closed),
    ]
);

impl Versioned for Declaration {
    const APPENDED: &'static [&'static str] = &[];
}

impl Declaration {
    /// True iff the declaration is done with (no complete declaration can still be owed).
    fn settled(&self) -> bool {
        matches!(
            self.status,
            DeclarationStatus::CompleteSubmitted
                | DeclarationStatus::Closed
                | DeclarationStatus::Rejected
                | DeclarationStatus::Returned
                | DeclarationStatus::Seized
        )
    }

    /// The latest business time of its steps.
    fn last_at(&self) -> Option<Instant> {
        self.steps.iter().map(|s| s.at).max()
    }

    fn step(&mut self, ctx: &BlockContext, what: &str, at: Instant, by: &Uscc, basis: &str) {
        if self.steps.len() < MAX_STEPS {
            self.steps.push(Step {
                what: what.to_string(),
                at,
                by: by.clone(),
                basis: basis.to_string(),
                tx: ctx.tx,
                height: ctx.height,
            });
        }
    }

    /// The trace numbers it is found by: its own, its transport documents, its containers.
    pub fn trace_numbers(&self) -> Vec<(TraceKind, String)> {
        let mut out = vec![(TraceKind::Entry, self.entry_id.clone())];
        out.extend(
            self.transport_docs
                .iter()
                .map(|d| (d.kind.clone(), d.number.clone())),
        );
        out.extend(
            self.containers
                .iter()
                .map(|c| (TraceKind::Container, c.clone())),
        );
        out
    }
}

/// State keys of this module.
pub mod keys {
    /// A declaration, by entry id.
    pub fn declaration(id: &str) -> Vec<u8> {
        [b"customs_dec/".as_slice(), id.as_bytes()].concat()
    }
    /// The entry ids of a declarant.
    pub fn declarations_of(uscc: &str) -> Vec<u8> {
        [b"customs_decs_by/".as_slice(), uscc.as_bytes()].concat()
    }
}

/// The declarations, by entry id.
pub const DECLARATIONS: Table<Declaration> =
    Table::new("declaration", "entry_id", 18, keys::declaration);
/// The entry ids of each declarant.
pub const BY_DECLARANT: OwnerIndex = OwnerIndex {
    what: "declarations",
    cap: MAX_DECLARATIONS_PER_DECLARANT,
    key: keys::declarations_of,
};

/// What the declarant saves as a draft.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DeclarationDraft {
    /// The 18-digit entry number.
    pub entry_id: String,
    /// Import or export (must match digit 9 of the number).
    pub ie_flag: IeFlag,
    /// The consignee or consignor (a registered USCC).
    pub trader: String,
    /// Its 10-digit customs registration code.
    pub trader_customs_code: Option<String>,
    /// Mode.
    pub mode: DeclarationMode,
    /// UN/ECE Recommendation 19 transport mode.
    pub transport_mode: u8,
    /// Transport documents.
    pub transport_docs: Vec<TransportDoc>,
    /// Containers.
    pub containers: Vec<String>,
    /// UN/LOCODE of the port, airport or station.
    pub port_locode: String,
    /// Goods.
    pub items: Vec<GoodsItem>,
}

/// Customs calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum CustomsCall {
    /// Save a declaration as DRAFT (the declarant, an ENTERPRISE key).
    Save(DeclarationDraft),
    /// Lodge it: DRAFT → SUBMITTED, or SUMMARY_SUBMITTED for TWO_STEP (the declarant).
    Submit {
        /// Entry id.
        entry_id: String,
        /// Business time.
        at: Instant,
    },
    /// TWO_STEP: lodge the complete declaration, RELEASED → COMPLETE_SUBMITTED (the declarant).
    SubmitComplete {
        /// Entry id.
        entry_id: String,
        /// Business time.
        at: Instant,
    },
    /// Record when the means of transport declared entry (CUSTOMS, from the manifest).
    RecordTransportEntry {
        /// Entry id.
        entry_id: String,
        /// Business time.
        at: Instant,
    },
    /// Confirm the goods' arrival (运抵) without an arrival event (CUSTOMS).
    ConfirmArrival {
        /// Entry id.
        entry_id: String,
        /// Business time.
        at: Instant,
        /// Basis.
        basis: String,
    },
    /// A customs decision: ACCEPTED, REJECTED, UNDER_REVIEW, ASSESSED, INSPECTION, DETAINED,
    /// RELEASED, RETURNED, SEIZED or CLOSED (CUSTOMS of the office).
    Decide {
        /// Entry id.
        entry_id: String,
        /// The new status.
        to: DeclarationStatus,
        /// Business time.
        at: Instant,
        /// Basis (receipt or decision reference; may be empty).
        basis: String,
    },
}

fn check_entry_id(entry_id: &str) -> Result<codes::DeclarationNo, ExecError> {
    codes::declaration_no(entry_id)
}

fn check_draft(d: &DeclarationDraft) -> Result<(), ExecError> {
    let no = check_entry_id(&d.entry_id)?;
    if no.ie != d.ie_flag {
        return Err(invalid(format!(
            "entry {} is numbered as {:?} (digit 9) but declared {:?}",
            d.entry_id, no.ie, d.ie_flag
        )));
    }
    parse_uscc(&d.trader)?;
    if let Some(c) = &d.trader_customs_code {
        codes::customs_code10(c)?;
    }
    let function = match d.transport_mode {
        1 | 8 => Some(LocationFunction::Port),
        2 => Some(LocationFunction::Rail),
        3 => Some(LocationFunction::Road),
        4 => Some(LocationFunction::Airport),
        0 | 5 | 7 | 9 => None,
        m => {
            return Err(invalid(format!(
                "transport mode {m} is not a UN/ECE Recommendation 19 code (0-5, 7-9)"
            )))
        }
    };
    match function {
        Some(f) => codes::locode_with(&d.port_locode, f).map(|_| ())?,
        None => codes::locode(&d.port_locode).map(|_| ())?,
    }
    if d.transport_docs.len() > MAX_TRANSPORT_DOCS {
        return Err(invalid(format!(
            "at most {MAX_TRANSPORT_DOCS} transport documents"
        )));
    }
    for doc in &d.transport_docs {
        match doc.kind {
            TraceKind::BillOfLading | TraceKind::AirWaybill => {
                doc.kind.check(&doc.number)?;
                // A number must trace as what it is (a B/L shaped like a container or an
                // entry number could be recorded but never found).
                if TraceKind::detect(&doc.number).ok().as_ref() != Some(&doc.kind) {
                    return Err(ExecError::new(
                        ResultCode::BadIdentifier,
                        format!(
                            "transport document {} reads as another kind of number; a {} cannot be traced by it",
                            doc.number,
                            crate::rules::spelled(&doc.kind)
                        ),
                    ));
                }
            }
            _ => {
                return Err(invalid(
                    "a transport document is a BILL_OF_LADING or an AIR_WAYBILL",
                ))
            }
        }
    }
    if d.containers.len() > MAX_CONTAINERS {
        return Err(invalid(format!("at most {MAX_CONTAINERS} containers")));
    }
    for c in &d.containers {
        codes::container_no(c)?;
    }
    if d.items.is_empty() || d.items.len() > MAX_ITEMS {
        return Err(invalid(format!("a declaration has 1 to {MAX_ITEMS} items")));
    }
    for i in &d.items {
        codes::hs_code(&i.hs_code)?;
        validate_text("item description", &i.description, MAX_REF_BYTES)?;
        crate::ids::validate_code("item unit", &i.unit)?;
    }
    Ok(())
}

impl CustomsCall {
    /// Who may make the call (the office and the declarant are checked on the record).
    pub fn allowed_roles(&self) -> &'static [Role] {
        match self {
            CustomsCall::Save(_)
            | CustomsCall::Submit { .. }
            | CustomsCall::SubmitComplete { .. } => &[Role::Enterprise],
            CustomsCall::RecordTransportEntry { .. }
            | CustomsCall::ConfirmArrival { .. }
            | CustomsCall::Decide { .. } => &[Role::Customs],
        }
    }

    /// The checks that need no state.
    pub fn precheck(&self) -> Result<(), ExecError> {
        match self {
            CustomsCall::Save(d) => check_draft(d),
            CustomsCall::Submit { entry_id, .. }
            | CustomsCall::SubmitComplete { entry_id, .. }
            | CustomsCall::RecordTransportEntry { entry_id, .. } => {
                check_entry_id(entry_id).map(|_| ())
            }
            CustomsCall::ConfirmArrival {
                entry_id, basis, ..
            } => {
                check_entry_id(entry_id)?;
                validate_text("basis", basis, MAX_REF_BYTES)
            }
            CustomsCall::Decide {
                entry_id,
                to,
                basis,
                ..
            } => {
                check_entry_id(entry_id)?;
                use DeclarationStatus::*;
                if matches!(to, Draft | Submitted | SummarySubmitted | CompleteSubmitted) {
                    return Err(invalid(format!(
                        "{} is the declarant's step, not a customs decision",
                        crate::rules::spelled(to)
                    )));
                }
                if basis.len() > MAX_REF_BYTES || basis.chars().any(char::is_control) {
                    return Err(invalid(format!(
                        "basis is at most {MAX_REF_BYTES} bytes without control characters"
                    )));
                }
                Ok(())
            }
        }
    }
}

/// Checks a business time against the block time and the declaration's last step.
fn check_time(ctx: &BlockContext, d: &Declaration, at: Instant) -> Result<(), ExecError> {
    if at.ms() > ctx.time_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
        return Err(invalid(format!(
            "{at} is in the future (the block time is {})",
            Instant(ctx.time_ms)
        )));
    }
    if let Some(last) = d.last_at() {
        if at < last {
            return Err(invalid(format!(
                "{at} is before the declaration's last step at {last}; business times do not run backwards"
            )));
        }
    }
    Ok(())
}

fn require_declarant(actor: &Actor, d: &Declaration) -> Result<(), ExecError> {
    if actor.uscc() != &d.declarant {
        return Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "entry {} was declared by {}; only it lodges it",
                d.entry_id, d.declarant
            ),
        ));
    }
    Ok(())
}

fn require_office(actor: &Actor, d: &Declaration) -> Result<(), ExecError> {
    let office = codes::customs_office(&d.customs_office)?;
    if !actor.covers(office.province) {
        return Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "entry {} is at office {} ({}); customs department {} (jurisdiction {}) does not cover it",
                d.entry_id,
                office.code,
                office.name,
                actor.uscc(),
                actor.jurisdiction()
            ),
        ));
    }
    Ok(())
}

/// R12: the facilitation `party`'s customs credit tier gives, for any declaring `office`.
pub fn facilitation(state: &Overlay<'_>, party: &Uscc, office: Option<&str>) -> Facilitation {
    let params = policy::current(state).customs();
    let current =
        credit::current_evaluation(state, party, Scheme::Customs).filter(|e| e.in_force());
    let tier = current
        .as_ref()
        .map(|e| e.grade.clone())
        .unwrap_or_else(|| "REGULAR".to_string());
    let rate = match tier.as_str() {
        "AEO_ADVANCED" => params.aeo_advanced_inspection_permille,
        "AEO_CERTIFIED" => params.aeo_certified_inspection_permille,
        "DISHONEST" => params.dishonest_inspection_permille,
        "SERIOUSLY_DISHONEST" => params.seriously_dishonest_inspection_permille,
        _ => params.regular_inspection_permille,
    };
    Facilitation {
        party: party.clone(),
        aeo: matches!(tier.as_str(), "AEO_ADVANCED" | "AEO_CERTIFIED"),
        intensified_inspection: matches!(tier.as_str(), "DISHONEST" | "SERIOUSLY_DISHONEST"),
        inspection_rate_permille: rate,
        evaluation_id: current.map(|e| e.evaluation_id),
        tier,
        office: office.map(String::from),
    }
}

fn hours(ms: u64) -> String {
    // Rounded to hundredths: 50 min → 0.83, 130 min → 2.17.
    let hundredths = (ms * 100 + 1_800_000) / 3_600_000;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// R14: the clearance time of `d` released at `at`, if its starting time is known.
fn clearance(state: &Overlay<'_>, d: &Declaration, at: Instant) -> Option<Clearance> {
    let params = policy::current(state).customs();
    let (metric, from, target) = match d.ie_flag {
        IeFlag::Import => (
            Metric::ImportClearance,
            d.times.transport_entry_declared_at?,
            params.import_target_minutes,
        ),
        IeFlag::Export => (
            Metric::ExportClearance,
            d.times.arrival_confirmed_at?,
            params.export_target_minutes,
        ),
    };
    let elapsed_ms = at.ms().saturating_sub(from.ms());
    let result = if elapsed_ms <= u64::from(target) * 60_000 {
        SlaResult::Pass
    } else {
        SlaResult::Breach
    };
    Some(Clearance {
        metric,
        from,
        released: at,
        elapsed_ms,
        hours: hours(elapsed_ms),
        target_minutes: target,
        result,
    })
}

/// Sets the complete declaration's due date of a TWO_STEP entry once the transport's entry
/// date is known, and schedules the overdue check for the day after it.
fn schedule_complete_due(state: &mut Overlay<'_>, d: &mut Declaration) -> Result<(), ExecError> {
    if d.mode != DeclarationMode::TwoStep || d.complete_due_on.is_some() {
        return Ok(());
    }
    let Some(entry) = d.times.transport_entry_declared_at else {
        return Ok(());
    };
    let days = policy::current(state).customs().complete_due_days;
    let due_on = entry.date().add_days(u64::from(days));
    d.complete_due_on = Some(due_on);
    due::schedule(
        state,
        due_on.add_days(1),
        due::Event::CompleteOverdue,
        &d.entry_id,
    )
}

fn save(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    draft: &DeclarationDraft,
) -> Result<(), ExecError> {
    let declarant = crate::party::require_existing(state, actor.uscc())?;
    let trader_uscc = parse_uscc(&draft.trader)?;
    crate::party::require_existing(state, &trader_uscc)?;
    DECLARATIONS.require_new(state, &draft.entry_id)?;
    let status = DeclarationStatus::Draft;
    let mut d = Declaration {
        entry_id: draft.entry_id.clone(),
        customs_office: draft.entry_id[0..4].to_string(),
        ie_flag: draft.ie_flag,
        declarant: declarant.uscc.clone(),
        trader: Trader {
            uscc: trader_uscc,
            customs_code: draft.trader_customs_code.clone(),
        },
        mode: draft.mode,
        transport_mode: draft.transport_mode,
        transport_docs: draft.transport_docs.clone(),
        containers: draft.containers.clone(),
        port_locode: draft.port_locode.clone(),
        items: draft.items.clone(),
        times: Times::default(),
        complete_due_on: None,
        status,
        flags: Vec::new(),
        clearance: None,
        facilitation: None,
        arrival_event: None,
        steps: Vec::new(),
        history: vec![Change::now(ctx, status, &declarant.uscc, "saved")],
    };
    BY_DECLARANT.add(state, &declarant.uscc, &d.entry_id)?;
    // Its own number finds it at once; its transport documents and containers once customs
    // accepts it (so drafts naming someone else's shipment cannot crowd that shipment's index).
    trace::add_entry(state, &TraceKind::Entry, &d.entry_id, &d.entry_id)?;
    look_back_arrival(state, ctx, &mut d);
    DECLARATIONS.put(state, &d.entry_id, &d);
    Ok(())
}

fn move_to(
    d: &mut Declaration,
    ctx: &BlockContext,
    to: DeclarationStatus,
    at: Instant,
    by: &Uscc,
    basis: &str,
) -> Result<(), ExecError> {
    record::transition(d, to, ctx, by, basis)?;
    let name = crate::rules::spelled(&to);
    d.step(ctx, &name, at, by, basis);
    Ok(())
}

/// Most recent events read per number when looking back for an arrival.
pub const LOOK_BACK_EVENTS: usize = 64;

/// Confirms the arrival of `d` from an arrival event captured before it could be linked to
/// `d` (before it was saved or accepted): the earliest `arriving`/`unloading` event, not
/// declared in error, at a customs-controlled read point at `d`'s port, among the latest
/// [`LOOK_BACK_EVENTS`] events of its numbers.
fn look_back_arrival(state: &Overlay<'_>, ctx: &BlockContext, d: &mut Declaration) {
    use crate::logistics::{self, LogisticsEvent, ReadPoint};
    if d.times.arrival_confirmed_at.is_some() {
        return;
    }
    let mut best: Option<LogisticsEvent> = None;
    for (kind, number) in d.trace_numbers() {
        let idx = trace::get(state, &kind, &number);
        for hex in idx.events.iter().rev().take(LOOK_BACK_EVENTS) {
            let Some(e) = state.get::<LogisticsEvent>(&logistics::keys::event(hex)) else {
                continue;
            };
            if !matches!(e.biz_step.as_deref(), Some("arriving" | "unloading"))
                || e.locode != d.port_locode
                || state.get_raw(&logistics::keys::correction(hex)).is_some()
            {
                continue;
            }
            let controlled = state
                .get::<ReadPoint>(&logistics::keys::read_point(&e.read_point))
                .is_some_and(|rp| rp.customs_controlled);
            if controlled && best.as_ref().is_none_or(|b| e.event_time < b.event_time) {
                best = Some(e);
            }
        }
    }
    if let Some(e) = best {
        let basis = format!(
            "{} (captured before the entry was linked)",
            e.biz_step.clone().unwrap_or_default()
        );
        confirm_arrival(
            d,
            ctx,
            e.event_time,
            &e.captured_by,
            Some(&e.event_id),
            &basis,
        );
    }
}

/// A CUSTOMS department covering `office`, for what the system records in an office's name
/// when no department has acted on the entry yet.
fn office_customs(state: &Overlay<'_>, office: &str) -> Option<Uscc> {
    let province = codes::customs_office(office).ok()?.province;
    crate::governance::department_index(state)
        .into_iter()
        .find(|u| {
            crate::governance::department_profile(state, u.as_str()).is_some_and(|d| {
                d.has_role(Role::Customs) && crate::ids::region_covers(&d.region, province)
            })
        })
}

/// Adds a step to `d`'s timeline (for what another module does to it).
pub fn record_step(
    d: &mut Declaration,
    ctx: &BlockContext,
    what: &str,
    at: Instant,
    by: &Uscc,
    basis: &str,
) {
    d.step(ctx, what, at, by, basis);
}

/// Sets the arrival (运抵) of `d` at `at` from `source` (an event id or a basis). Returns
/// false when arrival was already confirmed (the first confirmation stands).
pub fn confirm_arrival(
    d: &mut Declaration,
    ctx: &BlockContext,
    at: Instant,
    by: &Uscc,
    event: Option<&str>,
    basis: &str,
) -> bool {
    if d.times.arrival_confirmed_at.is_some() {
        return false;
    }
    d.times.arrival_confirmed_at = Some(at);
    d.arrival_event = event.map(String::from);
    d.step(ctx, "ARRIVAL_CONFIRMED", at, by, basis);
    true
}

/// Executes a customs call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &CustomsCall,
) -> Result<(), ExecError> {
    let by = actor.uscc().clone();
    match call {
        CustomsCall::Save(draft) => save(state, ctx, actor, draft),
        CustomsCall::Submit { entry_id, at } => {
            let mut d = DECLARATIONS.load(state, entry_id)?;
            require_declarant(actor, &d)?;
            check_time(ctx, &d, *at)?;
            let to = match d.mode {
                DeclarationMode::TwoStep => DeclarationStatus::SummarySubmitted,
                DeclarationMode::Standard | DeclarationMode::Advance => {
                    DeclarationStatus::Submitted
                }
            };
            look_back_arrival(state, ctx, &mut d);
            if d.mode == DeclarationMode::Standard && d.times.arrival_confirmed_at.is_none() {
                return Err(ExecError::new(
                    ResultCode::InvalidTransition,
                    format!(
                        "entry {entry_id} is a STANDARD declaration and its goods' arrival is not confirmed (运抵); lodge it after arrival, or as an ADVANCE declaration"
                    ),
                ));
            }
            move_to(&mut d, ctx, to, *at, &by, "lodged by the declarant")?;
            match to {
                DeclarationStatus::SummarySubmitted => d.times.summary_declared_at = Some(*at),
                _ => d.times.submitted_at = Some(*at),
            }
            DECLARATIONS.put(state, entry_id, &d);
            Ok(())
        }
        CustomsCall::SubmitComplete { entry_id, at } => {
            let mut d = DECLARATIONS.load(state, entry_id)?;
            require_declarant(actor, &d)?;
            if d.mode != DeclarationMode::TwoStep {
                return Err(ExecError::new(
                    ResultCode::InvalidTransition,
                    format!("entry {entry_id} is not a TWO_STEP declaration"),
                ));
            }
            check_time(ctx, &d, *at)?;
            let late = d.complete_due_on.is_some_and(|due| at.date() > due);
            let basis = if late {
                "complete declaration lodged after its due date"
            } else {
                "complete declaration lodged"
            };
            move_to(
                &mut d,
                ctx,
                DeclarationStatus::CompleteSubmitted,
                *at,
                &by,
                basis,
            )?;
            d.times.complete_declared_at = Some(*at);
            DECLARATIONS.put(state, entry_id, &d);
            Ok(())
        }
        CustomsCall::RecordTransportEntry { entry_id, at } => {
            let mut d = DECLARATIONS.load(state, entry_id)?;
            require_office(actor, &d)?;
            if d.times.transport_entry_declared_at.is_some() {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("entry {entry_id} already has its transport entry time"),
                ));
            }
            if at.ms() > ctx.time_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
                return Err(invalid(format!("{at} is in the future")));
            }
            d.times.transport_entry_declared_at = Some(*at);
            d.step(
                ctx,
                "TRANSPORT_ENTRY_DECLARED",
                *at,
                &by,
                "from the manifest",
            );
            schedule_complete_due(state, &mut d)?;
            DECLARATIONS.put(state, entry_id, &d);
            Ok(())
        }
        CustomsCall::ConfirmArrival {
            entry_id,
            at,
            basis,
        } => {
            let mut d = DECLARATIONS.load(state, entry_id)?;
            require_office(actor, &d)?;
            check_time(ctx, &d, *at)?;
            if !confirm_arrival(&mut d, ctx, *at, &by, None, basis) {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("entry {entry_id}'s arrival is already confirmed"),
                ));
            }
            DECLARATIONS.put(state, entry_id, &d);
            Ok(())
        }
        CustomsCall::Decide {
            entry_id,
            to,
            at,
            basis,
        } => {
            let mut d = DECLARATIONS.load(state, entry_id)?;
            require_office(actor, &d)?;
            check_time(ctx, &d, *at)?;
            decide(state, ctx, &mut d, *to, *at, &by, basis)?;
            DECLARATIONS.put(state, entry_id, &d);
            Ok(())
        }
    }
}

fn decide(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    d: &mut Declaration,
    to: DeclarationStatus,
    at: Instant,
    by: &Uscc,
    basis: &str,
) -> Result<(), ExecError> {
    use DeclarationStatus::*;
    let refuse = |m: String| Err(ExecError::new(ResultCode::InvalidTransition, m));
    match to {
        Released => match d.times.arrival_confirmed_at {
            None => {
                return refuse(format!(
                    "entry {}: release before arrival is refused; its goods' arrival (运抵) is not confirmed",
                    d.entry_id
                ))
            }
            Some(arrived) if at < arrived => {
                return refuse(format!(
                    "entry {}: release at {at} is before the arrival at {arrived}",
                    d.entry_id
                ))
            }
            Some(_) => {}
        },
        Closed if d.status == Released && d.mode == DeclarationMode::TwoStep => {
            return refuse(format!(
                "entry {} is a TWO_STEP declaration: it closes after the complete declaration",
                d.entry_id
            ))
        }
        _ => {}
    }
    move_to(d, ctx, to, at, by, basis)?;
    match to {
        Accepted => {
            d.times.accepted_at = Some(at);
            d.facilitation = Some(facilitation(state, &d.trader.uscc, Some(&d.customs_office)));
            for (kind, number) in d.trace_numbers() {
                trace::add_entry(state, &kind, &number, &d.entry_id)?;
            }
            look_back_arrival(state, ctx, d);
        }
        Inspection => d.times.inspection_ordered_at = Some(at),
        Released => {
            d.times.released_at = Some(at);
            d.clearance = clearance(state, d, at);
            if d.clearance
                .as_ref()
                .is_some_and(|c| c.result == SlaResult::Breach)
                && !d.flags.contains(&DeclarationFlag::SlaBreach)
            {
                d.flags.push(DeclarationFlag::SlaBreach);
            }
        }
        Closed => d.times.closed_at = Some(at),
        _ => {}
    }
    Ok(())
}

/// R13, run by the executor the day after a TWO_STEP entry's complete declaration was due: if
/// the entry was lodged and its complete declaration is still not in, flags OVERDUE_COMPLETE
/// and records a customs credit event against the declarant (a dishonesty record by the
/// customs department that accepted the entry, or else one covering its office; severity per
/// policy).
pub fn flag_overdue_complete(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    entry_id: &str,
) -> Result<(), ExecError> {
    let mut d = DECLARATIONS.load(state, entry_id)?;
    if d.settled()
        || d.status == DeclarationStatus::Draft
        || d.times.complete_declared_at.is_some()
        || d.flags.contains(&DeclarationFlag::OverdueComplete)
    {
        return Ok(());
    }
    let due_on = d.complete_due_on.ok_or_else(|| invalid("no due date"))?;
    d.flags.push(DeclarationFlag::OverdueComplete);
    let authority = d
        .history
        .iter()
        .find(|c| c.status == DeclarationStatus::Accepted)
        .map(|c| c.by.clone())
        .or_else(|| office_customs(state, &d.customs_office));
    let basis = format!("R13: complete declaration of entry {entry_id} was due by {due_on}");
    let system = authority.clone().unwrap_or_else(|| d.declarant.clone());
    d.step(
        ctx,
        "OVERDUE_COMPLETE",
        Instant(ctx.time_ms.max(due_on.add_days(1).start_ms())),
        &system,
        &basis,
    );
    if let Some(authority) = authority {
        let pol = policy::current(state);
        credit::record(
            state,
            ctx,
            NewRecord {
                record_id: format!("CUS-R13-{entry_id}"),
                party: &d.declarant,
                authority: &authority,
                basis_doc_no: &format!("R13 OVERDUE_COMPLETE {entry_id}"),
                basis_doc_date: Date::of_ms(ctx.time_ms),
                category: DishonestyCategory::Other,
                severity: pol.customs().overdue_complete_severity,
                relates_to: Some(format!("customs_declaration {entry_id}")),
                policy_version: pol.version,
                obligations: vec!["COMPLETE_DECLARATION".into()],
                penalty: None,
            },
        )?;
    }
    DECLARATIONS.put(state, entry_id, &d);
    Ok(())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "customs_declaration",
        "customs declaration (entry)",
        "an 18-digit entry number",
        "010020260000654321",
        Id::Custom(|id| {
            codes::declaration_no(id).map_err(|e| e.message)?;
            Ok(keys::declaration(id))
        }),
        crate::kinds::Decoder::versioned::<Declaration>(),
    )
    .stateful::<Declaration>(),
    KindSpec::new(
        "party_declarations",
        "a declarant's customs declarations",
        "a USCC",
        "91110115MA04DX6C86",
        Id::Uscc(keys::declarations_of),
        crate::kinds::Decoder::of::<Vec<String>>(),
    ),
];
