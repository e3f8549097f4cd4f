//! Mutual recognition (record kind J) and rule R11.
//!
//! # Agreement state machine
//! `DRAFT → ACTIVE ⇄ SUSPENDED → TERMINATED` (an active agreement is suspended before it is
//! terminated). Every transition,
//! activation included, takes effect only when every party authority has signed it: one
//! department proposes (and so signs), each other party signs with `Sign`. A new proposal
//! replaces an unfinished one and its signatures.
//!
//! # Lookup (R11)
//! `Recognise` asks whether a credential (a licence) is recognised by the signing department
//! under an agreement, now (at the block time, domain principle 4). Every lookup is logged as
//! a `RecognitionDecision` with its evidence, whatever the outcome. The outcome is RECOGNISED
//! only if the agreement is ACTIVE and in its effective window, the asking department is a
//! party, the scope covers the licence type, the issuer is accepted, the licence is 01 and in
//! its validity, and its age is within `max_age_days`. Otherwise the first failing check names
//! the outcome: SUSPENDED (agreement or licence suspended), NOT_COVERED, ISSUER_NOT_IN_AGREEMENT,
//! REVOKED (annulled, revoked, cancelled, transferred out, superseded or never issued), EXPIRED.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::context::BlockContext;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{validate_code, validate_id, Uscc};
use crate::kinds::{json_of, Id, KindSpec};
use crate::licence::{self, LicenceStatus};
use crate::record::{self, stateful, Change};
use crate::roles::Role;
use crate::state::{keys, require, Overlay};
use crate::time::Date;

/// Longest agreement or decision id.
pub const MAX_AGREEMENT_ID_BYTES: usize = 64;
/// Most parties, issuers or credential types per agreement.
pub const MAX_AGREEMENT_LIST: usize = 64;
/// Most status changes kept per agreement.
pub const MAX_AGREEMENT_HISTORY: usize = record::MAX_HISTORY;

/// Agreement status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgreementStatus {
    /// Being signed.
    Draft,
    /// In force.
    Active,
    /// Paused.
    Suspended,
    /// Ended (terminal).
    Terminated,
}

/// A transition waiting for the parties' signatures.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Target status.
    pub to: AgreementStatus,
    /// Parties that signed it.
    pub signed: BTreeSet<Uscc>,
}

/// One status change of an agreement (the uniform [`Change`]: `by` is the party authority whose
/// signature completed it).
pub type AgreementEvent = Change<AgreementStatus>;

/// What an agreement covers.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// Scope (MED_EXAM, PRO_TITLE, AV_ROAD_TEST, AEO_STATUS, LICENCE:<type>).
    pub scope: String,
    /// Party authorities (departments); all sign every transition.
    pub parties: BTreeSet<Uscc>,
    /// Issuers whose credentials are accepted.
    pub accepted_issuers: BTreeSet<Uscc>,
    /// Further credential (licence) types covered.
    pub credential_types: BTreeSet<String>,
    /// Oldest acceptable credential, in days since issue.
    pub max_age_days: Option<u32>,
    /// First effective day.
    pub effective_from: Date,
    /// Last effective day.
    pub effective_to: Option<Date>,
}

/// A mutual-recognition agreement.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// Id.
    pub agreement_id: String,
    /// Terms.
    pub terms: Terms,
    /// GB/T 2260 regions of the parties.
    pub parties_regions: BTreeSet<String>,
    /// Status.
    pub status: AgreementStatus,
    /// The transition being signed.
    pub pending: Option<Pending>,
    /// Status changes, oldest first.
    pub history: Vec<AgreementEvent>,
}

stateful!(
    Agreement,
    AgreementStatus,
    "agreement",
    agreement_id,
    [
        (Draft, Active),
        (Active, Suspended),
        (Suspended, Active),
        (Suspended, Terminated),
    ]
);

/// The six outcomes of a lookup.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecognitionResult {
    /// Recognised.
    Recognised,
    /// The agreement does not cover it (scope, party, not in force).
    NotCovered,
    /// The issuer is not accepted.
    IssuerNotInAgreement,
    /// Past its validity or the maximum age.
    Expired,
    /// Suspended (the licence or the agreement).
    Suspended,
    /// No longer (or never) valid.
    Revoked,
}

