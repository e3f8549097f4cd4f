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
//! DEREGISTERED and MOVED_OUT are terminal.
//!
//! # Sites and keys
//! - add site (一照多址): REGISTRAR whose jurisdiction covers the site's region; with the
//!   policy's `site_same_district`, only in the party's own district. EXISTING parties only.
//! - set keys: REGISTRAR binds the party's signing keys; a key signs as ENTERPRISE for that
//!   party and for nothing else. A key belongs to at most one party and no department.
//!
//! # R2 cascade
//! 吊销 and deregistration both take the party's live licences to 04 CANCELLED (ADR 0011) and
//! its seals to REVOKED; open applications are refused. The one list of what closes is
//! [`crate::rules::r2_party_closure`].

use std::collections::BTreeSet;

use concordat_primitives::{Hash, PublicKey};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::context::BlockContext;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{parse_uscc, validate_id, validate_region_code, validate_text, Uscc};
use crate::kinds::{Id, KindSpec, Versioned};
use crate::record::{self, stateful, Change};
use crate::roles::Role;
use crate::rules::r2_party_closure::{close_everything_of, Closure};
use crate::state::{keys, require, Overlay};

/// Longest party name (bytes).
pub const MAX_PARTY_NAME_BYTES: usize = 300;
/// Longest address (bytes).
pub const MAX_ADDRESS_BYTES: usize = 500;
/// Longest basis document reference (bytes).
pub const MAX_BASIS_BYTES: usize = 200;
/// Most sites per party.
pub const MAX_SITES: usize = 256;
/// Most signing keys per party.
pub const MAX_PARTY_KEYS: usize = 16;
/// Longest site id.
pub const MAX_SITE_ID_BYTES: usize = 64;

/// A business site (经营场所) of a party.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Id, unique within the party.
    pub site_id: String,
    /// GB/T 2260 region.
    pub region_code: String,
    /// Address.
    pub address: String,
    /// Block time added (ms).
    pub added_at_ms: u64,
    /// The registrar that added it.
    pub added_by: Uscc,
}

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
    /// Business sites (一照多址).
    pub sites: Vec<Site>,
    /// Keys that sign for the party (as ENTERPRISE).
    pub keys: BTreeSet<PublicKey>,
    /// Every status change, oldest first, from the registration on (appended to the record's
    /// format later: parties stored before it decode without it, see [`crate::kinds`]).
    pub history: Vec<Change<PartyStatus>>,
}

stateful!(
    Party,
    PartyStatus,
    "party",
    uscc,
    [
        (Existing, RevokedLicence),
        (Existing, Deregistered),
        (Existing, MovedOut),
        (RevokedLicence, Deregistered),
    ]
);

impl Versioned for Party {
    const APPENDED: &'static [&'static str] = &["history"];
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
    /// 一照多址: add a business site (REGISTRAR of that jurisdiction).
    AddSite {
        /// USCC.
        uscc: String,
        /// New site id.
        site_id: String,
        /// GB/T 2260 region of the site.
        region_code: String,
        /// Address.
        address: String,
    },
    /// Bind the party's signing keys, replacing any earlier ones (REGISTRAR).
    SetKeys {
        /// USCC.
        uscc: String,
        /// The keys (at most 16; empty unbinds all).
        keys: BTreeSet<PublicKey>,
    },
}

