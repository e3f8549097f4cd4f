//! The party registry (record kind A, 市场主体): every enterprise and authority keyed by its
//! USCC (GB 32100).
//!
//! # State machine (who: REGISTRAR unless stated)
//! - register: — → EXISTING (存续)
//! - revoke business licence: EXISTING → REVOKED_LICENCE (吊销), by REGISTRAR or
//!   ENFORCEMENT_AUTHORITY
//! - deregister: EXISTING or REVOKED_LICENCE → DEREGISTERED (注销)
//! - move out: EXISTING → MOVED_OUT (迁出)
//!
//! DEREGISTERED and MOVED_OUT are terminal. The cascade to licences, seals and authorisations
//! (R2) arrives with those modules.

use concordat_primitives::Hash;
use serde::{Deserialize, Serialize};

use crate::error::{invalid, ExecError, ResultCode};
use crate::executor::BlockContext;
use crate::governance::Department;
use crate::ids::{validate_region_code, validate_text, Uscc};
use crate::roles::Role;
use crate::state::{keys, require, Overlay};

/// Longest party name (bytes).
pub const MAX_PARTY_NAME_BYTES: usize = 300;
/// Longest address (bytes).
pub const MAX_ADDRESS_BYTES: usize = 500;
/// Longest basis document reference (bytes).
pub const MAX_BASIS_BYTES: usize = 200;

/// What kind of organisation, from USCC positions 1-2.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PartyKind {
    /// 91: enterprise.
    Enterprise,
    /// 92: individual business (个体工商户).
    IndividualBusiness,
    /// 93: farmers' cooperative.
    FarmersCooperative,
    /// 11: state organ.
    Organ,
    /// 12: public institution.
    PublicInstitution,
    /// 5x: social organisation.
    SocialOrganisation,
    /// Any other category.
    Other,
}

impl PartyKind {
    /// Derives the kind from a USCC.
    pub fn of(uscc: &Uscc) -> PartyKind {
        match uscc.category() {
            "91" => PartyKind::Enterprise,
            "92" => PartyKind::IndividualBusiness,
            "93" => PartyKind::FarmersCooperative,
            "11" => PartyKind::Organ,
            "12" => PartyKind::PublicInstitution,
            c if c.starts_with('5') => PartyKind::SocialOrganisation,
            _ => PartyKind::Other,
        }
    }
}

/// Party status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PartyStatus {
    /// 存续: in business.
    Existing,
    /// 吊销: business licence revoked.
    RevokedLicence,
    /// 注销: deregistered (terminal).
    Deregistered,
    /// 迁出: moved out of the jurisdiction (terminal).
    MovedOut,
}

/// A party record.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// Its USCC.
    pub uscc: Uscc,
    /// Registered name.
    pub name: String,
    /// Kind, from the USCC.
    pub kind: PartyKind,
    /// GB/T 2260 region of the registering authority (USCC positions 3-8).
    pub region_code: String,
    /// Salted hash of the legal representative's ID (the ID itself stays off-ledger).
    pub legal_rep_ref: Option<Hash>,
    /// Registered address.
    pub registered_address: String,
    /// Current status.
    pub status: PartyStatus,
    /// The registrar department that registered it.
    pub registrar: Uscc,
    /// Height of the last change.
    pub updated_at_height: u64,
    /// Block time of the last change (ms since the Unix epoch).
    pub updated_at_ms: u64,
    /// Basis document of the last status change, if any.
    pub basis: Option<String>,
}

/// Party registry calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum PartyCall {
    /// Register a new party (REGISTRAR).
    Register {
        /// USCC (validated).
        uscc: String,
        /// Registered name.
        name: String,
        /// Salted hash of the legal representative's ID.
        legal_rep_ref: Option<Hash>,
        /// Registered address.
        registered_address: String,
    },
    /// 吊销: revoke the business licence (REGISTRAR or ENFORCEMENT_AUTHORITY).
    RevokeLicence {
        /// USCC.
        uscc: String,
        /// Penalty decision reference.
        basis: String,
    },
    /// 注销: deregister (REGISTRAR).
    Deregister {
        /// USCC.
        uscc: String,
        /// Basis document.
        basis: String,
    },
    /// 迁出: move out to another region (REGISTRAR).
    MoveOut {
        /// USCC.
        uscc: String,
        /// Destination GB/T 2260 region.
        to_region: String,
    },
}

