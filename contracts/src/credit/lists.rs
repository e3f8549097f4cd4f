//! Red and black lists (record kind F of domain.md): the IPR dishonesty list (the IPR
//! "blacklist"), the procurement serious-violation list, the SAMR serious list, the
//! abnormal-operation list, the court and tax lists, and the red lists RED_TAX_A and RED_AEO.
//!
//! | From | To | Who | Guard |
//! |---|---|---|---|
//! | — | LISTED (SUSPENDED for a red list while the party has an active SERIOUS record or black-list entry) | the list's authority (COURT_FEED for the court list) | party registered; listing date not after the block; a procurement ban has its end 1 to 3 years on |
//! | LISTED | REMOVAL_REQUESTED | the party | on or after `earliest_removal_request_on` |
//! | REMOVAL_REQUESTED | REMOVED_EARLY or LISTED | the listing authority | its decision |
//! | LISTED, REMOVAL_REQUESTED, SUSPENDED | REMOVED_EXPIRED | automatic on `auto_remove_on` (or anyone's `ExpireEntry` after it) | — |
//! | LISTED, REMOVAL_REQUESTED, SUSPENDED | ANNULLED | the listing authority | — |
//! | LISTED ⇄ SUSPENDED | | automatic, red lists only | while a SERIOUS record or black-list entry of the party is active |
//!
//! An entry in force (LISTED, REMOVAL_REQUESTED) is in the restriction index for each of its
//! restrictions; leaving those statuses takes it out in the same transaction.

use serde::{Deserialize, Serialize};

use super::dishonesty::{records_of, Severity, RECORDS};
use super::restrictions::{self, RestrictionCode, Source};
use crate::context::BlockContext;
use crate::error::{ExecError, ResultCode};
use crate::ids::Uscc;
use crate::kinds::Versioned;
use crate::policy::CreditParams;
use crate::record::{self, stateful, Change, OwnerIndex, Table};
use crate::roles::Role;
use crate::state::Overlay;
use crate::time::Date;

/// Longest entry id.
pub const MAX_ENTRY_ID_BYTES: usize = 64;
/// Most list entries indexed per party.
pub const MAX_ENTRIES_PER_PARTY: usize = 1024;
/// Most basis references per entry.
pub const MAX_BASIS_REFS: usize = 16;

/// The lists (domain.md, code list "List type").
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ListType {
    /// 严重违法失信名单 (SAMR Order 44).
    SamrSerious,
    /// 经营异常名录.
    AbnormalOperation,
    /// 政府采购严重违法失信行为记录名单.
    GovProcSerious,
    /// 重大税收违法失信主体.
    MajorTaxViolation,
    /// 失信被执行人 (from the court feed).
    CourtDishonestDebtor,
    /// 知识产权领域严重失信 (CNIPA).
    IprDishonest,
    /// 海关失信企业.
    CustomsDishonest,
    /// Tax A-grade red list.
    RedTaxA,
    /// AEO red list.
    RedAeo,
}

impl ListType {
    /// The role that lists and removes.
    pub fn authority_role(self) -> Role {
        match self {
            ListType::SamrSerious | ListType::AbnormalOperation => Role::EnforcementAuthority,
            ListType::GovProcSerious => Role::ProcurementRegulator,
            ListType::MajorTaxViolation | ListType::RedTaxA => Role::TaxAuthority,
            ListType::CourtDishonestDebtor => Role::CourtFeed,
            ListType::IprDishonest => Role::IprAuthority,
            ListType::CustomsDishonest | ListType::RedAeo => Role::Customs,
        }
    }

    /// A red (honour) list.
    pub fn is_red(self) -> bool {
        matches!(self, ListType::RedTaxA | ListType::RedAeo)
    }

    /// A black list: its active entries suspend the party's red-list entries. The
    /// abnormal-operation directory is a warning, not a black list.
    pub fn is_black(self) -> bool {
        !self.is_red() && self != ListType::AbnormalOperation
    }

    /// The restrictions an entry of the list always carries: what the list bars by law or
    /// regulation (R3: the SAMR serious and IPR lists bar the notification-commitment route;
    /// R5(a): the court, major-tax and procurement lists bar procurement).
    pub fn mandatory_restrictions(self) -> Vec<RestrictionCode> {
        match self {
            ListType::SamrSerious | ListType::IprDishonest => {
                vec![RestrictionCode::NoNotificationCommitment]
            }
            ListType::CourtDishonestDebtor
            | ListType::MajorTaxViolation
            | ListType::GovProcSerious => vec![RestrictionCode::NoGovProcurement],
            _ => Vec::new(),
        }
    }

    /// Whether the current policy lets an entry of the list bar procurement (R5(c): judged at
    /// decision time, so a policy change applies to entries listed before it).
    pub fn bars_procurement_by_policy(self, p: &CreditParams) -> bool {
        match self {
            ListType::SamrSerious => p.samr_serious_bars_procurement,
            ListType::IprDishonest => p.ipr_dishonest_bars_procurement,
            _ => true,
        }
    }

