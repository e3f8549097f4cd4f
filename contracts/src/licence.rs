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

use concordat_primitives::Hash;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::commitment::{self, CommitmentKind, CommitmentStatus};
use crate::context::BlockContext;
use crate::credit::{self, DishonestyCategory, NewRecord};
use crate::error::{invalid, ExecError, ResultCode};
use crate::governance::Department;
use crate::ids::{validate_code, validate_id, validate_text, Uscc, MAX_REF_BYTES};
use crate::kinds::{json_of, Id, KindSpec};
use crate::party::{self, Party};
use crate::policy;
use crate::record::{OwnerIndex, Table};
use crate::roles::Role;
use crate::state::{keys, Overlay};
use crate::time::Date;

/// Longest licence id (GB/T 36904 identifiers are opaque strings).
pub const MAX_LICENCE_ID_BYTES: usize = 64;
/// Longest scope text (bytes).
pub const MAX_SCOPE_BYTES: usize = 1000;
/// Most sites one licence covers.
pub const MAX_LICENCE_SITES: usize = 64;
/// Most licences indexed per holder.
pub const MAX_LICENCES_PER_HOLDER: usize = 4096;

/// How the licence was approved.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalMode {
    /// Full review.
    Standard,
    /// 告知承诺: granted on a commitment, checked afterwards.
    NotificationCommitment,
    /// 备案: filing.
    Filing,
}

/// Licence status. The numbered ones carry the e-licence status codes.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LicenceStatus {
    /// Applied for.
    Applied,
    /// Refused (terminal).
    Refused,
    /// 01 valid.
    Valid,
    /// 02 suspended (暂扣).
    Suspended,
    /// 03 annulled (撤销, terminal).
    Annulled,
    /// 04 cancelled (注销, terminal).
    Cancelled,
    /// 05 expired (terminal).
    Expired,
    /// 06 transferred out (terminal here).
    TransferredOut,
    /// 07 revoked (吊销, terminal).
    Revoked,
    /// 99 other: replaced by a new version (terminal).
    Superseded,
}

impl LicenceStatus {
    /// Every status.
    pub const ALL: [LicenceStatus; 10] = [
        LicenceStatus::Applied,
        LicenceStatus::Refused,
        LicenceStatus::Valid,
        LicenceStatus::Suspended,
        LicenceStatus::Annulled,
        LicenceStatus::Cancelled,
        LicenceStatus::Expired,
        LicenceStatus::TransferredOut,
        LicenceStatus::Revoked,
        LicenceStatus::Superseded,
    ];

    /// The e-licence status code (`None` before issue).
    pub fn code(self) -> Option<&'static str> {
        Some(match self {
            LicenceStatus::Applied | LicenceStatus::Refused => return None,
            LicenceStatus::Valid => "01",
            LicenceStatus::Suspended => "02",
            LicenceStatus::Annulled => "03",
            LicenceStatus::Cancelled => "04",
            LicenceStatus::Expired => "05",
            LicenceStatus::TransferredOut => "06",
            LicenceStatus::Revoked => "07",
            LicenceStatus::Superseded => "99",
        })
    }
}

/// The transition table: true iff some call may move a licence from `from` to `to`.
pub fn allowed(from: LicenceStatus, to: LicenceStatus) -> bool {
    use LicenceStatus::*;
    matches!(
        (from, to),
        (Applied, Refused | Valid)
            | (Valid, Annulled | Suspended | Revoked | Cancelled | Expired)
            | (Valid, TransferredOut | Superseded)
            | (Suspended, Valid | Revoked | Cancelled)
    )
}

/// The follow-up check of a notification-commitment licence.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verification {
    /// Not a notification-commitment licence.
    NotRequired,
    /// Due by `verification_due`.
    Pending,
    /// The check found the facts match the commitment.
    Verified,
    /// The check found they do not: the commitment is breached; annulment follows.
    NonConforming,
    /// Still unchecked after `verification_due` (flagged for supervision; a check may still
    /// be recorded).
    Overdue,
}

/// The last status change of a licence (earlier ones are in the transaction log and in the
/// state at earlier heights).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Who.
    pub by: Uscc,
    /// Block height.
    pub height: u64,
    /// Block time (ms).
    pub at_ms: u64,
    /// Basis (decision document or reason).
    pub basis: String,
}