/// The evidence a decision was based on.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Licence status then.
    pub licence_status: LicenceStatus,
    /// Its status code.
    pub status_code: Option<String>,
    /// Its issuer.
    pub issuer: Uscc,
    /// Its type.
    pub type_code: String,
    /// Issue date.
    pub issued_on: Option<Date>,
    /// Last valid day.
    pub valid_until: Option<Date>,
    /// Agreement status then.
    pub agreement_status: AgreementStatus,
}

/// A logged lookup.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RecognitionDecision {
    /// Id.
    pub decision_id: String,
    /// The credential (licence id).
    pub credential_id: String,
    /// The agreement.
    pub agreement_id: String,
    /// The asking authority.
    pub accepting_authority: Uscc,
    /// Why it asked.
    pub purpose: String,
    /// Block time of the decision (ms).
    pub at_ms: u64,
    /// Height.
    pub height: u64,
    /// Outcome.
    pub result: RecognitionResult,
    /// Why, for people.
    pub reason: String,
    /// Evidence.
    pub evidence: Evidence,
    /// Whose behalf the lookup was made on (a USCC or a person reference), when given.
    pub on_behalf_of: Option<String>,
    /// `licence` or `person_credential` (appended; older decisions are of licences).
    pub credential_kind: Option<String>,
}

impl crate::kinds::Versioned for RecognitionDecision {
    const APPENDED: &'static [&'static str] = &["on_behalf_of", "credential_kind"];
}

/// A credential as a lookup sees it: a licence, or a credential held by a person.
struct Credential {
    kind: &'static str,
    id: String,
    /// The holder: a USCC (licence) or a person reference.
    holder: String,
    type_code: String,
    issuer: Uscc,
    status: LicenceStatus,
    issued_on: Option<Date>,
    valid_from: Option<Date>,
    valid_until: Option<Date>,
}

impl Credential {
    fn of_licence(l: &licence::Licence) -> Credential {
        Credential {
            kind: "licence",
            id: l.licence_id.clone(),
            holder: l.holder.to_string(),
            type_code: l.type_code.clone(),
            issuer: l.issuer.clone(),
            status: l.status,
            issued_on: l.issued_on,
            valid_from: l.valid_from,
            valid_until: l.valid_until,
        }
    }

    fn of_person(c: &crate::credential::PersonCredential) -> Credential {
        use crate::credential::CredentialStatus as S;
        Credential {
            kind: "person_credential",
            id: c.credential_id.clone(),
            holder: c.holder_ref.clone(),
            type_code: c.type_code.clone(),
            issuer: c.issuer.clone(),
            status: match c.status {
                S::Valid => LicenceStatus::Valid,
                S::Suspended => LicenceStatus::Suspended,
                S::Revoked => LicenceStatus::Revoked,
                S::Expired => LicenceStatus::Expired,
            },
            issued_on: Some(c.issued_on),
            valid_from: Some(c.valid_from),
            valid_until: c.valid_until,
        }
    }

    /// The licence `id`, else the person credential `id`; on a person's behalf, the person
    /// credential only.
    fn load(state: &Overlay<'_>, id: &str, for_person: bool) -> Result<Credential, ExecError> {
        if !for_person {
            if let Some(l) = licence::LICENCES.find(state, id)? {
                return Ok(Credential::of_licence(&l));
            }
        }
        if let Some(c) = crate::credential::CREDENTIALS.find(state, id)? {
            return Ok(Credential::of_person(&c));
        }
        Err(ExecError::new(
            ResultCode::NotFound,
            format!("no licence or person credential {id}"),
        ))
    }
}

