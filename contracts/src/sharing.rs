//! Consented data sharing (record kind M of domain.md) and rule R15.
//!
//! An enterprise authorises a grantee (a bank) to read named categories of its data for one
//! purpose, within a validity window and a number of uses. It signs the authorisation with an
//! electronic seal (a VALID seal signature of its own, purpose AUTHORISATION), and the ledger
//! issues a consent receipt (Kantara Consent Receipt v1.1 fields, `version "KI-CR-v1.1.0"`),
//! whose `consentReceiptID` is the authorisation's id.
//!
//! | From | To | Who | Guard |
//! |---|---|---|---|
//! | — | ACTIVE | the grantor (ENTERPRISE) | grantor EXISTING (R2); its seal signature VALID, purpose AUTHORISATION; grantee a registered party or department |
//! | ACTIVE | REVOKED | the grantor; R2 when the grantor closes | — |
//! | ACTIVE | EXPIRED | the system | past `valid_until` (at the first request after it, or the day after) |
//! | ACTIVE | EXHAUSTED | the system | `uses` reached `max_uses` |
//!
//! Every access request is decided by R15 and logged on the ledger, GRANTED or DENIED with the
//! reason, in this order: the grantee matches (a stranger learns nothing else), the
//! authorisation is ACTIVE and `valid_from ≤ now ≤ valid_until`, the purpose matches, no
//! personal data is asked for without the separate personal consent (PIPL Art. 23), the
//! categories lie within the scope, and `uses < max_uses`. Revocation takes effect for the
//! next request. A request that is refused is still a committed transaction: the log is the
//! point.

use std::collections::BTreeSet;

use concordat_primitives::Hash;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::context::BlockContext;
use crate::due;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{parse_uscc, validate_id, validate_text, Uscc, MAX_REF_BYTES};
use crate::kinds::{Id, KindSpec, Versioned};
use crate::record::{self, stateful, Change, OwnerIndex, Table};
use crate::roles::Role;
use crate::seal::SignaturePurpose;
use crate::state::{keys as state_keys, Overlay};
use crate::time::{Date, Instant};

/// Longest authorisation or access id (a `urn:uuid:` fits).
pub const MAX_SHARING_ID_BYTES: usize = 64;
/// Most authorisations indexed per grantor.
pub const MAX_AUTHORISATIONS_PER_GRANTOR: usize = 4096;
/// Most access requests logged per authorisation.
pub const MAX_ACCESSES_PER_AUTHORISATION: usize = 4096;
/// Most uses one authorisation may allow.
pub const MAX_USES: u32 = 1000;
/// Longest URL.
pub const MAX_URL_BYTES: usize = 256;
/// Longest validity of an authorisation, and how far ahead its end may lie: 5 years (1,827
/// days) [M]. It bounds the dates the expiry queue holds.
pub const MAX_VALIDITY_DAYS: u64 = 1827;
/// Most requests logged per requester that named an authorisation not granted to it.
pub const MAX_STRAY_REQUESTS_PER_REQUESTER: usize = 4096;

/// Why the data is shared.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SharingPurpose {
    /// Credit assessment of a small or medium enterprise.
    SmeCreditAssessment,
    /// Monitoring after a loan.
    PostLoanMonitoring,
}

/// A category of data.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DataCategory {
    /// Tax credit grade.
    TaxCreditGrade,
    /// Taxes paid over 24 months.
    #[serde(rename = "TAX_PAID_SUMMARY_24M")]
    TaxPaidSummary24m,
    /// Social-insurance headcount.
    SocialInsuranceHeadcount,
    /// Housing-fund status.
    HousingFundStatus,
    /// Utilities payments.
    UtilitiesPayment,
    /// Customs credit tier.
    CustomsCreditTier,
    /// Licences.
    Licences,
    /// Public dishonesty records.
    PublicDishonestyRecords,
    /// Personal data: the legal representative's identity document details.
    LegalRepPersonalId,
    /// Personal data: employees' personal information.
    EmployeePersonalData,
}

impl DataCategory {
    /// True for personal information (PIPL): shared only with the person's separate consent.
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            DataCategory::LegalRepPersonalId | DataCategory::EmployeePersonalData
        )
    }
}