/// A licence record.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Licence {
    /// E-licence identifier (GB/T 36904).
    pub licence_id: String,
    /// Licence type code.
    pub type_code: String,
    /// The issuer's licence number, once issued.
    pub licence_no: Option<String>,
    /// Holder.
    pub holder: Uscc,
    /// Issuing authority.
    pub issuer: Uscc,
    /// The mode the holder asked for.
    pub requested_mode: ApprovalMode,
    /// The mode in force (R3 may route NC to STANDARD).
    pub approval_mode: ApprovalMode,
    /// Why the mode differs from the request.
    pub routed_reason: Option<String>,
    /// The commitment of an NC licence.
    pub commitment_id: Option<String>,
    /// Scope text.
    pub scope: String,
    /// Sites of the holder the licence covers (一照多址).
    pub site_ids: Vec<String>,
    /// Block time of the application (ms).
    pub applied_at_ms: u64,
    /// Issue date.
    pub issued_on: Option<Date>,
    /// First valid day.
    pub valid_from: Option<Date>,
    /// Last valid day.
    pub valid_until: Option<Date>,
    /// Status.
    pub status: LicenceStatus,
    /// Follow-up check state.
    pub verification: Verification,
    /// The NC check is due by this date.
    pub verification_due: Option<Date>,
    /// Reference of the check that settled it.
    pub verification_ref: Option<String>,
    /// The version this one replaces.
    pub supersedes: Option<String>,
    /// The version that replaced this one.
    pub superseded_by: Option<String>,
    /// Index in the revocation and suspension status lists (assigned at issue).
    pub status_index: Option<u64>,
    /// SM3/SHA-256 hash of the licence file (OFD).
    pub file_hash: Option<Hash>,
    /// Seal signature on the licence file.
    pub seal_signature_id: Option<String>,
    /// Policy version used at application.
    pub policy_version: u64,
    /// The last change.
    pub last_change: Change,
}

impl Licence {
    /// The e-licence status code, when issued.
    pub fn status_code(&self) -> Option<&'static str> {
        self.status.code()
    }
}

/// The dates of an issue or renewal.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Validity {
    /// Issue date (the decision's date; not after the block date).
    pub issued_on: Date,
    /// First valid day.
    pub valid_from: Date,
    /// Last valid day (not before `valid_from`, not before the block date).
    pub valid_until: Date,
}

/// Licence calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum LicenceCall {
    /// Apply (ENTERPRISE, for itself).
    Apply {
        /// New licence id.
        licence_id: String,
        /// Licence type code.
        type_code: String,
        /// The issuing authority asked.
        issuer: String,
        /// Requested mode.
        approval_mode: ApprovalMode,
        /// NC: the ACTIVE notification commitment.
        commitment_id: Option<String>,
        /// Scope.
        scope: String,
        /// Sites covered (the holder's site ids).
        site_ids: Vec<String>,
    },
    /// Refuse an application (issuer).
    Refuse {
        /// Licence id.
        licence_id: String,
        /// Reason.
        reason: String,
    },
    /// Issue (issuer).
    Issue {
        /// Licence id.
        licence_id: String,
        /// Licence number.
        licence_no: String,
        /// Dates.
        validity: Validity,
        /// Licence file hash.
        file_hash: Option<Hash>,
        /// Seal signature on the file.
        seal_signature_id: Option<String>,
    },
    /// Record the NC follow-up check (issuer or INSPECTOR).
    RecordCheck {
        /// Licence id.
        licence_id: String,
        /// Whether the facts match the commitment.
        conforms: bool,
        /// Inspection reference.
        inspection_ref: String,
    },
    /// 撤销: annul (issuer). With a commitment: R4.
    Annul {
        /// Licence id.
        licence_id: String,
        /// Decision document number.
        basis_doc_no: String,
        /// Decision document date.
        basis_doc_date: Date,
        /// Obtained by deception or false materials.
        fraud: bool,
    },
    /// 暂扣: suspend (issuer or ENFORCEMENT_AUTHORITY).
    Suspend {
        /// Licence id.
        licence_id: String,
        /// Penalty decision.
        basis: String,
    },
    /// 暂扣发还: lift a suspension (issuer).
    LiftSuspension {
        /// Licence id.
        licence_id: String,
        /// Basis.
        basis: String,
    },
    /// 吊销: revoke (ENFORCEMENT_AUTHORITY).
    Revoke {
        /// Licence id.
        licence_id: String,
        /// Penalty decision.
        basis: String,
    },
    /// 注销: cancel (issuer).
    Cancel {
        /// Licence id.
        licence_id: String,
        /// Basis (holder request, law...).
        basis: String,
    },
    /// Mark expired once the block date is after `valid_until` (any signer).
    Expire {
        /// Licence id.
        licence_id: String,
    },
    /// Cross-province transfer (issuer).
    TransferOut {
        /// Licence id.
        licence_id: String,
        /// Destination GB/T 2260 region.
        to_region: String,
    },
    /// Flag an NC licence whose follow-up check is past due (any signer).
    FlagOverdueCheck {
        /// Licence id.
        licence_id: String,
    },
    /// A new version (issuer): change or renewal.
    Renew {
        /// The licence being replaced.
        licence_id: String,
        /// The new version's id.
        new_licence_id: String,
        /// The new licence number.
        licence_no: String,
        /// Dates of the new version.
        validity: Validity,
        /// New scope (`None` keeps the old one).
        scope: Option<String>,
    },
}