/// Recognition calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum RecognitionCall {
    /// Propose an agreement (a party department; it signs by proposing).
    Propose {
        /// New id.
        agreement_id: String,
        /// Terms.
        terms: Terms,
    },
    /// Propose a status change (a party department).
    ProposeChange {
        /// Id.
        agreement_id: String,
        /// Target.
        to: AgreementStatus,
    },
    /// Sign the pending transition (a party department).
    Sign {
        /// Id.
        agreement_id: String,
    },
    /// Look up and log (any department).
    Recognise {
        /// New decision id.
        decision_id: String,
        /// Agreement.
        agreement_id: String,
        /// Licence id, or person credential id.
        credential_id: String,
        /// Purpose.
        purpose: String,
    },
    /// Look up and log on someone's behalf: a person (reference) or an enterprise (USCC)
    /// (any department).
    RecogniseFor {
        /// New decision id.
        decision_id: String,
        /// Agreement.
        agreement_id: String,
        /// Licence id, or person credential id.
        credential_id: String,
        /// Purpose.
        purpose: String,
        /// A USCC, or a person reference (64 hex digits).
        on_behalf_of: String,
    },
}

impl RecognitionCall {
    /// The roles that may make this call (department roles; party membership is checked
    /// after).
    pub fn allowed_roles(&self) -> &'static [Role] {
        // A department of any kind may take part in agreements.
        &Role::DEPARTMENT
    }

    /// The checks that need no state (identifiers, codes, list limits, dates in order): run
    /// at admission, by the executor before the call, and by the client before signing.
    pub fn precheck(&self) -> Result<(), ExecError> {
        let id = |field: &str, v: &str| validate_id(field, v, MAX_AGREEMENT_ID_BYTES);
        match self {
            RecognitionCall::Propose {
                agreement_id,
                terms,
            } => {
                id("agreement_id", agreement_id)?;
                check_terms_shape(terms)
            }
            RecognitionCall::ProposeChange { agreement_id, .. }
            | RecognitionCall::Sign { agreement_id } => id("agreement_id", agreement_id),
            RecognitionCall::Recognise {
                decision_id,
                agreement_id,
                credential_id,
                purpose,
            }
            | RecognitionCall::RecogniseFor {
                decision_id,
                agreement_id,
                credential_id,
                purpose,
                ..
            } => {
                id("decision_id", decision_id)?;
                id("agreement_id", agreement_id)?;
                validate_id("credential_id", credential_id, 64)?;
                crate::ids::validate_text("purpose", purpose, crate::ids::MAX_REF_BYTES)?;
                let RecognitionCall::RecogniseFor { on_behalf_of, .. } = self else {
                    return Ok(());
                };
                if Uscc::parse(on_behalf_of).is_err() {
                    crate::credential::check_person_ref("on_behalf_of", on_behalf_of).map_err(
                        |_| {
                            ExecError::new(
                                ResultCode::BadIdentifier,
                                format!("on_behalf_of {on_behalf_of:?} is neither a USCC nor a person reference (64 hex digits)"),
                            )
                        },
                    )?;
                }
                Ok(())
            }
        }
    }
}

fn load(state: &Overlay<'_>, id: &str) -> Result<Agreement, ExecError> {
    validate_id("agreement_id", id, MAX_AGREEMENT_ID_BYTES)?;
    require(state, &keys::agreement(id), || {
        format!("agreement {id} does not exist")
    })
}

fn require_party(actor: &Actor, a: &Agreement) -> Result<Uscc, ExecError> {
    match actor.department() {
        Some(d) if a.terms.parties.contains(&d.uscc) => Ok(d.uscc.clone()),
        _ => Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "{} is not a party authority of agreement {}",
                actor.uscc(),
                a.agreement_id
            ),
        )),
    }
}

/// The checks of agreement terms that need no state.
fn check_terms_shape(t: &Terms) -> Result<(), ExecError> {
    validate_code("scope", &t.scope)?;
    if t.parties.len() < 2 {
        return Err(invalid("an agreement has at least two party authorities"));
    }
    for (field, n) in [
        ("parties", t.parties.len()),
        ("accepted_issuers", t.accepted_issuers.len()),
        ("credential_types", t.credential_types.len()),
    ] {
        if n > MAX_AGREEMENT_LIST {
            return Err(invalid(format!(
                "{field} has {n} entries, over the limit of {MAX_AGREEMENT_LIST}"
            )));
        }
    }
    for c in &t.credential_types {
        validate_code("credential type", c)?;
    }
    if let Some(to) = t.effective_to {
        if to < t.effective_from {
            return Err(invalid("effective_to is before effective_from"));
        }
    }
    Ok(())
}