/// Authorisation status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthorisationStatus {
    /// In force.
    Active,
    /// Revoked by the grantor, or by R2 (final).
    Revoked,
    /// Past its validity (final).
    Expired,
    /// Every use taken (final).
    Exhausted,
}

/// The separate consent of a natural person to share personal information about them (PIPL
/// Art. 23), given off the ledger; the ledger keeps its reference and hash only.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PersonalConsent {
    /// The person: hash of the GB 11643 id and a salt (64 hex digits).
    pub person_ref: String,
    /// The personal categories consented to.
    pub categories: BTreeSet<DataCategory>,
    /// Hash of the signed consent document.
    pub document_hash: Hash,
    /// When it was given.
    pub given_at: Instant,
}

/// One purpose of a consent receipt (Kantara CR v1.1).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptPurpose {
    /// The purpose.
    pub purpose: String,
    /// Its category.
    pub purpose_category: Vec<String>,
    /// EXPLICIT.
    pub consent_type: String,
    /// The data categories.
    pub pii_category: Vec<String>,
    /// Always true.
    pub primary_purpose: bool,
    /// How consent ends.
    pub termination: String,
    /// Disclosed to a third party (the grantee).
    pub third_party_disclosure: bool,
    /// The grantee.
    pub third_party_name: String,
}

/// One service of a consent receipt.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ReceiptService {
    /// The service.
    pub service: String,
    /// Its purposes.
    pub purposes: Vec<ReceiptPurpose>,
}

/// A data controller named on the receipt.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PiiController {
    /// Its name or USCC.
    pub pii_controller: String,
}

/// The consent receipt the ledger issues (Kantara Consent Receipt Specification v1.1 fields).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConsentReceipt {
    /// `KI-CR-v1.1.0`.
    pub version: String,
    /// `CN`.
    pub jurisdiction: String,
    /// Seconds since the Unix epoch.
    pub consent_timestamp: u64,
    /// How consent was collected.
    pub collection_method: String,
    /// The authorisation id.
    #[serde(rename = "consentReceiptID")]
    pub consent_receipt_id: String,
    /// `zh-CN`.
    pub language: String,
    /// The grantor's USCC.
    pub pii_principal_id: String,
    /// The grantor, as controller of its data.
    pub pii_controllers: Vec<PiiController>,
    /// The privacy policy.
    pub policy_url: String,
    /// What is consented to.
    pub services: Vec<ReceiptService>,
    /// Whether sensitive personal information is involved.
    pub sensitive: bool,
    /// The seal signature that signs the authorisation.
    pub signature_id: String,
}

/// A data-sharing authorisation.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Authorisation {
    /// Id (= the receipt's consentReceiptID).
    pub auth_id: String,
    /// The enterprise.
    pub grantor: Uscc,
    /// Its seal signature on the authorisation.
    pub grantor_signature_id: String,
    /// Who may read.
    pub grantee: Uscc,
    /// Why.
    pub purpose: SharingPurpose,
    /// What.
    pub categories: BTreeSet<DataCategory>,
    /// From.
    pub valid_from: Instant,
    /// Until (inclusive).
    pub valid_until: Instant,
    /// Uses allowed.
    pub max_uses: u32,
    /// Uses taken (granted requests).
    pub uses: u32,
    /// `CN`.
    pub jurisdiction: String,
    /// The privacy policy.
    pub policy_url: String,
    /// How consent was collected.
    pub collection_method: String,
    /// Separate personal consent, if any.
    pub personal_consent: Option<PersonalConsent>,
    /// The receipt issued.
    pub receipt: ConsentReceipt,
    /// Status.
    pub status: AuthorisationStatus,
    /// Status changes.
    pub history: Vec<Change<AuthorisationStatus>>,
}

stateful!(
    Authorisation,
    AuthorisationStatus,
    "authorisation",
    auth_id,
    [(Active, Revoked), (Active, Expired), (Active, Exhausted)]
);

impl Versioned for Authorisation {
    const APPENDED: &'static [&'static str] = &[];
}