    /// The restrictions an entry carries unless the listing names its own (besides the
    /// mandatory ones). The SAMR serious and IPR lists always record NO_GOV_PROCUREMENT; the
    /// policy decides at each decision whether it bars (R5(c)).
    pub fn default_restrictions(self, _p: &CreditParams) -> Vec<RestrictionCode> {
        use RestrictionCode::*;
        let mut r = match self {
            ListType::SamrSerious => vec![NoNotificationCommitment, NoHonours, KeySupervision],
            ListType::IprDishonest => vec![
                NoNotificationCommitment,
                NoFiscalFunds,
                NoFeeReduction,
                NoHonours,
                KeySupervision,
            ],
            ListType::GovProcSerious => vec![NoGovProcurement],
            ListType::MajorTaxViolation => vec![NoGovProcurement, KeySupervision],
            ListType::CourtDishonestDebtor => vec![NoGovProcurement, NoTendering, NoHonours],
            ListType::CustomsDishonest | ListType::AbnormalOperation => vec![KeySupervision],
            ListType::RedTaxA | ListType::RedAeo => vec![],
        };
        if matches!(self, ListType::SamrSerious | ListType::IprDishonest) {
            r.push(NoGovProcurement);
        }
        r.sort();
        r
    }
}

/// List entry status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ListStatus {
    /// On the list.
    Listed,
    /// The party asked for early removal.
    RemovalRequested,
    /// Removed early by the listing authority (terminal).
    RemovedEarly,
    /// Removed at the end of its window (terminal).
    RemovedExpired,
    /// Annulled by the listing authority (terminal).
    Annulled,
    /// A red-list entry suspended while the party has an active SERIOUS record or black-list
    /// entry.
    Suspended,
}

/// A removal request and its decision.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RemovalRequest {
    /// Requested on.
    pub requested_on: Date,
    /// The party's grounds.
    pub reason: String,
    /// Decided on.
    pub decided_on: Option<Date>,
    /// Approved or rejected.
    pub approved: Option<bool>,
    /// The authority's decision text.
    pub decision: Option<String>,
}

/// A list entry.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// Id.
    pub entry_id: String,
    /// The list.
    pub list_type: ListType,
    /// The listed party.
    pub party: Uscc,
    /// The listing authority.
    pub listing_authority: Uscc,
    /// Decision documents.
    pub basis_refs: Vec<String>,
    /// Listing date.
    pub listed_on: Date,
    /// What the entry restricts while in force.
    pub restrictions: Vec<RestrictionCode>,
    /// The party may ask for early removal from this date.
    pub earliest_removal_request_on: Option<Date>,
    /// Removed automatically on this date.
    pub auto_remove_on: Option<Date>,
    /// Status.
    pub status: ListStatus,
    /// The latest removal request.
    pub removal: Option<RemovalRequest>,
    /// Every status change, oldest first.
    pub history: Vec<Change<ListStatus>>,
}

stateful!(
    ListEntry,
    ListStatus,
    "list entry",
    entry_id,
    [
        (Listed, RemovalRequested),
        (RemovalRequested, RemovedEarly),
        (RemovalRequested, Listed),
        (Listed, RemovedExpired),
        (RemovalRequested, RemovedExpired),
        (Suspended, RemovedExpired),
        (Listed, Annulled),
        (RemovalRequested, Annulled),
        (Suspended, Annulled),
        (Listed, Suspended),
        (Suspended, Listed),
    ]
);

impl Versioned for ListEntry {
    const APPENDED: &'static [&'static str] = &[];
}

impl ListEntry {
    /// True iff its restrictions apply (LISTED or REMOVAL_REQUESTED).
    pub fn in_force(&self) -> bool {
        matches!(
            self.status,
            ListStatus::Listed | ListStatus::RemovalRequested
        )
    }

    /// True iff in force on `today` (before its automatic removal).
    pub fn is_active(&self, today: Date) -> bool {
        self.in_force() && self.auto_remove_on.is_none_or(|d| today < d)
    }
}

/// State keys of this module.
pub mod keys {
    /// A list entry, by id.
    pub fn entry(id: &str) -> Vec<u8> {
        [b"list_entry/".as_slice(), id.as_bytes()].concat()
    }
    /// The list entry ids of a party.
    pub fn entries_of(uscc: &str) -> Vec<u8> {
        [b"list_entries_by_party/".as_slice(), uscc.as_bytes()].concat()
    }
}

/// The list entries, by id.
pub const ENTRIES: Table<ListEntry> =
    Table::new("list entry", "entry_id", MAX_ENTRY_ID_BYTES, keys::entry);
/// The list entry ids of each party.
pub const BY_PARTY: OwnerIndex = OwnerIndex {
    what: "list entries",
    cap: MAX_ENTRIES_PER_PARTY,
    key: keys::entries_of,
};