impl PartyCall {
    /// The roles that may make this call.
    pub fn allowed_roles(&self) -> &'static [Role] {
        match self {
            PartyCall::Register { .. }
            | PartyCall::Deregister { .. }
            | PartyCall::MoveOut { .. }
            | PartyCall::AddSite { .. }
            | PartyCall::SetKeys { .. } => &[Role::Registrar],
            PartyCall::RevokeLicence { .. } => &[Role::Registrar, Role::EnforcementAuthority],
        }
    }

    /// The party the call is about.
    pub fn uscc(&self) -> &str {
        match self {
            PartyCall::Register { uscc, .. }
            | PartyCall::RevokeLicence { uscc, .. }
            | PartyCall::Deregister { uscc, .. }
            | PartyCall::MoveOut { uscc, .. }
            | PartyCall::AddSite { uscc, .. }
            | PartyCall::SetKeys { uscc, .. } => uscc,
        }
    }

    /// The checks that need no state: identifiers, codes and text limits. The node runs them
    /// at admission (a call failing them never reaches a block) and the client before signing.
    pub fn precheck(&self) -> Result<(), ExecError> {
        parse_uscc(self.uscc())?;
        match self {
            PartyCall::Register {
                name,
                registered_address,
                ..
            } => {
                validate_text("name", name, MAX_PARTY_NAME_BYTES)?;
                validate_text("registered address", registered_address, MAX_ADDRESS_BYTES)
            }
            PartyCall::RevokeLicence { basis, .. } | PartyCall::Deregister { basis, .. } => {
                validate_text("basis", basis, MAX_BASIS_BYTES)
            }
            PartyCall::MoveOut { to_region, .. } => validate_region_code(to_region),
            PartyCall::AddSite {
                site_id,
                region_code,
                address,
                ..
            } => {
                validate_id("site_id", site_id, MAX_SITE_ID_BYTES)?;
                validate_region_code(region_code)?;
                validate_text("address", address, MAX_ADDRESS_BYTES)
            }
            PartyCall::SetKeys { keys, .. } => {
                if keys.len() > MAX_PARTY_KEYS {
                    return Err(invalid(format!("at most {MAX_PARTY_KEYS} keys per party")));
                }
                Ok(())
            }
        }
    }
}

/// Every party call is made within the department's jurisdiction (domain.md A: registration,
/// sites, keys, 吊销, 注销 and 迁出 alike): the party's region (USCC characters 3 to 8) must
/// lie in the department's region.
fn require_jurisdiction(actor: &Actor, uscc: &Uscc) -> Result<(), ExecError> {
    if actor.covers(uscc.region()) {
        return Ok(());
    }
    Err(ExecError::new(
        ResultCode::Unauthorised,
        format!(
            "party {uscc} (region {}) is outside the jurisdiction {} of {}",
            uscc.region(),
            actor.jurisdiction(),
            actor.uscc()
        ),
    ))
}

/// The party `uscc`, which must be EXISTING (R2).
pub fn require_existing(state: &Overlay<'_>, uscc: &Uscc) -> Result<Party, ExecError> {
    let p: Party = require(state, &keys::party(uscc.as_str()), || {
        format!("party {uscc} is not registered")
    })?;
    if p.status != PartyStatus::Existing {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "party {uscc} is {:?}; only EXISTING parties may do this (R2)",
                p.status
            ),
        ));
    }
    Ok(p)
}

/// The party a signing key belongs to, if any.
pub fn signer_party(state: &Overlay<'_>, key: &PublicKey) -> Option<Party> {
    let uscc: Uscc = state.get(&keys::party_signer(key))?;
    state.get(&keys::party(uscc.as_str()))
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
    ctx: &BlockContext,
    by: &Uscc,
    basis: String,
) -> Result<Party, ExecError> {
    record::transition(&mut party, to, ctx, by, &basis)?;
    party.updated_at_height = ctx.height;
    party.updated_at_ms = ctx.time_ms;
    party.basis = Some(basis);
    Ok(party)
}

fn add_site(
    state: &Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    mut p: Party,
    site: (&str, &str, &str),
) -> Result<Party, ExecError> {
    let (site_id, region_code, address) = site;
    if p.status != PartyStatus::Existing {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "party {} is {:?}; sites are added only to EXISTING parties",
                p.uscc, p.status
            ),
        ));
    }
    if !actor.covers(region_code) {
        return Err(ExecError::new(
            ResultCode::Unauthorised,
            format!(
                "site region {region_code} is outside the jurisdiction {} of registrar {}",
                actor.jurisdiction(),
                actor.uscc()
            ),
        ));
    }
    if crate::policy::current(state).params.site_same_district && region_code != p.region_code {
        return Err(invalid(format!(
            "site region {region_code} is outside the party's district {} (policy: sites only in the same district)",
            p.region_code
        )));
    }
    if p.sites.iter().any(|s| s.site_id == site_id) {
        return Err(ExecError::new(
            ResultCode::AlreadyExists,
            format!("party {} already has site {site_id}", p.uscc),
        ));
    }
    if p.sites.len() >= MAX_SITES {
        return Err(invalid(format!(
            "party {} already has {MAX_SITES} sites",
            p.uscc
        )));
    }
    p.sites.push(Site {
        site_id: site_id.to_string(),
        region_code: region_code.to_string(),
        address: address.to_string(),
        added_at_ms: ctx.time_ms,
        added_by: actor.uscc().clone(),
    });
    p.updated_at_height = ctx.height;
    p.updated_at_ms = ctx.time_ms;
    Ok(p)
}

