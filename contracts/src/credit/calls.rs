//! The credit module's calls: dishonesty records (record, obligations, repair, objections,
//! withdrawal, expiry) and list entries (listing, removal requests and decisions, annulment,
//! expiry). Who may make each call and the guards are in the tables of
//! [`super::dishonesty`] and [`super::lists`].

use serde::{Deserialize, Serialize};

use super::dishonesty::{
    self, move_record, DishonestyCategory, DishonestyRecord, DishonestyStatus, NewRecord,
    Objection, Penalty, PenaltyKind, RepairRequest, Severity, MAX_OBLIGATIONS, MAX_RECORD_ID_BYTES,
    RECORDS,
};
use super::evaluation::{
    self, CreditEvaluation, EvaluationStatus, Scheme, EVALUATIONS, MAX_EVALUATION_ID_BYTES,
};
use super::lists::{
    self, move_entry, ListEntry, ListStatus, ListType, RemovalRequest, ENTRIES, MAX_BASIS_REFS,
    MAX_ENTRY_ID_BYTES,
};
use super::restrictions::RestrictionCode;
use crate::actor::Actor;
use crate::commitment::{self, CommitmentKind, CommitmentStatus};
use crate::context::BlockContext;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{parse_uscc, validate_code, validate_id, validate_text, Uscc, MAX_REF_BYTES};
use crate::policy;
use crate::roles::Role;
use crate::state::{keys, Overlay};
use crate::time::Date;

/// Credit calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum CreditCall {
    /// Record a dishonesty record (ENFORCEMENT_AUTHORITY; a false commitment's record comes
    /// from R4 instead).
    RecordDishonesty {
        /// New record id.
        record_id: String,
        /// The party (a registered USCC).
        party: String,
        /// Basis document number.
        basis_doc_no: String,
        /// Basis document date (publicity runs from it; not after the block date).
        basis_doc_date: Date,
        /// Category.
        category: DishonestyCategory,
        /// Severity (sets the publicity windows).
        severity: Severity,
        /// Obligation codes the party must fulfil before repair (at most 16).
        obligations: Vec<String>,
        /// What it concerns.
        relates_to: Option<String>,
        /// The penalty decided, if any (a fine with its amount).
        penalty: Option<Penalty>,
    },
    /// Record an obligation as fulfilled (the recording authority).
    FulfilObligation {
        /// Record id.
        record_id: String,
        /// Index in `obligations`.
        index: u32,
        /// Evidence (document number).
        evidence: String,
    },
    /// Ask for repair (the party).
    RequestRepair {
        /// Record id.
        record_id: String,
        /// The party's ACTIVE REPAIR_COMMITMENT.
        commitment_id: String,
    },
    /// Approve or reject a repair request (CREDIT_PLATFORM).
    DecideRepair {
        /// Record id.
        record_id: String,
        /// Approve.
        approve: bool,
        /// The reason.
        reason: String,
    },
    /// Object to a record (the party; R16).
    Object {
        /// Record id.
        record_id: String,
        /// Grounds.
        reason: String,
    },
    /// Decide an objection (the recording authority): upheld withdraws the record.
    DecideObjection {
        /// Record id.
        record_id: String,
        /// Uphold.
        uphold: bool,
        /// The decision.
        decision: String,
    },
    /// Withdraw a record (the recording authority: its basis annulled by review or court).
    Withdraw {
        /// Record id.
        record_id: String,
        /// Basis.
        basis: String,
    },
    /// End a record's publicity once its maximum window has passed (anyone; also automatic).
    ExpireRecord {
        /// Record id.
        record_id: String,
    },
    /// Put a party on a list (the list's authority; COURT_FEED for the court list).
    List {
        /// New entry id.
        entry_id: String,
        /// The list.
        list_type: ListType,
        /// The party (a registered USCC).
        party: String,
        /// Decision documents (1 to 16).
        basis_refs: Vec<String>,
        /// Listing date (not after the block date).
        listed_on: Date,
        /// The restrictions; absent: the list's defaults (policy).
        restrictions: Option<Vec<RestrictionCode>>,
        /// Automatic removal date; absent: the list's default (SAMR serious list: 3 years
        /// [M]; none for the others). A procurement ban must have one, 1 to 3 years after the
        /// listing (Government Procurement Law Art. 77).
        until: Option<Date>,
    },
    /// Ask for early removal (the party).
    RequestRemoval {
        /// Entry id.
        entry_id: String,
        /// Grounds.
        reason: String,
    },
    /// Approve or reject a removal request (the listing authority).
    DecideRemoval {
        /// Entry id.
        entry_id: String,
        /// Approve.
        approve: bool,
        /// The decision.
        decision: String,
    },
    /// Annul an entry (the listing authority).
    Annul {
        /// Entry id.
        entry_id: String,
        /// Basis.
        basis: String,
    },
    /// Remove an entry at the end of its window (anyone; also automatic).
    ExpireEntry {
        /// Entry id.
        entry_id: String,
    },
    /// Record a provisional evaluation (the scheme's owner).
    Evaluate {
        /// New evaluation id.
        evaluation_id: String,
        /// The party (a registered USCC).
        party: String,
        /// Scheme.
        scheme: Scheme,
        /// Grade, one of the scheme's.
        grade: String,
        /// Score, where the scheme has one.
        score: Option<u32>,
        /// Period (`2025`, `2026-05`…; later periods sort later).
        period: String,
        /// Basis documents (at most 16).
        basis_refs: Vec<String>,
    },
    /// Publish an evaluation (its evaluator); the party's previous one of the scheme is
    /// superseded.
    PublishEvaluation {
        /// Evaluation id.
        evaluation_id: String,
    },
    /// Object to a published evaluation (the party; R16).
    ObjectEvaluation {
        /// Evaluation id.
        evaluation_id: String,
        /// Grounds.
        reason: String,
    },
    /// Decide an objection to an evaluation (its evaluator): upheld, the grade is corrected.
    DecideEvaluationObjection {
        /// Evaluation id.
        evaluation_id: String,
        /// Uphold.
        uphold: bool,
        /// The corrected grade (required when upheld).
        corrected_grade: Option<String>,
        /// The decision.
        decision: String,
    },
}