impl LicenceCall {
    /// The roles that may make this call (the issuer check comes after).
    pub fn allowed_roles(&self) -> &'static [Role] {
        use LicenceCall::*;
        match self {
            Apply { .. } => &[Role::Enterprise],
            Refuse { .. }
            | Issue { .. }
            | Annul { .. }
            | LiftSuspension { .. }
            | Cancel { .. }
            | TransferOut { .. }
            | Renew { .. } => &[Role::LicensingAuthority],
            RecordCheck { .. } => &[Role::LicensingAuthority, Role::Inspector],
            Suspend { .. } => &[Role::LicensingAuthority, Role::EnforcementAuthority],
            Revoke { .. } => &[Role::EnforcementAuthority],
            Expire { .. } | FlagOverdueCheck { .. } => &Role::ALL,
        }
    }

    /// The checks that need no state (identifiers, codes, text limits): run at admission, by
    /// the executor before the call, and by the client before signing.
    pub fn precheck(&self) -> Result<(), ExecError> {
        use LicenceCall::*;
        let id = |v: &str| validate_id("licence_id", v, MAX_LICENCE_ID_BYTES);
        match self {
            Apply {
                licence_id,
                type_code,
                issuer,
                commitment_id,
                scope,
                site_ids,
                ..
            } => {
                id(licence_id)?;
                validate_code("type_code", type_code)?;
                text("scope", scope, MAX_SCOPE_BYTES)?;
                Uscc::parse(issuer)
                    .map_err(|e| ExecError::new(ResultCode::BadIdentifier, e.to_string()))?;
                if let Some(c) = commitment_id {
                    validate_id(
                        "commitment_id",
                        c,
                        crate::commitment::MAX_COMMITMENT_ID_BYTES,
                    )?;
                }
                if site_ids.len() > MAX_LICENCE_SITES {
                    return Err(invalid(format!(
                        "{} sites, over the limit of {MAX_LICENCE_SITES}",
                        site_ids.len()
                    )));
                }
                Ok(())
            }
            Refuse { licence_id, reason } => {
                id(licence_id)?;
                text("reason", reason, MAX_REF_BYTES)
            }
            Issue {
                licence_id,
                licence_no,
                seal_signature_id,
                ..
            } => {
                id(licence_id)?;
                text("licence_no", licence_no, MAX_REF_BYTES)?;
                if let Some(sig) = seal_signature_id {
                    validate_id("seal_signature_id", sig, crate::seal::MAX_ES_ID_BYTES)?;
                }
                Ok(())
            }
            RecordCheck {
                licence_id,
                inspection_ref,
                ..
            } => {
                id(licence_id)?;
                text("inspection_ref", inspection_ref, MAX_REF_BYTES)
            }
            Annul {
                licence_id,
                basis_doc_no,
                ..
            } => {
                id(licence_id)?;
                text("basis_doc_no", basis_doc_no, MAX_REF_BYTES)
            }
            Suspend { licence_id, basis }
            | LiftSuspension { licence_id, basis }
            | Revoke { licence_id, basis }
            | Cancel { licence_id, basis } => {
                id(licence_id)?;
                text("basis", basis, MAX_REF_BYTES)
            }
            Expire { licence_id } | FlagOverdueCheck { licence_id } => id(licence_id),
            TransferOut {
                licence_id,
                to_region,
            } => {
                id(licence_id)?;
                crate::ids::validate_region_code(to_region)
            }
            Renew {
                licence_id,
                new_licence_id,
                licence_no,
                scope,
                ..
            } => {
                id(licence_id)?;
                id(new_licence_id)?;
                text("licence_no", licence_no, MAX_REF_BYTES)?;
                match scope {
                    Some(s) => text("scope", s, MAX_SCOPE_BYTES),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Loads a licence or fails with `NotFound`.
pub fn load(state: &Overlay<'_>, id: &str) -> Result<Licence, ExecError> {
    LICENCES.load(state, id)
}

/// The licences, by licence id.
pub const LICENCES: Table<Licence> =
    Table::new("licence", "licence_id", MAX_LICENCE_ID_BYTES, keys::licence);
/// The licence ids of each holder.
pub const BY_HOLDER: OwnerIndex = OwnerIndex {
    what: "licences",
    cap: MAX_LICENCES_PER_HOLDER,
    key: keys::licences_of,
};

pub(crate) fn transition(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    mut l: Licence,
    to: LicenceStatus,
    basis: &str,
) -> Result<Licence, ExecError> {
    if !allowed(l.status, to) {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "licence {} is {:?}{}; it cannot become {to:?}",
                l.licence_id,
                l.status,
                l.status
                    .code()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            ),
        ));
    }
    l.status = to;
    l.last_change = Change {
        by: by.clone(),
        height: ctx.height,
        at_ms: ctx.time_ms,
        basis: basis.to_string(),
    };
    state.put(keys::licence(&l.licence_id), &l);
    Ok(l)
}

fn require_issuer(actor: &Actor, l: &Licence) -> Result<(), ExecError> {
    if actor.uscc() != &l.issuer {
        return Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "licence {} was issued by {}; {} may not act on it as issuer",
                l.licence_id,
                l.issuer,
                actor.uscc()
            ),
        ));
    }
    Ok(())
}