fn set_keys(
    state: &mut Overlay<'_>,
    mut p: Party,
    new: &BTreeSet<PublicKey>,
) -> Result<Party, ExecError> {
    for k in new {
        if state.get_raw(&keys::signer(k)).is_some() {
            return Err(ExecError::new(
                ResultCode::AlreadyExists,
                format!("key {k} is a department member key"),
            ));
        }
        if let Some(owner) = state.get::<Uscc>(&keys::party_signer(k)) {
            if owner != p.uscc {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("key {k} already signs for party {owner}"),
                ));
            }
        }
    }
    for k in &p.keys {
        state.delete(keys::party_signer(k));
    }
    for k in new {
        state.put(keys::party_signer(k), &p.uscc);
    }
    p.keys = new.clone();
    Ok(p)
}

/// Executes a party call for `actor` (whose role was already checked).
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &PartyCall,
) -> Result<(), ExecError> {
    require_jurisdiction(actor, &parse_uscc(call.uscc())?)?;
    let updated = match call {
        PartyCall::Register {
            uscc,
            name,
            legal_rep_ref,
            registered_address,
        } => {
            let uscc = parse_uscc(uscc)?;
            if state.get_raw(&keys::party(uscc.as_str())).is_some() {
                return Err(ExecError::new(
                    ResultCode::AlreadyExists,
                    format!("party {uscc} is already registered"),
                ));
            }
            Party {
                history: vec![Change::now(
                    ctx,
                    PartyStatus::Existing,
                    actor.uscc(),
                    "registered",
                )],
                kind: PartyKind::of(&uscc),
                region_code: uscc.region().to_string(),
                uscc,
                name: name.clone(),
                legal_rep_ref: *legal_rep_ref,
                registered_address: registered_address.clone(),
                status: PartyStatus::Existing,
                registrar: actor.uscc().clone(),
                updated_at_height: ctx.height,
                updated_at_ms: ctx.time_ms,
                basis: None,
                sites: Vec::new(),
                keys: BTreeSet::new(),
            }
        }
        PartyCall::RevokeLicence { uscc, basis } => {
            let p = load(state, uscc)?;
            let p = transition(
                p,
                PartyStatus::RevokedLicence,
                ctx,
                actor.uscc(),
                basis.clone(),
            )?;
            close_everything_of(state, ctx, actor.uscc(), &p.uscc, Closure::LicenceRevoked)?;
            p
        }
        PartyCall::Deregister { uscc, basis } => {
            let p = load(state, uscc)?;
            let p = transition(
                p,
                PartyStatus::Deregistered,
                ctx,
                actor.uscc(),
                basis.clone(),
            )?;
            close_everything_of(state, ctx, actor.uscc(), &p.uscc, Closure::Deregistered)?;
            p
        }
        PartyCall::AddSite {
            uscc,
            site_id,
            region_code,
            address,
        } => {
            let p = load(state, uscc)?;
            add_site(state, ctx, actor, p, (site_id, region_code, address))?
        }
        PartyCall::SetKeys { uscc, keys: new } => {
            let p = load(state, uscc)?;
            set_keys(state, p, new)?
        }
        PartyCall::MoveOut { uscc, to_region } => {
            let p = load(state, uscc)?;
            if p.region_code == *to_region {
                return Err(invalid(format!(
                    "party {} is already in region {to_region}",
                    p.uscc
                )));
            }
            let basis = format!("moved out to {to_region}");
            transition(p, PartyStatus::MovedOut, ctx, actor.uscc(), basis)?
        }
    };
    state.put(keys::party(updated.uscc.as_str()), &updated);
    Ok(())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[KindSpec::new(
    "party",
    "party (enterprise or person)",
    "a USCC",
    "91110105MA01R7K442",
    Id::Uscc(keys::party),
    crate::kinds::Decoder::versioned::<Party>(),
)
.stateful::<Party>()];