/// The authorities whose records these are: enforcement records them, and a licensing
/// authority's R4 records are its own to follow up (domain.md roles).
const FOLLOW_UP: &[Role] = &[Role::EnforcementAuthority, Role::LicensingAuthority];

/// The owners of evaluation schemes.
const EVALUATING: &[Role] = &[
    Role::TaxAuthority,
    Role::EnforcementAuthority,
    Role::Customs,
    Role::CreditPlatform,
];

/// The authorities that keep lists.
const LISTING: &[Role] = &[
    Role::EnforcementAuthority,
    Role::ProcurementRegulator,
    Role::TaxAuthority,
    Role::CourtFeed,
    Role::IprAuthority,
    Role::Customs,
];

impl CreditCall {
    /// The roles that may make the call (the rest of who-may is checked on the record).
    pub fn allowed_roles(&self) -> &'static [Role] {
        use CreditCall::*;
        match self {
            RecordDishonesty { .. } => &[Role::EnforcementAuthority],
            FulfilObligation { .. } | DecideObjection { .. } | Withdraw { .. } => FOLLOW_UP,
            RequestRepair { .. } | Object { .. } | RequestRemoval { .. } => &[Role::Enterprise],
            DecideRepair { .. } => &[Role::CreditPlatform],
            List { .. } | DecideRemoval { .. } | Annul { .. } => LISTING,
            ExpireRecord { .. } | ExpireEntry { .. } => &Role::ALL,
            Evaluate { .. } | PublishEvaluation { .. } | DecideEvaluationObjection { .. } => {
                EVALUATING
            }
            ObjectEvaluation { .. } => &[Role::Enterprise],
        }
    }

    /// The checks that need no state: run at admission, by the executor before the call, and
    /// by the client before signing.
    pub fn precheck(&self) -> Result<(), ExecError> {
        use CreditCall::*;
        let rid = |v: &str| validate_id("record_id", v, MAX_RECORD_ID_BYTES);
        let eid = |v: &str| validate_id("entry_id", v, MAX_ENTRY_ID_BYTES);
        let text = |field: &str, v: &str| validate_text(field, v, MAX_REF_BYTES);
        match self {
            RecordDishonesty {
                record_id,
                party,
                basis_doc_no,
                obligations,
                relates_to,
                penalty,
                ..
            } => {
                rid(record_id)?;
                if let Some(p) = penalty {
                    if (p.kind == PenaltyKind::Fine) != p.amount_cny.is_some() {
                        return Err(invalid("a fine, and only a fine, has amount_cny"));
                    }
                }
                parse_uscc(party)?;
                text("basis_doc_no", basis_doc_no)?;
                if obligations.len() > MAX_OBLIGATIONS {
                    return Err(invalid(format!(
                        "{} obligations, over the limit of {MAX_OBLIGATIONS}",
                        obligations.len()
                    )));
                }
                for o in obligations {
                    validate_code("obligations", o)?;
                }
                if let Some(r) = relates_to {
                    text("relates_to", r)?;
                }
                Ok(())
            }
            FulfilObligation {
                record_id,
                evidence,
                ..
            } => {
                rid(record_id)?;
                text("evidence", evidence)
            }
            RequestRepair {
                record_id,
                commitment_id,
            } => {
                rid(record_id)?;
                validate_id("commitment_id", commitment_id, 64)
            }
            DecideRepair {
                record_id, reason, ..
            } => {
                rid(record_id)?;
                text("reason", reason)
            }
            Object { record_id, reason } => {
                rid(record_id)?;
                grounds(reason)
            }
            DecideObjection {
                record_id,
                decision,
                ..
            } => {
                rid(record_id)?;
                text("decision", decision)
            }
            Withdraw { record_id, basis } => {
                rid(record_id)?;
                text("basis", basis)
            }
            ExpireRecord { record_id } => rid(record_id),
            List {
                entry_id,
                party,
                basis_refs,
                listed_on,
                restrictions,
                until,
                list_type,
            } => {
                eid(entry_id)?;
                parse_uscc(party)?;
                if basis_refs.is_empty() || basis_refs.len() > MAX_BASIS_REFS {
                    return Err(invalid(format!(
                        "a listing names 1 to {MAX_BASIS_REFS} basis documents"
                    )));
                }
                for r in basis_refs {
                    text("basis_refs", r)?;
                }
                if let Some(r) = restrictions {
                    if r.len() > RestrictionCode::ALL.len() {
                        return Err(invalid("restrictions repeat a code"));
                    }
                }
                if let Some(u) = until {
                    if u <= listed_on {
                        return Err(invalid(format!(
                            "until {u} is not after listed_on {listed_on}"
                        )));
                    }
                }
                if *list_type == ListType::GovProcSerious {
                    let Some(u) = until else {
                        return Err(invalid(
                            "a procurement ban has an end date (Government Procurement Law Art. 77: 1 to 3 years)",
                        ));
                    };
                    if *u < listed_on.add_months(12) || *u > listed_on.add_months(36) {
                        return Err(invalid(format!(
                            "a procurement ban ends 1 to 3 years after the listing ({} to {}), not on {u}",
                            listed_on.add_months(12),
                            listed_on.add_months(36)
                        )));
                    }
                }
                Ok(())
            }
            RequestRemoval { entry_id, reason } => {
                eid(entry_id)?;
                text("reason", reason)
            }
            DecideRemoval {
                entry_id, decision, ..
            } => {
                eid(entry_id)?;
                text("decision", decision)
            }
            Annul { entry_id, basis } => {
                eid(entry_id)?;
                text("basis", basis)
            }
            ExpireEntry { entry_id } => eid(entry_id),
            Evaluate {
                evaluation_id,
                party,
                scheme,
                grade,
                period,
                basis_refs,
                ..
            } => {
                validate_id("evaluation_id", evaluation_id, MAX_EVALUATION_ID_BYTES)?;
                parse_uscc(party)?;
                scheme.check_grade(grade)?;
                validate_code("period", period)?;
                if basis_refs.len() > MAX_BASIS_REFS {
                    return Err(invalid(format!("at most {MAX_BASIS_REFS} basis documents")));
                }
                for r in basis_refs {
                    text("basis_refs", r)?;
                }
                Ok(())
            }
            PublishEvaluation { evaluation_id } => {
                validate_id("evaluation_id", evaluation_id, MAX_EVALUATION_ID_BYTES)
            }
            ObjectEvaluation {
                evaluation_id,
                reason,
            } => {
                validate_id("evaluation_id", evaluation_id, MAX_EVALUATION_ID_BYTES)?;
                grounds(reason)
            }
            DecideEvaluationObjection {
                evaluation_id,
                uphold,
                corrected_grade,
                decision,
            } => {
                validate_id("evaluation_id", evaluation_id, MAX_EVALUATION_ID_BYTES)?;
                text("decision", decision)?;
                match (uphold, corrected_grade) {
                    (true, Some(g)) => validate_code("corrected_grade", g),
                    (true, None) => Err(invalid("an upheld objection names the corrected grade")),
                    (false, Some(_)) => Err(invalid("a rejected objection corrects no grade")),
                    (false, None) => Ok(()),
                }
            }
        }
    }
}