/// Why a request was denied.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DenyReason {
    /// The requester is not the grantee.
    GranteeMismatch,
    /// Revoked.
    Revoked,
    /// Past its validity.
    Expired,
    /// Before its validity.
    NotYetValid,
    /// Every use taken.
    Exhausted,
    /// Another purpose.
    PurposeMismatch,
    /// A category outside the scope.
    OutOfScope,
    /// Personal data without separate personal consent.
    PersonalDataWithoutConsent,
}

/// GRANTED or DENIED.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessResult {
    /// Granted.
    Granted,
    /// Denied.
    Denied,
}

/// A logged access request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AccessLog {
    /// Id.
    pub access_id: String,
    /// The authorisation presented.
    pub auth_id: String,
    /// Who asked.
    pub requester: Uscc,
    /// The purpose stated.
    pub purpose: SharingPurpose,
    /// What was asked for.
    pub requested_categories: BTreeSet<DataCategory>,
    /// What may be returned (empty when denied).
    pub returned_categories: BTreeSet<DataCategory>,
    /// Block time.
    pub at: Instant,
    /// Height.
    pub height: u64,
    /// The request's transaction.
    pub tx: Option<Hash>,
    /// Granted or denied.
    pub result: AccessResult,
    /// Why it was denied.
    pub reason: Option<DenyReason>,
    /// For people.
    pub detail: String,
    /// Uses taken after it.
    pub uses_after: u32,
}

/// State keys of this module.
pub mod keys {
    /// An authorisation.
    pub fn authorisation(id: &str) -> Vec<u8> {
        [b"share_auth/".as_slice(), id.as_bytes()].concat()
    }
    /// The authorisations a grantor gave.
    pub fn authorisations_of(uscc: &str) -> Vec<u8> {
        [b"share_auths_by/".as_slice(), uscc.as_bytes()].concat()
    }
    /// An access log entry.
    pub fn access(id: &str) -> Vec<u8> {
        [b"share_access/".as_slice(), id.as_bytes()].concat()
    }
    /// The access ids of an authorisation (requests by its grantee).
    pub fn accesses_of(auth_id: &str) -> Vec<u8> {
        [b"share_accesses/".as_slice(), auth_id.as_bytes()].concat()
    }
    /// The ids of a requester's requests under authorisations not granted to it.
    pub fn stray_requests_of(uscc: &str) -> Vec<u8> {
        [b"share_stray/".as_slice(), uscc.as_bytes()].concat()
    }
    /// The authorisation a seal signature signed (each signs one).
    pub fn signature_use(sig_id: &str) -> Vec<u8> {
        [b"share_auth_sig/".as_slice(), sig_id.as_bytes()].concat()
    }
}

/// The authorisations.
pub const AUTHORISATIONS: Table<Authorisation> = Table::new(
    "authorisation",
    "auth_id",
    MAX_SHARING_ID_BYTES,
    keys::authorisation,
);
/// The access log.
pub const ACCESSES: Table<AccessLog> =
    Table::new("access", "access_id", MAX_SHARING_ID_BYTES, keys::access);
/// The authorisations of each grantor.
pub const BY_GRANTOR: OwnerIndex = OwnerIndex {
    what: "data-sharing authorisations",
    cap: MAX_AUTHORISATIONS_PER_GRANTOR,
    key: keys::authorisations_of,
};

/// What the enterprise authorises.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// New id (the receipt's consentReceiptID, e.g. `urn:uuid:…`).
    pub auth_id: String,
    /// The grantee (a registered party or department).
    pub grantee: String,
    /// Purpose.
    pub purpose: SharingPurpose,
    /// Categories.
    pub categories: BTreeSet<DataCategory>,
    /// From.
    pub valid_from: Instant,
    /// Until (inclusive).
    pub valid_until: Instant,
    /// Uses allowed (1..=1000).
    pub max_uses: u32,
    /// The grantor's seal signature on the authorisation (purpose AUTHORISATION).
    pub grantor_signature_id: String,
    /// The privacy policy.
    pub policy_url: String,
    /// How consent was collected.
    pub collection_method: String,
    /// Separate personal consent, if personal categories are authorised.
    pub personal_consent: Option<PersonalConsent>,
    /// When the enterprise consented (the receipt's `consentTimestamp`; not after the block
    /// time).
    pub consented_at: Instant,
}