/// Stores `entry` and keeps the restriction index in step with whether it is in force.
fn store(state: &mut Overlay<'_>, entry: &ListEntry, was_in_force: bool) -> Result<(), ExecError> {
    ENTRIES.put(state, &entry.entry_id, entry);
    let source = Source::ListEntry(entry.entry_id.clone());
    match (was_in_force, entry.in_force()) {
        (false, true) => {
            for code in &entry.restrictions {
                restrictions::add(state, &entry.party, *code, &source)?;
            }
        }
        (true, false) => {
            for code in &entry.restrictions {
                restrictions::remove(state, &entry.party, *code, &source);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Adds a new entry (its status LISTED, or SUSPENDED for a red list that must wait).
pub fn add(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    mut entry: ListEntry,
) -> Result<(), ExecError> {
    ENTRIES.require_new(state, &entry.entry_id)?;
    BY_PARTY.add(state, &entry.party, &entry.entry_id)?;
    let today = Date::of_ms(ctx.time_ms);
    let basis = entry.basis_refs.join("; ");
    entry.status = ListStatus::Listed;
    if entry.list_type.is_red() {
        if let Some(cause) = red_suspension_cause(state, &entry.party, today, None) {
            entry.status = ListStatus::Suspended;
            entry.history = vec![Change::now(
                ctx,
                ListStatus::Suspended,
                &entry.listing_authority,
                &cause,
            )];
        }
    }
    if entry.history.is_empty() {
        entry.history = vec![Change::now(
            ctx,
            ListStatus::Listed,
            &entry.listing_authority,
            &basis,
        )];
    }
    if let Some(on) = entry.auto_remove_on {
        crate::due::schedule(state, on, crate::due::Event::ListRemoval, &entry.entry_id)?;
    }
    store(state, &entry, false)?;
    if entry.list_type.is_black() {
        let by = entry.listing_authority.clone();
        refresh_red(state, ctx, &entry.party, &by)?;
    }
    Ok(())
}

/// Moves `entry` to `to` and keeps the index and the party's red-list suspensions in step.
pub fn move_entry(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    mut entry: ListEntry,
    to: ListStatus,
    by: &Uscc,
    basis: &str,
) -> Result<ListEntry, ExecError> {
    let was = entry.in_force();
    record::transition(&mut entry, to, ctx, by, basis)?;
    store(state, &entry, was)?;
    if entry.list_type.is_black() && was && !entry.in_force() {
        refresh_red(state, ctx, &entry.party, by)?;
    }
    Ok(entry)
}

/// Removes entry `id` at the end of its window, if the block's date has reached it (the
/// automatic transition, also open to anyone as `ExpireEntry`).
pub fn expire(state: &mut Overlay<'_>, ctx: &BlockContext, id: &str) -> Result<(), ExecError> {
    let entry = ENTRIES.load(state, id)?;
    let today = Date::of_ms(ctx.time_ms);
    match entry.auto_remove_on {
        Some(on) if today >= on => {
            let by = entry.listing_authority.clone();
            let basis = format!("window ended on {on} (automatic)");
            move_entry(state, ctx, entry, ListStatus::RemovedExpired, &by, &basis).map(|_| ())
        }
        other => Err(ExecError::new(
            ResultCode::InvalidTransition,
            match other {
                Some(on) => format!("list entry {id} stays listed until {on}; today is {today}"),
                None => format!("list entry {id} has no end date; only its authority removes it"),
            },
        )),
    }
}

/// Why the party's red-list entries are suspended on `today` (an active SERIOUS dishonesty
/// record or black-list entry), if they are. `ignore` leaves out one list entry.
fn red_suspension_cause(
    state: &Overlay<'_>,
    party: &Uscc,
    today: Date,
    ignore: Option<&str>,
) -> Option<String> {
    let serious = records_of(state, party).into_iter().find(|id| {
        RECORDS
            .find(state, id)
            .ok()
            .flatten()
            .is_some_and(|r| r.severity == Severity::Serious && r.is_active(today))
    });
    if let Some(id) = serious {
        return Some(format!(
            "suspended while SERIOUS dishonesty record {id} is active"
        ));
    }
    BY_PARTY
        .ids(state, party)
        .into_iter()
        .filter(|id| Some(id.as_str()) != ignore)
        .find_map(|id| {
            let e = ENTRIES.find(state, &id).ok().flatten()?;
            (e.list_type.is_black() && e.is_active(today)).then(|| {
                format!(
                    "suspended while black-list entry {id} ({}) is active",
                    crate::rules::spelled(&e.list_type)
                )
            })
        })
}

/// Suspends the party's red-list entries while it has an active SERIOUS record or black-list
/// entry, and restores them when it has none (domain.md F; R6).
pub fn refresh_red(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    party: &Uscc,
    by: &Uscc,
) -> Result<(), ExecError> {
    let today = Date::of_ms(ctx.time_ms);
    let cause = red_suspension_cause(state, party, today, None);
    for id in BY_PARTY.ids(state, party) {
        let Some(e) = ENTRIES.find(state, &id)? else {
            continue;
        };
        if !e.list_type.is_red() {
            continue;
        }
        match (&cause, e.status) {
            (Some(why), ListStatus::Listed) => {
                move_entry(state, ctx, e, ListStatus::Suspended, by, why)?;
            }
            (None, ListStatus::Suspended) => {
                move_entry(
                    state,
                    ctx,
                    e,
                    ListStatus::Listed,
                    by,
                    "no active SERIOUS record or black-list entry",
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}
