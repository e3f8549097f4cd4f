//! Licences in W3C Bitstring Status Lists: which status sets which bit, and the lists derived
//! from the state.

use super::*;

use crate::ids::Uscc;
use crate::state::{keys, Overlay};

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

/// A licence whose status-list bits may have changed in a block: its index, its issuer and
/// its status after the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The licence's status-list index.
    pub index: u64,
    /// Whose lists hold the index.
    pub issuer: Uscc,
    /// The status after the block.
    pub status: LicenceStatus,
}

/// The licences a block's writes touched that hold a status-list index: enough to keep every
/// issuer's lists up to date block by block instead of rebuilding them from every licence
/// ever issued ([`status_list`] gives the same bits from the state).
pub fn status_changes(writes: &crate::state::WriteSet) -> Vec<StatusChange> {
    let prefix = keys::licence("");
    writes
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter_map(|(_, v)| {
            let l: Licence = concordat_primitives::encoding::from_bytes(v.as_deref()?).ok()?;
            Some(StatusChange {
                index: l.status_index?,
                issuer: l.issuer,
                status: l.status,
            })
        })
        .collect()
}
