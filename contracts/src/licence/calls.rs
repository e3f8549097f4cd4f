//! The licence calls: who may make each, their stateless checks, and their execution.

use super::*;
use concordat_primitives::Hash;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::commitment::{self, CommitmentKind, CommitmentStatus};
use crate::context::BlockContext;
use crate::credit::{self, DishonestyCategory, NewRecord};
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{parse_uscc, validate_code, validate_id, validate_text, Uscc, MAX_REF_BYTES};
use crate::party::{self, Party};
use crate::policy;
use crate::record::Change;
use crate::roles::Role;
use crate::state::{keys, Overlay};
use crate::time::Date;

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
                parse_uscc(issuer)?;
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

pub(crate) fn require_issuer(actor: &Actor, l: &Licence) -> Result<(), ExecError> {
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

pub(crate) fn check_validity(ctx: &BlockContext, v: &Validity) -> Result<(), ExecError> {
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
pub(crate) fn next_status_index(state: &mut Overlay<'_>, id: &str) -> u64 {
    let n: u64 = state.get(keys::LICENCE_NEXT_STATUS_INDEX).unwrap_or(0);
    state.put(keys::LICENCE_NEXT_STATUS_INDEX.to_vec(), &(n + 1));
    state.put(keys::licence_at_status_index(n), &id.to_string());
    n
}

pub(crate) fn index_for_holder(
    state: &mut Overlay<'_>,
    holder: &Uscc,
    id: &str,
) -> Result<(), ExecError> {
    BY_HOLDER.add(state, holder, id)
}

pub(crate) fn require_new_id(state: &Overlay<'_>, id: &str) -> Result<(), ExecError> {
    LICENCES.require_new(state, id)
}

pub(crate) fn apply(
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
    let holder: Party = party::require_existing(state, actor.uscc())?;
    let issuer = parse_uscc(issuer)?;
    let dept = crate::governance::department_profile(state, issuer.as_str());
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
        last_change: LastChange {
            by: holder.uscc.clone(),
            height: ctx.height,
            at_ms: ctx.time_ms,
            basis: "application".into(),
        },
        history: vec![Change::now(
            ctx,
            LicenceStatus::Applied,
            &holder.uscc,
            "application",
        )],
    };
    index_for_holder(state, &holder.uscc, licence_id)?;
    state.put(keys::licence(licence_id), &l);
    Ok(())
}

#[allow(clippy::too_many_arguments)] // the fields of `LicenceCall::Issue`
pub(crate) fn issue(
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

pub(crate) fn record_check(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    mut l: Licence,
    conforms: bool,
    inspection_ref: &str,
) -> Result<(), ExecError> {
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
    commitment::set_status(state, ctx, actor.uscc(), c, to, inspection_ref)?;
    l.verification = if conforms {
        Verification::Verified
    } else {
        Verification::NonConforming
    };
    l.verification_ref = Some(inspection_ref.to_string());
    l.last_change = LastChange {
        by: actor.uscc().clone(),
        height: ctx.height,
        at_ms: ctx.time_ms,
        basis: inspection_ref.to_string(),
    };
    state.put(keys::licence(&l.licence_id), &l);
    Ok(())
}

#[allow(clippy::too_many_arguments)] // the fields of `LicenceCall::Renew`
pub(crate) fn renew(
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
    check_validity(ctx, validity)?;
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
    let basis = format!("new version of {}", old.licence_id);
    new.history = vec![Change::now(ctx, LicenceStatus::Valid, actor.uscc(), &basis)];
    new.last_change = LastChange {
        by: actor.uscc().clone(),
        height: ctx.height,
        at_ms: ctx.time_ms,
        basis,
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
                        obligations: Vec::new(),
                        penalty: None,
                    },
                )?;
            }
            crate::rules::r4_false_commitment::annul(state, ctx, &by, l, &d)
        }
        Suspend { licence_id, basis } => {
            let l = load(state, licence_id)?;
            if !actor.has_role(Role::EnforcementAuthority) {
                require_issuer(actor, &l)?;
            }
            transition(state, ctx, &by, l, LicenceStatus::Suspended, basis).map(|_| ())
        }
        LiftSuspension { licence_id, basis } => {
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
            let l = load(state, licence_id)?;
            transition(state, ctx, &by, l, LicenceStatus::Revoked, basis).map(|_| ())
        }
        Cancel { licence_id, basis } => {
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
            l.last_change = LastChange {
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