/// Data-sharing calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum SharingCall {
    /// Authorise (the grantor, an ENTERPRISE key).
    Authorise(Grant),
    /// Revoke (the grantor).
    Revoke {
        /// Id.
        auth_id: String,
        /// Reason.
        reason: String,
    },
    /// Ask to read (the grantee: a bank's department or party key). Always logged.
    Request {
        /// New access id.
        access_id: String,
        /// The authorisation presented.
        auth_id: String,
        /// The purpose.
        purpose: SharingPurpose,
        /// The categories asked for.
        categories: BTreeSet<DataCategory>,
    },
}

impl SharingCall {
    /// Who may make the call.
    pub fn allowed_roles(&self) -> &'static [Role] {
        match self {
            SharingCall::Authorise(_) | SharingCall::Revoke { .. } => &[Role::Enterprise],
            SharingCall::Request { .. } => &[Role::RelyingParty, Role::Enterprise],
        }
    }

    /// The checks that need no state.
    pub fn precheck(&self) -> Result<(), ExecError> {
        let id = |f: &str, v: &str| validate_id(f, v, MAX_SHARING_ID_BYTES);
        match self {
            SharingCall::Authorise(g) => {
                id("auth_id", &g.auth_id)?;
                parse_uscc(&g.grantee)?;
                if g.categories.is_empty() {
                    return Err(invalid("an authorisation names at least one category"));
                }
                g.valid_from.check("valid_from")?;
                g.valid_until.check("valid_until")?;
                g.consented_at.check("consented_at")?;
                if g.valid_until < g.valid_from {
                    return Err(invalid("valid_until is before valid_from"));
                }
                if g.valid_until.ms() - g.valid_from.ms() > MAX_VALIDITY_DAYS * crate::time::DAY_MS
                {
                    return Err(invalid(format!(
                        "an authorisation is valid for at most {MAX_VALIDITY_DAYS} days"
                    )));
                }
                if g.max_uses == 0 || g.max_uses > MAX_USES {
                    return Err(invalid(format!("max_uses must be 1..={MAX_USES}")));
                }
                validate_id("grantor_signature_id", &g.grantor_signature_id, 64)?;
                validate_text("policy_url", &g.policy_url, MAX_URL_BYTES)?;
                validate_text("collection_method", &g.collection_method, MAX_REF_BYTES)?;
                if let Some(pc) = &g.personal_consent {
                    crate::credential::check_person_ref("person_ref", &pc.person_ref)?;
                    pc.given_at.check("personal_consent.given_at")?;
                    if pc.categories.iter().any(|c| !c.is_personal()) {
                        return Err(invalid(
                            "a personal consent covers personal categories only",
                        ));
                    }
                }
                for c in &g.categories {
                    let consented = g
                        .personal_consent
                        .as_ref()
                        .is_some_and(|pc| pc.categories.contains(c));
                    if c.is_personal() && !consented {
                        return Err(invalid(format!(
                            "{} is personal information: it is authorised only with the person's separate consent (PIPL Art. 23)",
                            crate::rules::spelled(c)
                        )));
                    }
                }
                Ok(())
            }
            SharingCall::Revoke { auth_id, reason } => {
                id("auth_id", auth_id)?;
                validate_text("reason", reason, MAX_REF_BYTES)
            }
            SharingCall::Request {
                access_id,
                auth_id,
                categories,
                ..
            } => {
                id("access_id", access_id)?;
                id("auth_id", auth_id)?;
                if categories.is_empty() {
                    return Err(invalid("a request names at least one category"));
                }
                Ok(())
            }
        }
    }
}

fn spelled_list<T: Serialize>(items: impl IntoIterator<Item = T>) -> Vec<String> {
    items
        .into_iter()
        .map(|c| crate::rules::spelled(&c))
        .collect()
}