/// An objection's grounds: stated, within the reference limit.
fn grounds(reason: &str) -> Result<(), ExecError> {
    validate_text("reason", reason, MAX_REF_BYTES)?;
    if reason.trim().is_empty() {
        return Err(invalid("an objection states its grounds"));
    }
    Ok(())
}

fn refused(code: ResultCode, msg: String) -> ExecError {
    ExecError::new(code, msg)
}

fn require_authority(actor: &Actor, rec: &DishonestyRecord) -> Result<(), ExecError> {
    if actor.uscc() != &rec.authority {
        return Err(refused(
            ResultCode::Unauthorised,
            format!(
                "dishonesty record {} was recorded by {}; only it may do this",
                rec.record_id, rec.authority
            ),
        ));
    }
    Ok(())
}

fn require_party(actor: &Actor, party: &Uscc, what: &str) -> Result<(), ExecError> {
    if actor.uscc() != party {
        return Err(refused(
            ResultCode::Unauthorised,
            format!("{what} concerns {party}; only that party may do this"),
        ));
    }
    Ok(())
}

fn require_lister(actor: &Actor, e: &ListEntry) -> Result<(), ExecError> {
    let court_feed =
        e.list_type == ListType::CourtDishonestDebtor && actor.has_role(Role::CourtFeed);
    if actor.uscc() != &e.listing_authority && !court_feed {
        return Err(refused(
            ResultCode::Unauthorised,
            format!(
                "list entry {} was listed by {}; only it may decide on it",
                e.entry_id, e.listing_authority
            ),
        ));
    }
    Ok(())
}