pub(crate) fn text(field: &str, v: &str, max: usize) -> Result<(), ExecError> {
    validate_text(field, v, max)
}

fn check_validity(ctx: &BlockContext, v: &Validity) -> Result<(), ExecError> {
    let today = Date::of_ms(ctx.time_ms);
    if v.issued_on > today {
        return Err(invalid(format!(
            "issued_on {} is after the block date {today}",
            v.issued_on
        )));
    }
    if v.valid_until < v.valid_from {
        return Err(invalid(format!(
            "valid_until {} is before valid_from {}",
            v.valid_until, v.valid_from
        )));
    }
    if v.valid_until < today {
        return Err(invalid(format!(
            "valid_until {} is already past (block date {today})",
            v.valid_until
        )));
    }
    Ok(())
}

/// Assigns the next status-list index to licence `id` (both lists use the same index).
fn next_status_index(state: &mut Overlay<'_>, id: &str) -> u64 {
    let n: u64 = state.get(keys::LICENCE_NEXT_STATUS_INDEX).unwrap_or(0);
    state.put(keys::LICENCE_NEXT_STATUS_INDEX.to_vec(), &(n + 1));
    state.put(keys::licence_at_status_index(n), &id.to_string());
    n
}

/// The bit a licence sets in its issuer's Bitstring Status List of `purpose`: revocation for a
/// licence that can never be valid again (03, 04, 05, 06, 07, 99), suspension for 02.
pub fn status_bit(status: LicenceStatus, revocation: bool) -> bool {
    use LicenceStatus::*;
    if revocation {
        matches!(
            status,
            Annulled | Cancelled | Expired | TransferredOut | Revoked | Superseded
        )
    } else {
        status == Suspended
    }
}

fn index_for_holder(state: &mut Overlay<'_>, holder: &Uscc, id: &str) -> Result<(), ExecError> {
    BY_HOLDER.add(state, holder, id)
}

fn require_new_id(state: &Overlay<'_>, id: &str) -> Result<(), ExecError> {
    LICENCES.require_new(state, id)
}

/// A decision document behind an annulment or a breach.
pub struct Decision<'a> {
    /// Document number.
    pub doc_no: &'a str,
    /// Document date.
    pub doc_date: Date,
    /// Fraud or false materials found.
    pub fraud: bool,
}