/// The checks of agreement terms that need the state (the parties are departments); their
/// shape was checked by `precheck`. Returns the parties' regions.
fn check_terms(state: &Overlay<'_>, t: &Terms) -> Result<BTreeSet<String>, ExecError> {
    let mut regions = BTreeSet::new();
    for p in &t.parties {
        let d = crate::governance::department_profile(state, p.as_str()).ok_or_else(|| {
            ExecError::new(
                ResultCode::NotFound,
                format!("party authority {p} is not a department"),
            )
        })?;
        regions.insert(d.region);
    }
    Ok(regions)
}

fn sign(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    mut a: Agreement,
    by: Uscc,
) -> Result<(), ExecError> {
    let Some(pending) = a.pending.as_mut() else {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "agreement {} has no transition waiting for signatures",
                a.agreement_id
            ),
        ));
    };
    if !pending.signed.insert(by.clone()) {
        return Err(ExecError::new(
            ResultCode::AlreadyExists,
            format!(
                "{by} already signed the pending transition of {}",
                a.agreement_id
            ),
        ));
    }
    if pending.signed == a.terms.parties {
        let to = pending.to;
        let basis = format!("signed by all {} parties", pending.signed.len());
        record::transition(&mut a, to, ctx, &by, &basis)?;
        a.pending = None;
    }
    state.put(keys::agreement(&a.agreement_id), &a);
    Ok(())
}

/// Whether the agreement's scope covers credentials of `type_code`: the scope names the type
/// itself (`PRO_TITLE`), or `LICENCE:<type>`, or the type is among its `credential_types`.
pub fn covers(t: &Terms, type_code: &str) -> bool {
    t.scope == type_code
        || t.scope == format!("LICENCE:{type_code}")
        || t.credential_types.contains(type_code)
}

fn decide(a: &Agreement, l: &Credential, asker: &Uscc, today: Date) -> (RecognitionResult, String) {
    use RecognitionResult::*;
    let what = if l.kind == "licence" {
        "licence"
    } else {
        "credential"
    };
    if a.status == AgreementStatus::Suspended {
        return (
            Suspended,
            format!("agreement {} is SUSPENDED", a.agreement_id),
        );
    }
    let t = &a.terms;
    let in_window = today >= t.effective_from && t.effective_to.is_none_or(|to| today <= to);
    if a.status != AgreementStatus::Active || !in_window {
        return (
            NotCovered,
            format!(
                "agreement {} is {:?} and effective {}..{}; not in force on {today}",
                a.agreement_id,
                a.status,
                t.effective_from,
                t.effective_to.map(|d| d.to_string()).unwrap_or_default()
            ),
        );
    }
    if !t.parties.contains(asker) {
        return (
            NotCovered,
            format!("{asker} is not a party of agreement {}", a.agreement_id),
        );
    }
    if !covers(t, &l.type_code) {
        let types: Vec<&str> = t.credential_types.iter().map(String::as_str).collect();
        return (
            NotCovered,
            format!(
                "agreement {} covers {}{}; not {what} type {}",
                a.agreement_id,
                t.scope,
                if types.is_empty() {
                    String::new()
                } else {
                    format!(" and {}", types.join(", "))
                },
                l.type_code
            ),
        );
    }
    if !t.accepted_issuers.contains(&l.issuer) {
        return (
            IssuerNotInAgreement,
            format!(
                "issuer {} is not accepted by agreement {}",
                l.issuer, a.agreement_id
            ),
        );
    }
    match l.status {
        LicenceStatus::Valid => {}
        LicenceStatus::Suspended => return (Suspended, format!("{what} {} is suspended", l.id)),
        LicenceStatus::Expired => return (Expired, format!("{what} {} expired", l.id)),
        s => {
            return (
                Revoked,
                format!(
                    "{what} {} is {s:?}{}",
                    l.id,
                    s.code().map(|c| format!(" ({c})")).unwrap_or_default()
                ),
            )
        }
    }
    if l.valid_until.is_some_and(|u| today > u) || l.valid_from.is_some_and(|f| today < f) {
        return (
            Expired,
            format!("{what} {} is outside its validity on {today}", l.id),
        );
    }
    if let (Some(max), Some(issued)) = (t.max_age_days, l.issued_on) {
        let age = today
            .days_since_epoch()
            .saturating_sub(issued.days_since_epoch());
        if age > u64::from(max) {
            return (
                Expired,
                format!(
                    "{what} {} is {age} days old, over the agreement's {max}",
                    l.id
                ),
            );
        }
    }
    (Recognised, "every R11 condition holds".into())
}