fn receipt(g: &Grant, grantor: &Uscc, grantee: &Uscc) -> ConsentReceipt {
    ConsentReceipt {
        version: "KI-CR-v1.1.0".into(),
        jurisdiction: "CN".into(),
        consent_timestamp: g.consented_at.ms() / 1000,
        collection_method: g.collection_method.clone(),
        consent_receipt_id: g.auth_id.clone(),
        language: "zh-CN".into(),
        pii_principal_id: grantor.to_string(),
        pii_controllers: vec![PiiController {
            pii_controller: grantor.to_string(),
        }],
        policy_url: g.policy_url.clone(),
        services: vec![ReceiptService {
            service: "enterprise credit information sharing".into(),
            purposes: vec![ReceiptPurpose {
                purpose: crate::rules::spelled(&g.purpose),
                purpose_category: vec!["CREDIT_FINANCE".into()],
                consent_type: "EXPLICIT".into(),
                pii_category: spelled_list(g.categories.iter()),
                primary_purpose: true,
                termination: format!(
                    "revocable by the grantor; ends {} or after {} uses",
                    g.valid_until, g.max_uses
                ),
                third_party_disclosure: true,
                third_party_name: grantee.to_string(),
            }],
        }],
        sensitive: g.categories.iter().any(|c| c.is_personal()),
        signature_id: g.grantor_signature_id.clone(),
    }
}

/// R15: the decision on a request at `now` by `requester`.
pub fn decide(
    a: &Authorisation,
    requester: &Uscc,
    purpose: SharingPurpose,
    categories: &BTreeSet<DataCategory>,
    now: Instant,
) -> Result<(), (DenyReason, String)> {
    use DenyReason::*;
    if requester != &a.grantee {
        return Err((
            GranteeMismatch,
            format!("authorisation {} is granted to another party", a.auth_id),
        ));
    }
    match a.status {
        AuthorisationStatus::Active => {}
        AuthorisationStatus::Revoked => {
            return Err((Revoked, format!("authorisation {} is revoked", a.auth_id)))
        }
        AuthorisationStatus::Expired => {
            return Err((Expired, format!("authorisation {} has expired", a.auth_id)))
        }
        AuthorisationStatus::Exhausted => {
            return Err((
                Exhausted,
                format!(
                    "authorisation {} has used all {} uses",
                    a.auth_id, a.max_uses
                ),
            ))
        }
    }
    if now < a.valid_from {
        return Err((NotYetValid, format!("valid from {}", a.valid_from)));
    }
    if now > a.valid_until {
        return Err((Expired, format!("valid until {}", a.valid_until)));
    }
    if purpose != a.purpose {
        return Err((
            PurposeMismatch,
            format!(
                "authorised for {}, asked for {}",
                crate::rules::spelled(&a.purpose),
                crate::rules::spelled(&purpose)
            ),
        ));
    }
    let personal: Vec<String> = categories
        .iter()
        .filter(|c| c.is_personal())
        .filter(|c| {
            !a.personal_consent
                .as_ref()
                .is_some_and(|pc| pc.categories.contains(c))
        })
        .map(crate::rules::spelled)
        .collect();
    if !personal.is_empty() {
        return Err((
            PersonalDataWithoutConsent,
            format!(
                "{} is personal information, shared only with the person's separate consent",
                personal.join(", ")
            ),
        ));
    }
    let outside: Vec<String> = categories
        .difference(&a.categories)
        .map(crate::rules::spelled)
        .collect();
    if !outside.is_empty() {
        return Err((
            OutOfScope,
            format!("{} is not in the authorised scope", outside.join(", ")),
        ));
    }
    if a.uses >= a.max_uses {
        return Err((Exhausted, format!("all {} uses taken", a.max_uses)));
    }
    Ok(())
}

