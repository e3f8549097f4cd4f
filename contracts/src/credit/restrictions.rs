//! The restriction index: for each party and restriction code, the records in force that
//! impose it (list entries, and dishonesty records that restrict by themselves: R3). Kept up
//! to date by every change of those records, in the same transaction, so that its absence is
//! a proof: "party X is under no NO_GOV_PROCUREMENT restriction at height H" is the proof that
//! the key `restriction/<X>/NO_GOV_PROCUREMENT` is absent from the state at H (the kind
//! `restriction`, id `X:NO_GOV_PROCUREMENT`, answered by `GET /v1/state` and bundles like any
//! record).

use serde::{Deserialize, Serialize};

use crate::error::{invalid, ExecError};
use crate::ids::Uscc;
use crate::state::Overlay;

/// Most sources of one restriction on one party.
pub const MAX_SOURCES: usize = 256;

/// A restriction (domain.md, code list "Restriction").
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RestrictionCode {
    /// No government procurement (R5).
    NoGovProcurement,
    /// No tendering in construction tenders.
    NoTendering,
    /// No notification-commitment route (R3).
    NoNotificationCommitment,
    /// No awards or demonstration titles.
    NoHonours,
    /// No fiscal funds.
    NoFiscalFunds,
    /// Key supervision (targeted inspections every cycle, R7).
    KeySupervision,
    /// No fee reductions or priority examination.
    NoFeeReduction,
}

impl RestrictionCode {
    /// Every code.
    pub const ALL: [RestrictionCode; 7] = [
        RestrictionCode::NoGovProcurement,
        RestrictionCode::NoTendering,
        RestrictionCode::NoNotificationCommitment,
        RestrictionCode::NoHonours,
        RestrictionCode::NoFiscalFunds,
        RestrictionCode::KeySupervision,
        RestrictionCode::NoFeeReduction,
    ];

    /// The code as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RestrictionCode::NoGovProcurement => "NO_GOV_PROCUREMENT",
            RestrictionCode::NoTendering => "NO_TENDERING",
            RestrictionCode::NoNotificationCommitment => "NO_NOTIFICATION_COMMITMENT",
            RestrictionCode::NoHonours => "NO_HONOURS",
            RestrictionCode::NoFiscalFunds => "NO_FISCAL_FUNDS",
            RestrictionCode::KeySupervision => "KEY_SUPERVISION",
            RestrictionCode::NoFeeReduction => "NO_FEE_REDUCTION",
        }
    }

    /// The code spelled `s`.
    pub fn parse(s: &str) -> Option<RestrictionCode> {
        RestrictionCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A record that imposes a restriction.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A list entry, by id.
    ListEntry(String),
    /// A dishonesty record, by id.
    Dishonesty(String),
}

/// The state key of (`party`, `code`).
pub fn key(party: &str, code: RestrictionCode) -> Vec<u8> {
    [
        b"restriction/".as_slice(),
        party.as_bytes(),
        b"/",
        code.as_str().as_bytes(),
    ]
    .concat()
}

/// The kind's id rule: `USCC:CODE`.
pub fn key_of_id(id: &str) -> Result<Vec<u8>, String> {
    let rule = || {
        format!(
            "a restriction id is USCC:CODE, CODE one of {}",
            RestrictionCode::ALL.map(|c| c.as_str()).join(", ")
        )
    };
    let (uscc, code) = id.split_once(':').ok_or_else(rule)?;
    Uscc::parse(uscc).map_err(|e| e.to_string())?;
    let code = RestrictionCode::parse(code).ok_or_else(rule)?;
    Ok(key(uscc, code))
}

/// The sources of `code` on `party` in force.
pub fn sources(state: &Overlay<'_>, party: &Uscc, code: RestrictionCode) -> Vec<Source> {
    state.get(&key(party.as_str(), code)).unwrap_or_default()
}

/// Adds `source` to (`party`, `code`).
pub fn add(
    state: &mut Overlay<'_>,
    party: &Uscc,
    code: RestrictionCode,
    source: &Source,
) -> Result<(), ExecError> {
    let mut list = sources(state, party, code);
    if list.contains(source) {
        return Ok(());
    }
    if list.len() >= MAX_SOURCES {
        return Err(invalid(format!(
            "{party} already has {MAX_SOURCES} records imposing {}",
            code.as_str()
        )));
    }
    list.push(source.clone());
    list.sort();
    state.put(key(party.as_str(), code), &list);
    Ok(())
}

/// Removes `source` from (`party`, `code`); the key goes when its last source does, so that
/// its absence can be proven.
pub fn remove(state: &mut Overlay<'_>, party: &Uscc, code: RestrictionCode, source: &Source) {
    let mut list = sources(state, party, code);
    let before = list.len();
    list.retain(|s| s != source);
    if list.len() == before {
        return;
    }
    if list.is_empty() {
        state.delete(key(party.as_str(), code));
    } else {
        state.put(key(party.as_str(), code), &list);
    }
}