impl PartyCall {
    /// The roles that may make this call.
    pub fn allowed_roles(&self) -> &'static [Role] {
        match self {
            PartyCall::Register { .. }
            | PartyCall::Deregister { .. }
            | PartyCall::MoveOut { .. } => &[Role::Registrar],
            PartyCall::RevokeLicence { .. } => &[Role::Registrar, Role::EnforcementAuthority],
        }
    }
}

fn parse_uscc(s: &str) -> Result<Uscc, ExecError> {
    Uscc::parse(s).map_err(|e| ExecError::new(ResultCode::BadIdentifier, e.to_string()))
}

fn load(state: &Overlay<'_>, uscc: &str) -> Result<Party, ExecError> {
    let uscc = parse_uscc(uscc)?;
    require(state, &keys::party(uscc.as_str()), || {
        format!("party {uscc} is not registered")
    })
}

fn transition(
    mut party: Party,
    to: PartyStatus,
    allowed_from: &[PartyStatus],
    ctx: &BlockContext,
    basis: Option<String>,
) -> Result<Party, ExecError> {
    if !allowed_from.contains(&party.status) {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "party {} is {:?}; it cannot become {:?}",
                party.uscc, party.status, to
            ),
        ));
    }
    party.status = to;
    party.updated_at_height = ctx.height;
    party.updated_at_ms = ctx.time_ms;
    party.basis = basis;
    Ok(party)
}

/// Executes a party call for a signer of `dept` (whose role was already checked).
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    dept: &Department,
    call: &PartyCall,
) -> Result<(), ExecError> {
    let updated = match call {
        PartyCall::Register {
            uscc,
            name,
            legal_rep_ref,
            registered_address,
        } => {
            let uscc = parse_uscc(uscc)?;
            validate_text("name", name, MAX_PARTY_NAME_BYTES).map_err(invalid)?;
            validate_text("registered address", registered_address, MAX_ADDRESS_BYTES)
                .map_err(invalid)?;
            if state.get_raw(&keys::party(uscc.as_str())).is_some() {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("party {uscc} is already registered"),
                ));
            }
            Party {
                kind: PartyKind::of(&uscc),
                region_code: uscc.region().to_string(),
                uscc,
                name: name.clone(),
                legal_rep_ref: *legal_rep_ref,
                registered_address: registered_address.clone(),
                status: PartyStatus::Existing,
                registrar: dept.uscc.clone(),
                updated_at_height: ctx.height,
                updated_at_ms: ctx.time_ms,
                basis: None,
            }
        }
        PartyCall::RevokeLicence { uscc, basis } => {
            validate_text("basis", basis, MAX_BASIS_BYTES).map_err(invalid)?;
            let p = load(state, uscc)?;
            transition(
                p,
                PartyStatus::RevokedLicence,
                &[PartyStatus::Existing],
                ctx,
                Some(basis.clone()),
            )?
        }
        PartyCall::Deregister { uscc, basis } => {
            validate_text("basis", basis, MAX_BASIS_BYTES).map_err(invalid)?;
            let p = load(state, uscc)?;
            let from = [PartyStatus::Existing, PartyStatus::RevokedLicence];
            transition(
                p,
                PartyStatus::Deregistered,
                &from,
                ctx,
                Some(basis.clone()),
            )?
        }
        PartyCall::MoveOut { uscc, to_region } => {
            validate_region_code(to_region)
                .map_err(|m| ExecError::new(ResultCode::BadIdentifier, m))?;
            let p = load(state, uscc)?;
            if p.region_code == *to_region {
                return Err(invalid(format!(
                    "party {} is already in region {to_region}",
                    p.uscc
                )));
            }
            let basis = Some(format!("moved out to {to_region}"));
            transition(
                p,
                PartyStatus::MovedOut,
                &[PartyStatus::Existing],
                ctx,
                basis,
            )?
        }
    };
    state.put(keys::party(updated.uscc.as_str()), &updated);
    Ok(())
}