fn apply(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &LicenceCall,
) -> Result<(), ExecError> {
    let LicenceCall::Apply {
        licence_id,
        type_code,
        issuer,
        approval_mode,
        commitment_id,
        scope,
        site_ids,
    } = call
    else {
        return Err(invalid("not an application"));
    };
    require_new_id(state, licence_id)?;
    validate_code("type_code", type_code)?;
    text("scope", scope, MAX_SCOPE_BYTES)?;
    let holder: Party = party::require_existing(state, actor.uscc())?;
    let issuer = Uscc::parse(issuer)
        .map_err(|e| ExecError::new(ResultCode::BadIdentifier, e.to_string()))?;
    let dept: Option<Department> = state.get(&keys::department(issuer.as_str()));
    if !dept.is_some_and(|d| d.has_role(Role::LicensingAuthority)) {
        return Err(ExecError::new(
            ResultCode::NotFound,
            format!("{issuer} is not a department with the LICENSING_AUTHORITY role"),
        ));
    }
    if site_ids.len() > MAX_LICENCE_SITES {
        return Err(invalid(format!(
            "{} sites, over the limit of {MAX_LICENCE_SITES}",
            site_ids.len()
        )));
    }
    for s in site_ids {
        if !holder.sites.iter().any(|x| &x.site_id == s) {
            return Err(ExecError::new(
                ResultCode::NotFound,
                format!("{} has no site {s:?}", holder.uscc),
            ));
        }
    }
    let today = Date::of_ms(ctx.time_ms);
    if let Some(bar) = credit::active_bar(state, &holder.uscc, type_code, today) {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "{} may not apply for {type_code} before {} (re-application bar after {} annulled by {})",
                holder.uscc, bar.until, bar.licence_id, bar.basis_doc_no
            ),
        ));
    }
    let pol = policy::current(state);
    let mut mode = *approval_mode;
    let mut routed_reason = None;
    let mut commitment = None;
    if mode == ApprovalMode::NotificationCommitment {
        if let Some(reason) =
            crate::rules::r3_nc_eligibility::ineligibility(state, &holder.uscc, today)
        {
            mode = ApprovalMode::Standard;
            routed_reason = Some(format!("routed to STANDARD: {reason}"));
        } else {
            let cid = commitment_id.as_deref().ok_or_else(|| {
                invalid("a NOTIFICATION_COMMITMENT application names its commitment_id")
            })?;
            let c = commitment::load(state, cid)?;
            if c.party != holder.uscc
                || c.kind != CommitmentKind::NotificationCommitment
                || c.status != CommitmentStatus::Active
                || c.relied_on_by.is_some()
            {
                return Err(invalid(format!(
                    "commitment {cid} must be an ACTIVE NOTIFICATION_COMMITMENT of {} not yet relied on (it is {:?} {:?} of {})",
                    holder.uscc, c.status, c.kind, c.party
                )));
            }
            commitment = Some(cid.to_string());
        }
    } else if commitment_id.is_some() {
        return Err(invalid(
            "commitment_id is only for NOTIFICATION_COMMITMENT applications",
        ));
    }
    let l = Licence {
        licence_id: licence_id.clone(),
        type_code: type_code.clone(),
        licence_no: None,
        holder: holder.uscc.clone(),
        issuer,
        requested_mode: *approval_mode,
        approval_mode: mode,
        routed_reason,
        commitment_id: commitment,
        scope: scope.clone(),
        site_ids: site_ids.clone(),
        applied_at_ms: ctx.time_ms,
        issued_on: None,
        valid_from: None,
        valid_until: None,
        status: LicenceStatus::Applied,
        verification: Verification::NotRequired,
        verification_due: None,
        verification_ref: None,
        supersedes: None,
        superseded_by: None,
        status_index: None,
        file_hash: None,
        seal_signature_id: None,
        policy_version: pol.version,
        last_change: Change {
            by: holder.uscc.clone(),
            height: ctx.height,
            at_ms: ctx.time_ms,
            basis: "application".into(),
        },
    };
    index_for_holder(state, &holder.uscc, licence_id)?;
    state.put(keys::licence(licence_id), &l);
    Ok(())
}

#[allow(clippy::too_many_arguments)] // the fields of `LicenceCall::Issue`
fn issue(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    l: Licence,
    licence_no: &str,
    validity: &Validity,
    file_hash: Option<Hash>,
    seal_signature_id: &Option<String>,
) -> Result<(), ExecError> {
    require_issuer(actor, &l)?;
    text("licence_no", licence_no, MAX_REF_BYTES)?;
    check_validity(ctx, validity)?;
    if l.status != LicenceStatus::Applied {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "licence {} is {:?}; only an APPLIED licence is issued",
                l.licence_id, l.status
            ),
        ));
    }
    party::require_existing(state, &l.holder)?;
    if let Some(sig) = seal_signature_id {
        let purpose = Some(crate::seal::SignaturePurpose::LicenceIssue);
        let (s, _) = crate::seal::require_valid_signature_by(state, sig, actor.uscc(), purpose)?;
        if Some(s.doc_hash) != file_hash {
            return Err(invalid(format!(
                "seal signature {sig} is over {}; it must be over the licence file (file_hash)",
                s.doc_hash
            )));
        }
    }
    let mut l = l;
    if l.approval_mode == ApprovalMode::NotificationCommitment {
        let cid = l.commitment_id.clone().unwrap_or_default();
        let mut c = commitment::load(state, &cid)?;
        if let Some(a) = c.relying_authority.as_ref().filter(|a| *a != actor.uscc()) {
            return Err(ExecError::new(
                ResultCode::InvalidTransition,
                format!(
                    "commitment {cid} is addressed to {a}, not to the issuer {}",
                    actor.uscc()
                ),
            ));
        }
        if c.status != CommitmentStatus::Active || c.relied_on_by.is_some() {
            return Err(ExecError::new(
                ResultCode::InvalidTransition,
                format!(
                    "commitment {cid} is {:?}{}; an NC licence is issued only on an ACTIVE commitment",
                    c.status,
                    c.relied_on_by.as_deref().map(|x| format!(", relied on by {x}")).unwrap_or_default()
                ),
            ));
        }
        c.relied_on_by = Some(l.licence_id.clone());
        c.relying_authority = Some(actor.uscc().clone());
        state.put(keys::commitment(&cid), &c);
        let months = policy::current(state).params.nc_check_window_months;
        l.verification = Verification::Pending;
        l.verification_due = Some(validity.issued_on.add_months(months));
    }
    l.licence_no = Some(licence_no.to_string());
    l.issued_on = Some(validity.issued_on);
    l.valid_from = Some(validity.valid_from);
    l.valid_until = Some(validity.valid_until);
    l.file_hash = file_hash;
    l.seal_signature_id = seal_signature_id.clone();
    l.status_index = Some(next_status_index(state, &l.licence_id));
    transition(state, ctx, actor.uscc(), l, LicenceStatus::Valid, "issued").map(|_| ())
}