fn registered(state: &Overlay<'_>, uscc: &str) -> Result<Uscc, ExecError> {
    let uscc = parse_uscc(uscc)?;
    if state.get_raw(&keys::party(uscc.as_str())).is_none() {
        return Err(refused(
            ResultCode::NotFound,
            format!("party {uscc} is not registered"),
        ));
    }
    Ok(uscc)
}

fn not_after_today(field: &str, d: Date, today: Date) -> Result<(), ExecError> {
    if d > today {
        return Err(invalid(format!(
            "{field} {d} is after the block date {today}"
        )));
    }
    Ok(())
}

/// Executes a credit call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &CreditCall,
) -> Result<(), ExecError> {
    use CreditCall::*;
    let today = Date::of_ms(ctx.time_ms);
    let by = actor.uscc().clone();
    match call {
        RecordDishonesty {
            record_id,
            party,
            basis_doc_no,
            basis_doc_date,
            category,
            severity,
            obligations,
            relates_to,
            penalty,
        } => {
            let party = registered(state, party)?;
            not_after_today("basis_doc_date", *basis_doc_date, today)?;
            RECORDS.require_new(state, record_id)?;
            let pol = policy::current(state);
            dishonesty::record(
                state,
                ctx,
                NewRecord {
                    record_id: record_id.clone(),
                    party: &party,
                    authority: &by,
                    basis_doc_no,
                    basis_doc_date: *basis_doc_date,
                    category: *category,
                    severity: *severity,
                    relates_to: relates_to.clone(),
                    policy_version: pol.version,
                    obligations: obligations.clone(),
                    penalty: *penalty,
                },
            )?;
        }
        FulfilObligation {
            record_id,
            index,
            evidence,
        } => {
            let mut rec = RECORDS.load(state, record_id)?;
            require_authority(actor, &rec)?;
            let n = rec.obligations.len();
            let Some(o) = rec.obligations.get_mut(*index as usize) else {
                return Err(invalid(format!(
                    "dishonesty record {record_id} has {n} obligations; there is no index {index}"
                )));
            };
            if o.fulfilled_on.is_some() {
                return Err(refused(
                    ResultCode::AlreadyExists,
                    format!(
                        "obligation {index} ({}) of {record_id} is already fulfilled",
                        o.kind
                    ),
                ));
            }
            o.fulfilled_on = Some(today);
            o.evidence = Some(evidence.clone());
            RECORDS.put(state, record_id, &rec);
        }
        RequestRepair {
            record_id,
            commitment_id,
        } => {
            let mut rec = RECORDS.load(state, record_id)?;
            require_party(actor, &rec.party, &format!("dishonesty record {record_id}"))?;
            repair_guard(state, &rec, commitment_id, today)?;
            rec.repair = Some(RepairRequest {
                requested_on: today,
                commitment_id: commitment_id.clone(),
                decided_on: None,
                approved: None,
                reason: None,
            });
            let basis = format!("repair requested with commitment {commitment_id}");
            move_record(
                state,
                ctx,
                rec,
                DishonestyStatus::RepairRequested,
                &by,
                &basis,
            )?;
        }
        DecideRepair {
            record_id,
            approve,
            reason,
        } => {
            let mut rec = RECORDS.load(state, record_id)?;
            let to = if *approve {
                DishonestyStatus::Repaired
            } else {
                rec.published_status()
            };
            if let Some(r) = rec.repair.as_mut() {
                r.decided_on = Some(today);
                r.approved = Some(*approve);
                r.reason = Some(reason.clone());
            }
            move_record(state, ctx, rec, to, &by, reason)?;
        }
        Object { record_id, reason } => {
            let mut rec = RECORDS.load(state, record_id)?;
            require_party(actor, &rec.party, &format!("dishonesty record {record_id}"))?;
            rec.objection = Some(Objection::open(state, today, reason));
            move_record(
                state,
                ctx,
                rec,
                DishonestyStatus::UnderObjection,
                &by,
                reason,
            )?;
        }
        DecideObjection {
            record_id,
            uphold,
            decision,
        } => {
            let mut rec = RECORDS.load(state, record_id)?;
            require_authority(actor, &rec)?;
            let Some(o) = rec.objection.as_mut().filter(|o| o.is_open()) else {
                return Err(refused(
                    ResultCode::InvalidTransition,
                    format!("dishonesty record {record_id} has no open objection"),
                ));
            };
            o.decided_on = Some(today);
            o.upheld = Some(*uphold);
            o.decision = Some(decision.clone());
            let (to, basis) = if *uphold {
                (
                    DishonestyStatus::Withdrawn,
                    format!("objection upheld: {decision}"),
                )
            } else {
                (
                    rec.published_status(),
                    format!("objection rejected: {decision}"),
                )
            };
            move_record(state, ctx, rec, to, &by, &basis)?;
        }
        Withdraw { record_id, basis } => {
            let rec = RECORDS.load(state, record_id)?;
            require_authority(actor, &rec)?;
            move_record(state, ctx, rec, DishonestyStatus::Withdrawn, &by, basis)?;
        }
        ExpireRecord { record_id } => dishonesty::expire(state, ctx, record_id)?,
        List {
            entry_id,
            list_type,
            party,
            basis_refs,
            listed_on,
            restrictions,
            until,
        } => {
            let role = list_type.authority_role();
            if !actor.has_role(role) {
                return Err(refused(
                    ResultCode::Unauthorised,
                    format!("only a {} keeps the {list_type:?} list", role.name()),
                ));
            }
            let party = registered(state, party)?;
            not_after_today("listed_on", *listed_on, today)?;
            let credit = policy::current(state).credit();
            let mut restrictions = restrictions
                .clone()
                .unwrap_or_else(|| list_type.default_restrictions(&credit));
            // What the list bars by law is not the lister's to leave out (R3, R5(a)).
            restrictions.extend(list_type.mandatory_restrictions());
            restrictions.sort();
            restrictions.dedup();
            let (earliest, default_until) = match list_type {
                ListType::SamrSerious => (
                    Some(listed_on.add_months(credit.samr_serious_removal_request_months)),
                    Some(listed_on.add_months(credit.samr_serious_auto_remove_months)),
                ),
                _ => (None, None),
            };
            let until = until.or(default_until);
            if until.is_some_and(|u| u <= today) {
                return Err(invalid(format!(
                    "the entry would end on {} (not after the block date {today})",
                    until.map(|u| u.to_string()).unwrap_or_default()
                )));
            }
            lists::add(
                state,
                ctx,
                ListEntry {
                    entry_id: entry_id.clone(),
                    list_type: *list_type,
                    party,
                    listing_authority: by,
                    basis_refs: basis_refs.clone(),
                    listed_on: *listed_on,
                    restrictions,
                    earliest_removal_request_on: earliest,
                    auto_remove_on: until,
                    status: ListStatus::Listed,
                    removal: None,
                    history: Vec::new(),
                },
            )?;
        }
        RequestRemoval { entry_id, reason } => {
            let mut e = ENTRIES.load(state, entry_id)?;
            require_party(actor, &e.party, &format!("list entry {entry_id}"))?;
            if let Some(from) = e.earliest_removal_request_on {
                if today < from {
                    return Err(refused(
                        ResultCode::InvalidTransition,
                        format!("list entry {entry_id}: early removal may be requested from {from}; today is {today}"),
                    ));
                }
            }
            e.removal = Some(RemovalRequest {
                requested_on: today,
                reason: reason.clone(),
                decided_on: None,
                approved: None,
                decision: None,
            });
            move_entry(state, ctx, e, ListStatus::RemovalRequested, &by, reason)?;
        }
        DecideRemoval {
            entry_id,
            approve,
            decision,
        } => {
            let mut e = ENTRIES.load(state, entry_id)?;
            require_lister(actor, &e)?;
            if let Some(r) = e.removal.as_mut() {
                r.decided_on = Some(today);
                r.approved = Some(*approve);
                r.decision = Some(decision.clone());
            }
            let to = if *approve {
                ListStatus::RemovedEarly
            } else {
                ListStatus::Listed
            };
            move_entry(state, ctx, e, to, &by, decision)?;
        }
        Annul { entry_id, basis } => {
            let e = ENTRIES.load(state, entry_id)?;
            require_lister(actor, &e)?;
            move_entry(state, ctx, e, ListStatus::Annulled, &by, basis)?;
        }
        ExpireEntry { entry_id } => lists::expire(state, ctx, entry_id)?,
        Evaluate {
            evaluation_id,
            party,
            scheme,
            grade,
            score,
            period,
            basis_refs,
        } => {
            let role = scheme.owner_role();
            if !actor.has_role(role) {
                return Err(refused(
                    ResultCode::Unauthorised,
                    format!(
                        "only a {} evaluates the {} scheme",
                        role.name(),
                        scheme.as_str()
                    ),
                ));
            }
            let party = registered(state, party)?;
            EVALUATIONS.require_new(state, evaluation_id)?;
            let status = EvaluationStatus::Provisional;
            let e = CreditEvaluation {
                evaluation_id: evaluation_id.clone(),
                party,
                scheme: *scheme,
                grade: grade.clone(),
                original_grade: None,
                score: *score,
                period: period.clone(),
                evaluator: by.clone(),
                basis_refs: basis_refs.clone(),
                published_on: None,
                status,
                objection: None,
                superseded_by: None,
                history: vec![crate::record::Change::now(ctx, status, &by, "evaluated")],
            };
            EVALUATIONS.put(state, evaluation_id, &e);
        }
        PublishEvaluation { evaluation_id } => {
            let e = EVALUATIONS.load(state, evaluation_id)?;
            require_evaluator(actor, &e)?;
            evaluation::publish(state, ctx, e, &by)?;
        }
        ObjectEvaluation {
            evaluation_id,
            reason,
        } => {
            let mut e = EVALUATIONS.load(state, evaluation_id)?;
            require_party(actor, &e.party, &format!("evaluation {evaluation_id}"))?;
            e.objection = Some(Objection::open(state, today, reason));
            crate::record::transition(&mut e, EvaluationStatus::UnderObjection, ctx, &by, reason)?;
            EVALUATIONS.put(state, evaluation_id, &e);
        }
        DecideEvaluationObjection {
            evaluation_id,
            uphold,
            corrected_grade,
            decision,
        } => {
            let mut e = EVALUATIONS.load(state, evaluation_id)?;
            require_evaluator(actor, &e)?;
            let to = if *uphold {
                let g = corrected_grade.clone().unwrap_or_default();
                e.scheme.check_grade(&g)?;
                e.original_grade = Some(std::mem::replace(&mut e.grade, g));
                EvaluationStatus::Corrected
            } else {
                EvaluationStatus::Published
            };
            crate::record::transition(&mut e, to, ctx, &by, decision)?;
            if let Some(o) = e.objection.as_mut() {
                o.decided_on = Some(today);
                o.upheld = Some(*uphold);
                o.decision = Some(decision.clone());
            }
            EVALUATIONS.put(state, evaluation_id, &e);
        }
    }
    Ok(())
}