/// Executes a recognition call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &RecognitionCall,
) -> Result<(), ExecError> {
    match call {
        RecognitionCall::Propose {
            agreement_id,
            terms,
        } => {
            let regions = check_terms(state, terms)?;
            if state.get_raw(&keys::agreement(agreement_id)).is_some() {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("agreement {agreement_id} already exists"),
                ));
            }
            let mut a = Agreement {
                agreement_id: agreement_id.clone(),
                terms: terms.clone(),
                parties_regions: regions,
                status: AgreementStatus::Draft,
                pending: Some(Pending {
                    to: AgreementStatus::Active,
                    signed: BTreeSet::new(),
                }),
                history: vec![],
            };
            let by = require_party(actor, &a)?;
            a.history
                .push(Change::now(ctx, AgreementStatus::Draft, &by, "proposed"));
            sign(state, ctx, a, by)
        }
        RecognitionCall::ProposeChange { agreement_id, to } => {
            let mut a = load(state, agreement_id)?;
            let by = require_party(actor, &a)?;
            // A draft becomes active only by the signatures of its proposal.
            if a.status == AgreementStatus::Draft || !record::allowed::<Agreement>(a.status, *to) {
                return Err(ExecError::new(
                    ResultCode::InvalidTransition,
                    format!(
                        "agreement {agreement_id} is {:?}; it cannot become {to:?}",
                        a.status
                    ),
                ));
            }
            a.pending = Some(Pending {
                to: *to,
                signed: BTreeSet::new(),
            });
            sign(state, ctx, a, by)
        }
        RecognitionCall::Sign { agreement_id } => {
            let a = load(state, agreement_id)?;
            let by = require_party(actor, &a)?;
            sign(state, ctx, a, by)
        }
        RecognitionCall::Recognise {
            decision_id,
            agreement_id,
            credential_id,
            purpose,
        } => recognise(
            state,
            ctx,
            actor,
            decision_id,
            agreement_id,
            credential_id,
            purpose,
            None,
        ),
        RecognitionCall::RecogniseFor {
            decision_id,
            agreement_id,
            credential_id,
            purpose,
            on_behalf_of,
        } => recognise(
            state,
            ctx,
            actor,
            decision_id,
            agreement_id,
            credential_id,
            purpose,
            Some(on_behalf_of),
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn recognise(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    decision_id: &str,
    agreement_id: &str,
    credential_id: &str,
    purpose: &str,
    on_behalf_of: Option<&String>,
) -> Result<(), ExecError> {
    if state.get_raw(&keys::recognition(decision_id)).is_some() {
        return Err(ExecError::new(
            ResultCode::AlreadyExists,
            format!("decision {decision_id} already exists"),
        ));
    }
    let a = load(state, agreement_id)?;
    let for_person = on_behalf_of.is_some_and(|w| Uscc::parse(w).is_err());
    let l = Credential::load(state, credential_id, for_person)?;
    // On someone's behalf: the holder themselves, or (for a person's credential) an
    // enterprise acting for the person, which the decision records.
    if let Some(whom) = on_behalf_of {
        let holder_ok = *whom == l.holder || (l.kind == "person_credential" && !for_person);
        if !holder_ok {
            return Err(invalid(format!(
                "{} {credential_id} is held by {}, not by {whom}",
                l.kind, l.holder
            )));
        }
    }
    let (result, reason) = decide(&a, &l, actor.uscc(), Date::of_ms(ctx.time_ms));
    let d = RecognitionDecision {
        decision_id: decision_id.to_string(),
        credential_id: credential_id.to_string(),
        agreement_id: agreement_id.to_string(),
        accepting_authority: actor.uscc().clone(),
        purpose: purpose.to_string(),
        at_ms: ctx.time_ms,
        height: ctx.height,
        result,
        reason,
        evidence: Evidence {
            licence_status: l.status,
            status_code: if l.kind == "licence" {
                l.status.code().map(String::from)
            } else {
                None
            },
            issuer: l.issuer.clone(),
            type_code: l.type_code.clone(),
            issued_on: l.issued_on,
            valid_until: l.valid_until,
            agreement_status: a.status,
        },
        on_behalf_of: on_behalf_of.cloned(),
        credential_kind: Some(l.kind.to_string()),
    };
    state.put(keys::recognition(decision_id), &d);
    Ok(())
}

/// An agreement as stored before its history took the uniform [`Change`] (entries held only
/// the time and the status). Decoded only to show such a record, in a bundle handed out then,
/// exactly as it was shown (ADR 0016).
#[derive(Serialize, Deserialize)]
struct AgreementV1 {
    agreement_id: String,
    terms: Terms,
    parties_regions: BTreeSet<String>,
    status: AgreementStatus,
    pending: Option<Pending>,
    history: Vec<EventV1>,
}

#[derive(Serialize, Deserialize)]
struct EventV1 {
    at_ms: u64,
    status: AgreementStatus,
}

fn agreement_json(bytes: &[u8]) -> Result<serde_json::Value, String> {
    json_of::<Agreement>(bytes)
        .or_else(|current| json_of::<AgreementV1>(bytes).map_err(|_| current))
}

/// The agreement's formats for the record schema: today's, then the first.
fn agreement_schema(t: &mut crate::schema::Tracing) -> Result<(), String> {
    crate::schema::of::<Agreement>(t)?;
    crate::schema::of::<AgreementV1>(t)
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "agreement",
        "mutual-recognition agreement",
        "an agreement id",
        "MR-1",
        Id::Record(keys::agreement),
        crate::kinds::Decoder::custom(agreement_json, agreement_schema),
    )
    .stateful::<Agreement>()
    .with_validity("/terms/effective_to", &["ACTIVE", "SUSPENDED"]),
    KindSpec::new(
        "recognition",
        "recognition decision",
        "a decision id",
        "D1",
        Id::Record(keys::recognition),
        crate::kinds::Decoder::versioned::<RecognitionDecision>(),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agreement_stored_before_the_uniform_history_shows_as_it_was() {
        let dept = Uscc::parse("11110000MB01A7C368").expect("uscc");
        let old = AgreementV1 {
            agreement_id: "MR-1".into(),
            terms: Terms {
                scope: "MED_EXAM".into(),
                parties: [dept.clone()].into(),
                accepted_issuers: [dept].into(),
                credential_types: BTreeSet::new(),
                max_age_days: None,
                effective_from: Date::of_ms(0),
                effective_to: None,
            },
            parties_regions: ["110000".to_string()].into(),
            status: AgreementStatus::Active,
            pending: None,
            history: vec![EventV1 {
                at_ms: 5,
                status: AgreementStatus::Active,
            }],
        };
        let bytes = concordat_primitives::encoding::to_bytes(&old);
        let shown = crate::kinds::decode("agreement", &bytes).expect("decodes");
        assert_eq!(shown, serde_json::to_value(&old).expect("json"));
        assert_eq!(
            shown["history"][0],
            serde_json::json!({"at_ms": 5, "status": "ACTIVE"})
        );
        assert!(crate::kinds::decode("agreement", &bytes[1..]).is_err());
    }
}