/// Executes a data-sharing call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &SharingCall,
) -> Result<(), ExecError> {
    let by = actor.uscc().clone();
    match call {
        SharingCall::Authorise(g) => {
            let grantor = crate::party::require_existing(state, &by)?;
            let grantee = parse_uscc(&g.grantee)?;
            let known = state
                .get_raw(&state_keys::party(grantee.as_str()))
                .is_some()
                || state
                    .get_raw(&state_keys::department(grantee.as_str()))
                    .is_some();
            if !known {
                return Err(ExecError::new(
                    ResultCode::NotFound,
                    format!("grantee {grantee} is neither a registered party nor a department"),
                ));
            }
            crate::seal::require_valid_signature_by(
                state,
                &g.grantor_signature_id,
                &grantor.uscc,
                Some(SignaturePurpose::Authorisation),
            )?;
            AUTHORISATIONS.require_new(state, &g.auth_id)?;
            if g.consented_at.ms()
                > ctx
                    .time_ms
                    .saturating_add(crate::customs::MAX_CLOCK_SKEW_MS)
            {
                return Err(invalid(format!(
                    "consented_at {} is in the future",
                    g.consented_at
                )));
            }
            if g.valid_until.ms() < ctx.time_ms {
                return Err(invalid(format!(
                    "valid_until {} has already passed",
                    g.valid_until
                )));
            }
            if g.valid_until.ms()
                > ctx
                    .time_ms
                    .saturating_add(MAX_VALIDITY_DAYS * crate::time::DAY_MS)
            {
                return Err(invalid(format!(
                    "valid_until {} is more than {MAX_VALIDITY_DAYS} days ahead",
                    g.valid_until
                )));
            }
            let used = keys::signature_use(&g.grantor_signature_id);
            if let Some(other) = state.get::<String>(&used) {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!(
                        "seal signature {} already signs authorisation {other}; each authorisation is signed by its own",
                        g.grantor_signature_id
                    ),
                ));
            }
            state.put(used, &g.auth_id);
            let status = AuthorisationStatus::Active;
            let a = Authorisation {
                auth_id: g.auth_id.clone(),
                grantor: grantor.uscc.clone(),
                grantor_signature_id: g.grantor_signature_id.clone(),
                grantee: grantee.clone(),
                purpose: g.purpose,
                categories: g.categories.clone(),
                valid_from: g.valid_from,
                valid_until: g.valid_until,
                max_uses: g.max_uses,
                uses: 0,
                jurisdiction: "CN".into(),
                policy_url: g.policy_url.clone(),
                collection_method: g.collection_method.clone(),
                personal_consent: g.personal_consent.clone(),
                receipt: receipt(g, &grantor.uscc, &grantee),
                status,
                history: vec![Change::now(ctx, status, &grantor.uscc, "authorised")],
            };
            BY_GRANTOR.add(state, &grantor.uscc, &g.auth_id)?;
            due::schedule(
                state,
                Date::of_ms(g.valid_until.ms()).add_days(1),
                due::Event::AuthorisationExpiry,
                &g.auth_id,
            )?;
            AUTHORISATIONS.put(state, &g.auth_id, &a);
            Ok(())
        }
        SharingCall::Revoke { auth_id, reason } => {
            let mut a = AUTHORISATIONS.load(state, auth_id)?;
            if a.grantor != by {
                return Err(ExecError::new(
                    ResultCode::Unauthorised,
                    format!(
                        "authorisation {auth_id} was given by {}; only it revokes",
                        a.grantor
                    ),
                ));
            }
            record::transition(&mut a, AuthorisationStatus::Revoked, ctx, &by, reason)?;
            AUTHORISATIONS.put(state, auth_id, &a);
            Ok(())
        }
        SharingCall::Request {
            access_id,
            auth_id,
            purpose,
            categories,
        } => {
            ACCESSES.require_new(state, access_id)?;
            let mut a = AUTHORISATIONS.load(state, auth_id)?;
            let now = Instant(ctx.time_ms);
            let decision = decide(&a, &by, *purpose, categories, now);
            let system = a.grantor.clone();
            let (result, reason, detail, returned) = match decision {
                Ok(()) => {
                    a.uses += 1;
                    if a.uses >= a.max_uses {
                        record::transition(
                            &mut a,
                            AuthorisationStatus::Exhausted,
                            ctx,
                            &system,
                            "every use taken",
                        )?;
                    }
                    (
                        AccessResult::Granted,
                        None,
                        format!("use {} of {}", a.uses, a.max_uses),
                        categories.clone(),
                    )
                }
                Err((reason, detail)) => {
                    if reason == DenyReason::Expired && a.status == AuthorisationStatus::Active {
                        record::transition(
                            &mut a,
                            AuthorisationStatus::Expired,
                            ctx,
                            &system,
                            "validity ended",
                        )?;
                    }
                    (AccessResult::Denied, Some(reason), detail, BTreeSet::new())
                }
            };
            let log = AccessLog {
                access_id: access_id.clone(),
                auth_id: auth_id.clone(),
                requester: by,
                purpose: *purpose,
                requested_categories: categories.clone(),
                returned_categories: returned,
                at: now,
                height: ctx.height,
                tx: ctx.tx,
                result,
                reason,
                detail,
                uses_after: a.uses,
            };
            // A request under someone else's authorisation is logged under the requester, so
            // strangers cannot fill the grantee's log.
            let (idx_key, cap) = if log.reason == Some(DenyReason::GranteeMismatch) {
                (
                    keys::stray_requests_of(log.requester.as_str()),
                    MAX_STRAY_REQUESTS_PER_REQUESTER,
                )
            } else {
                (keys::accesses_of(auth_id), MAX_ACCESSES_PER_AUTHORISATION)
            };
            let mut ids: Vec<String> = state.get(&idx_key).unwrap_or_default();
            if ids.len() >= cap {
                return Err(invalid(format!(
                    "{cap} requests are already logged there; no more"
                )));
            }
            ids.push(access_id.clone());
            state.put(idx_key, &ids);
            ACCESSES.put(state, access_id, &log);
            AUTHORISATIONS.put(state, auth_id, &a);
            Ok(())
        }
    }
}