fn require_evaluator(actor: &Actor, e: &CreditEvaluation) -> Result<(), ExecError> {
    if actor.uscc() != &e.evaluator {
        return Err(refused(
            ResultCode::Unauthorised,
            format!(
                "evaluation {} was made by {}; only it may do this",
                e.evaluation_id, e.evaluator
            ),
        ));
    }
    Ok(())
}

/// The guard of a repair request (domain.md E; NDRC 《信用修复管理办法》): the minimum window
/// has passed, every obligation is fulfilled, and the party has an ACTIVE REPAIR_COMMITMENT.
fn repair_guard(
    state: &Overlay<'_>,
    rec: &DishonestyRecord,
    commitment_id: &str,
    today: Date,
) -> Result<(), ExecError> {
    let id = &rec.record_id;
    if !matches!(
        rec.status,
        DishonestyStatus::Publicized | DishonestyStatus::NotPublicized
    ) {
        return Err(refused(
            ResultCode::InvalidTransition,
            format!("dishonesty record {id} is {:?}; repair may be requested only while it is published or recorded unpublished", rec.status),
        ));
    }
    if today < rec.min_public_until {
        return Err(refused(
            ResultCode::InvalidTransition,
            format!(
                "dishonesty record {id}: repair may be requested from {} (the minimum publicity of a {:?} record); today is {today}",
                rec.min_public_until, rec.severity
            ),
        ));
    }
    if let Some((i, o)) = rec
        .obligations
        .iter()
        .enumerate()
        .find(|(_, o)| o.fulfilled_on.is_none())
    {
        return Err(refused(
            ResultCode::InvalidTransition,
            format!(
                "dishonesty record {id}: obligation {i} ({}) is not fulfilled",
                o.kind
            ),
        ));
    }
    let c = commitment::load(state, commitment_id)?;
    if c.party != rec.party
        || c.kind != CommitmentKind::RepairCommitment
        || c.status != CommitmentStatus::Active
    {
        return Err(refused(
            ResultCode::InvalidTransition,
            format!(
                "commitment {commitment_id} is a {:?} commitment of {} with status {:?}; repair needs an ACTIVE REPAIR_COMMITMENT of {}",
                c.kind, c.party, c.status, rec.party
            ),
        ));
    }
    Ok(())
}