fn record_check(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    mut l: Licence,
    conforms: bool,
    inspection_ref: &str,
) -> Result<(), ExecError> {
    text("inspection_ref", inspection_ref, MAX_REF_BYTES)?;
    let inspector_here = actor.has_role(Role::Inspector) && actor.covers(l.holder.region());
    if !inspector_here {
        require_issuer(actor, &l)?;
    }
    let open = matches!(
        l.verification,
        Verification::Pending | Verification::Overdue
    );
    if l.status != LicenceStatus::Valid || !open {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "licence {} is {:?} with verification {:?}; only a VALID licence with a PENDING or OVERDUE check can be checked",
                l.licence_id, l.status, l.verification
            ),
        ));
    }
    let cid = l.commitment_id.clone().unwrap_or_default();
    let c = commitment::load(state, &cid)?;
    let to = if conforms {
        CommitmentStatus::Fulfilled
    } else {
        CommitmentStatus::Breached
    };
    commitment::set_status(state, ctx, c, to, inspection_ref)?;
    l.verification = if conforms {
        Verification::Verified
    } else {
        Verification::NonConforming
    };
    l.verification_ref = Some(inspection_ref.to_string());
    l.last_change = Change {
        by: actor.uscc().clone(),
        height: ctx.height,
        at_ms: ctx.time_ms,
        basis: inspection_ref.to_string(),
    };
    state.put(keys::licence(&l.licence_id), &l);
    Ok(())
}

#[allow(clippy::too_many_arguments)] // the fields of `LicenceCall::Renew`
fn renew(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    old: Licence,
    new_id: &str,
    licence_no: &str,
    validity: &Validity,
    scope: &Option<String>,
) -> Result<(), ExecError> {
    require_issuer(actor, &old)?;
    if !allowed(old.status, LicenceStatus::Superseded) {
        let by = actor.uscc();
        return transition(state, ctx, by, old, LicenceStatus::Superseded, "").map(|_| ());
    }
    require_new_id(state, new_id)?;
    text("licence_no", licence_no, MAX_REF_BYTES)?;
    check_validity(ctx, validity)?;
    if let Some(s) = scope {
        text("scope", s, MAX_SCOPE_BYTES)?;
    }
    party::require_existing(state, &old.holder)?;
    let mut new = old.clone();
    let mut old = old;
    old.superseded_by = Some(new_id.to_string());
    let old = transition(
        state,
        ctx,
        actor.uscc(),
        old,
        LicenceStatus::Superseded,
        &format!("superseded by {new_id}"),
    )?;
    new.licence_id = new_id.to_string();
    new.licence_no = Some(licence_no.to_string());
    new.issued_on = Some(validity.issued_on);
    new.valid_from = Some(validity.valid_from);
    new.valid_until = Some(validity.valid_until);
    if let Some(s) = scope {
        new.scope = s.clone();
    }
    new.supersedes = Some(old.licence_id.clone());
    new.superseded_by = None;
    new.status = LicenceStatus::Valid;
    new.status_index = Some(next_status_index(state, new_id));
    new.last_change = Change {
        by: actor.uscc().clone(),
        height: ctx.height,
        at_ms: ctx.time_ms,
        basis: format!("new version of {}", old.licence_id),
    };
    // The commitment of a pending NC licence now backs the new version.
    if let Some(cid) = &new.commitment_id {
        let mut c = commitment::load(state, cid)?;
        if c.relied_on_by.as_deref() == Some(old.licence_id.as_str()) {
            c.relied_on_by = Some(new_id.to_string());
            state.put(keys::commitment(cid), &c);
        }
    }
    index_for_holder(state, &new.holder, new_id)?;
    state.put(keys::licence(new_id), &new);
    Ok(())
}