/// Run by the executor the day after an authorisation's validity ended: ACTIVE → EXPIRED.
pub fn expire(state: &mut Overlay<'_>, ctx: &BlockContext, auth_id: &str) -> Result<(), ExecError> {
    let mut a = AUTHORISATIONS.load(state, auth_id)?;
    if a.status != AuthorisationStatus::Active || a.valid_until.ms() >= ctx.time_ms {
        return Ok(());
    }
    let system = a.grantor.clone();
    record::transition(
        &mut a,
        AuthorisationStatus::Expired,
        ctx,
        &system,
        "validity ended",
    )?;
    AUTHORISATIONS.put(state, auth_id, &a);
    Ok(())
}

/// R2: revokes the live authorisations of a grantor that stopped existing.
pub fn cascade_grantor(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    grantor: &Uscc,
    why: &str,
) -> Result<(), ExecError> {
    for id in BY_GRANTOR.ids(state, grantor) {
        let Some(mut a) = AUTHORISATIONS.find(state, &id)? else {
            continue;
        };
        if a.status == AuthorisationStatus::Active {
            record::transition(
                &mut a,
                AuthorisationStatus::Revoked,
                ctx,
                by,
                &format!("R2: grantor {why}"),
            )?;
            AUTHORISATIONS.put(state, &id, &a);
        }
    }
    Ok(())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "sharing_authorisation",
        "data-sharing authorisation",
        "an authorisation id (its consent receipt id)",
        "urn:uuid:6f1c2a52-3c1e-4c55-9a53-0d7f4c0b2e11",
        Id::Record(keys::authorisation),
        crate::kinds::Decoder::versioned::<Authorisation>(),
    )
    .stateful::<Authorisation>()
    .with_validity("/valid_until", &["ACTIVE"]),
    KindSpec::new(
        "party_authorisations",
        "the data-sharing authorisations a party gave",
        "a USCC",
        "91110105MA01R7K442",
        Id::Uscc(keys::authorisations_of),
        crate::kinds::Decoder::of::<Vec<String>>(),
    ),
    KindSpec::new(
        "sharing_access",
        "a logged data-sharing access request",
        "an access id",
        "ACC-1",
        Id::Record(keys::access),
        crate::kinds::Decoder::of::<AccessLog>(),
    ),
    KindSpec::new(
        "stray_requests",
        "a requester's requests under authorisations not granted to it",
        "a USCC",
        "91110102MA00BK9T6J",
        Id::Uscc(keys::stray_requests_of),
        crate::kinds::Decoder::of::<Vec<String>>(),
    ),
    KindSpec::new(
        "authorisation_accesses",
        "the access requests made under an authorisation",
        "an authorisation id",
        "urn:uuid:6f1c2a52-3c1e-4c55-9a53-0d7f4c0b2e11",
        Id::Record(keys::accesses_of),
        crate::kinds::Decoder::of::<Vec<String>>(),
    ),
];
