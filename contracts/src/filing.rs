//! Paperless filings (R10): tax, social-security and housing-fund filings are accepted only
//! with a VALID seal signature, by a seal of the filing party, of a seal type the policy allows
//! for that filing, made for that purpose, over the filed document's hash.
//!
//! A refused filing records nothing (the transaction's result says why); an accepted one is
//! stored under its id.

use concordat_primitives::Hash;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::context::BlockContext;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{validate_id, validate_text, Uscc};
use crate::kinds::{Id, KindSpec};
use crate::party;
use crate::policy;
use crate::roles::Role;
use crate::seal::{self, SignaturePurpose};
use crate::state::{keys, Overlay};

/// Longest filing id.
pub const MAX_FILING_ID_BYTES: usize = 64;

/// Which filing.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FilingKind {
    /// Tax.
    Tax,
    /// Social security.
    SocialSecurity,
    /// Housing fund.
    HousingFund,
}

impl FilingKind {
    /// The signature purpose a filing of this kind must carry.
    pub fn purpose(self) -> SignaturePurpose {
        match self {
            FilingKind::Tax => SignaturePurpose::TaxFiling,
            FilingKind::SocialSecurity => SignaturePurpose::SocialSecurity,
            FilingKind::HousingFund => SignaturePurpose::HousingFund,
        }
    }
}

/// An accepted filing.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    /// Id.
    pub filing_id: String,
    /// Kind.
    pub kind: FilingKind,
    /// The filing party.
    pub filer: Uscc,
    /// Period (e.g. 2026-05).
    pub period: String,
    /// Hash of the filed document.
    pub doc_hash: Hash,
    /// The seal signature on it.
    pub seal_signature_id: String,
    /// The seal used.
    pub es_id: String,
    /// Block time accepted (ms).
    pub accepted_at_ms: u64,
    /// Policy version used.
    pub policy_version: u64,
}

/// Filing calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum FilingCall {
    /// File (ENTERPRISE, for itself).
    Submit {
        /// New id.
        filing_id: String,
        /// Kind.
        kind: FilingKind,
        /// Period.
        period: String,
        /// Document hash.
        doc_hash: Hash,
        /// The recorded seal signature over `doc_hash`.
        seal_signature_id: String,
    },
}

impl FilingCall {
    /// The roles that may make this call.
    pub fn allowed_roles(&self) -> &'static [Role] {
        &[Role::Enterprise]
    }

    /// The checks that need no state: run at admission, by the executor before the call, and
    /// by the client before signing.
    pub fn precheck(&self) -> Result<(), ExecError> {
        let FilingCall::Submit {
            filing_id,
            period,
            seal_signature_id,
            ..
        } = self;
        validate_id("filing_id", filing_id, MAX_FILING_ID_BYTES)?;
        validate_text("period", period, 32)?;
        validate_id(
            "seal_signature_id",
            seal_signature_id,
            crate::seal::MAX_ES_ID_BYTES,
        )
    }
}

/// Executes a filing call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &FilingCall,
) -> Result<(), ExecError> {
    let FilingCall::Submit {
        filing_id,
        kind,
        period,
        doc_hash,
        seal_signature_id,
    } = call;
    let filer = party::require_existing(state, actor.uscc())?;
    if state.get_raw(&keys::filing(filing_id)).is_some() {
        return Err(ExecError::new(
            ResultCode::AlreadyExists,
            format!("filing {filing_id} already exists"),
        ));
    }
    let (sig, seal) = seal::require_valid_signature_by(
        state,
        seal_signature_id,
        &filer.uscc,
        Some(kind.purpose()),
    )?;
    if sig.doc_hash != *doc_hash {
        return Err(invalid(format!(
            "seal signature {seal_signature_id} is over another document ({}), not {doc_hash}",
            sig.doc_hash
        )));
    }
    let pol = policy::current(state);
    let allowed = match kind {
        FilingKind::Tax => &pol.params.filing_seal_types.tax,
        FilingKind::SocialSecurity => &pol.params.filing_seal_types.social_security,
        FilingKind::HousingFund => &pol.params.filing_seal_types.housing_fund,
    };
    if !allowed.contains(&seal.seal_type) {
        return Err(invalid(format!(
            "R10: a {kind:?} filing needs a seal of type {}; seal {} is type {}",
            allowed.join(" or "),
            seal.es_id,
            seal.seal_type
        )));
    }
    let f = Filing {
        filing_id: filing_id.clone(),
        kind: *kind,
        filer: filer.uscc,
        period: period.clone(),
        doc_hash: *doc_hash,
        seal_signature_id: seal_signature_id.clone(),
        es_id: seal.es_id,
        accepted_at_ms: ctx.time_ms,
        policy_version: pol.version,
    };
    state.put(keys::filing(filing_id), &f);
    Ok(())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[KindSpec::new(
    "filing",
    "paperless filing",
    "a filing id",
    "F-E1-VAT-2026-05",
    Id::Record(keys::filing),
    crate::kinds::Decoder::of::<Filing>(),
)];