/// Executes a licence call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &LicenceCall,
) -> Result<(), ExecError> {
    use LicenceCall::*;
    let by = actor.uscc().clone();
    match call {
        Apply { .. } => apply(state, ctx, actor, call),
        Refuse { licence_id, reason } => {
            text("reason", reason, MAX_REF_BYTES)?;
            let l = load(state, licence_id)?;
            require_issuer(actor, &l)?;
            transition(state, ctx, &by, l, LicenceStatus::Refused, reason).map(|_| ())
        }
        Issue {
            licence_id,
            licence_no,
            validity,
            file_hash,
            seal_signature_id,
        } => {
            let l = load(state, licence_id)?;
            issue(
                state,
                ctx,
                actor,
                l,
                licence_no,
                validity,
                *file_hash,
                seal_signature_id,
            )
        }
        RecordCheck {
            licence_id,
            conforms,
            inspection_ref,
        } => {
            let l = load(state, licence_id)?;
            record_check(state, ctx, actor, l, *conforms, inspection_ref)
        }
        Annul {
            licence_id,
            basis_doc_no,
            basis_doc_date,
            fraud,
        } => {
            text("basis_doc_no", basis_doc_no, MAX_REF_BYTES)?;
            let l = load(state, licence_id)?;
            require_issuer(actor, &l)?;
            if !allowed(l.status, LicenceStatus::Annulled) {
                return transition(state, ctx, &by, l, LicenceStatus::Annulled, "").map(|_| ());
            }
            let d = Decision {
                doc_no: basis_doc_no,
                doc_date: *basis_doc_date,
                fraud: *fraud,
            };
            // R4 applies when the commitment was found false (BREACHED) or fraud is found.
            if let Some(cid) = &l.commitment_id {
                let c = commitment::load(state, cid)?;
                let relied_here = c.relied_on_by.as_deref() == Some(l.licence_id.as_str());
                let found_false = c.status == CommitmentStatus::Breached
                    || (c.status == CommitmentStatus::Active && d.fraud);
                if relied_here && found_false {
                    return crate::rules::r4_false_commitment::apply(state, ctx, &by, c, d);
                }
            }
            if d.doc_date > Date::of_ms(ctx.time_ms) {
                return Err(invalid(format!(
                    "basis_doc_date {} is after the block date",
                    d.doc_date
                )));
            }
            // Fraud without a false commitment (e.g. false materials): a dishonesty record too.
            if d.fraud {
                let pol = policy::current(state);
                credit::record(
                    state,
                    ctx,
                    NewRecord {
                        record_id: format!("AN-{}", l.licence_id),
                        party: &l.holder,
                        authority: &by,
                        basis_doc_no: d.doc_no,
                        basis_doc_date: d.doc_date,
                        category: DishonestyCategory::AdminPenalty,
                        severity: pol.params.fraud_severity,
                        relates_to: Some(l.licence_id.clone()),
                        policy_version: pol.version,
                    },
                )?;
            }
            crate::rules::r4_false_commitment::annul(state, ctx, &by, l, &d)
        }
        Suspend { licence_id, basis } => {
            text("basis", basis, MAX_REF_BYTES)?;
            let l = load(state, licence_id)?;
            if !actor.has_role(Role::EnforcementAuthority) {
                require_issuer(actor, &l)?;
            }
            transition(state, ctx, &by, l, LicenceStatus::Suspended, basis).map(|_| ())
        }
        LiftSuspension { licence_id, basis } => {
            text("basis", basis, MAX_REF_BYTES)?;
            let l = load(state, licence_id)?;
            require_issuer(actor, &l)?;
            if l.status != LicenceStatus::Suspended {
                return Err(ExecError::new(
                    ResultCode::InvalidTransition,
                    format!(
                        "licence {licence_id} is {:?}; only a SUSPENDED licence has a suspension to lift",
                        l.status
                    ),
                ));
            }
            transition(state, ctx, &by, l, LicenceStatus::Valid, basis).map(|_| ())
        }
        Revoke { licence_id, basis } => {
            text("basis", basis, MAX_REF_BYTES)?;
            let l = load(state, licence_id)?;
            transition(state, ctx, &by, l, LicenceStatus::Revoked, basis).map(|_| ())
        }
        Cancel { licence_id, basis } => {
            text("basis", basis, MAX_REF_BYTES)?;
            let l = load(state, licence_id)?;
            require_issuer(actor, &l)?;
            transition(state, ctx, &by, l, LicenceStatus::Cancelled, basis).map(|_| ())
        }
        Expire { licence_id } => {
            let l = load(state, licence_id)?;
            if !allowed(l.status, LicenceStatus::Expired) {
                return transition(state, ctx, &by, l, LicenceStatus::Expired, "").map(|_| ());
            }
            let today = Date::of_ms(ctx.time_ms);
            match l.valid_until {
                Some(until) if today > until => {}
                _ => {
                    return Err(ExecError::new(
                        ResultCode::InvalidTransition,
                        format!(
                            "licence {licence_id} is valid until {}; the block date is {today}",
                            l.valid_until.map(|d| d.to_string()).unwrap_or("-".into())
                        ),
                    ))
                }
            }
            let basis = format!("valid_until passed (block date {today})");
            transition(state, ctx, &by, l, LicenceStatus::Expired, &basis).map(|_| ())
        }
        FlagOverdueCheck { licence_id } => {
            let mut l = load(state, licence_id)?;
            let today = Date::of_ms(ctx.time_ms);
            let due = l.verification_due;
            let overdue = l.status == LicenceStatus::Valid
                && l.verification == Verification::Pending
                && due.is_some_and(|d| today > d);
            if !overdue {
                return Err(ExecError::new(
                    ResultCode::InvalidTransition,
                    format!(
                        "licence {licence_id} is {:?} with verification {:?} due {}; only a VALID licence whose PENDING check is past due is flagged (block date {today})",
                        l.status,
                        l.verification,
                        due.map(|d| d.to_string()).unwrap_or("-".into())
                    ),
                ));
            }
            l.verification = Verification::Overdue;
            l.last_change = Change {
                by,
                height: ctx.height,
                at_ms: ctx.time_ms,
                basis: format!(
                    "follow-up check overdue since {}",
                    due.map(|d| d.to_string()).unwrap_or_default()
                ),
            };
            state.put(keys::licence(licence_id), &l);
            Ok(())
        }
        TransferOut {
            licence_id,
            to_region,
        } => {
            crate::ids::validate_region_code(to_region)?;
            let l = load(state, licence_id)?;
            require_issuer(actor, &l)?;
            let basis = format!("transferred out to {to_region}");
            transition(state, ctx, &by, l, LicenceStatus::TransferredOut, &basis).map(|_| ())
        }
        Renew {
            licence_id,
            new_licence_id,
            licence_no,
            validity,
            scope,
        } => {
            let l = load(state, licence_id)?;
            renew(
                state,
                ctx,
                actor,
                l,
                new_licence_id,
                licence_no,
                validity,
                scope,
            )
        }
    }
}

/// R2 cascade for a holder that became REVOKED_LICENCE (吊销) or DEREGISTERED: its live
/// licences are cancelled (04; the holder can no longer hold them, Administrative Licensing
/// Law Art. 70), open applications are refused. A licence penalised in its own right is revoked
/// (07) by its own `Revoke` decision, not by the cascade.
pub fn cascade_holder(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    holder: &Uscc,
    basis: &str,
) -> Result<(), ExecError> {
    let ids: Vec<String> = state
        .get(&keys::licences_of(holder.as_str()))
        .unwrap_or_default();
    for id in ids {
        let l = load(state, &id)?;
        let to = match l.status {
            LicenceStatus::Applied => LicenceStatus::Refused,
            LicenceStatus::Valid | LicenceStatus::Suspended => LicenceStatus::Cancelled,
            _ => continue,
        };
        transition(state, ctx, by, l, to, &format!("R2: holder {basis}"))?;
    }
    Ok(())
}

/// The smallest Bitstring Status List: 131,072 bits (W3C Bitstring Status List §3.2).
pub const MIN_STATUS_LIST_BITS: u64 = 131_072;

/// The uncompressed bitstring of `issuer`'s status list of one purpose, derived from the state:
/// bit `n` (the most significant bit of byte `n / 8` first) is set when the licence holding
/// index `n` is `issuer`'s and [`status_bit`] says so. At least [`MIN_STATUS_LIST_BITS`] long.
pub fn status_list(view: &dyn crate::state::StateView, issuer: &Uscc, revocation: bool) -> Vec<u8> {
    let state = Overlay::new(view);
    let next: u64 = state.get(keys::LICENCE_NEXT_STATUS_INDEX).unwrap_or(0);
    let bits = next.max(MIN_STATUS_LIST_BITS).div_ceil(8) * 8;
    let mut list = vec![0u8; (bits / 8) as usize];
    for n in 0..next {
        let Some(id) = state.get::<String>(&keys::licence_at_status_index(n)) else {
            continue;
        };
        let Some(l) = state.get::<Licence>(&keys::licence(&id)) else {
            continue;
        };
        if &l.issuer == issuer && status_bit(l.status, revocation) {
            list[(n / 8) as usize] |= 0x80 >> (n % 8);
        }
    }
    list
}

/// A licence as shown: the record plus its e-licence status code.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct LicenceView {
    /// The record.
    #[serde(flatten)]
    pub licence: Licence,
    /// 01..07 or 99; `null` before issue.
    pub status_code: Option<&'static str>,
}

fn licence_json(bytes: &[u8]) -> Result<serde_json::Value, String> {
    let licence: Licence =
        concordat_primitives::encoding::from_bytes(bytes).map_err(|e| e.to_string())?;
    let status_code = licence.status_code();
    serde_json::to_value(LicenceView {
        licence,
        status_code,
    })
    .map_err(|e| e.to_string())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "licence",
        "licence",
        "a licence id",
        "L-E1-FOOD-1",
        Id::Record(keys::licence),
        licence_json,
    )
    .with_status("status"),
    KindSpec::new(
        "party_licences",
        "a party's licences",
        "a USCC",
        "91110105MA01R7K442",
        Id::Uscc(keys::licences_of),
        json_of::<Vec<String>>,
    ),
];
