//! Decoding stored values by query kind: the one mapping from a kind of
//! `GET /v1/state/{kind}/{id}` to its record type, shared by the node (which shows it) and the
//! client (which decodes verified bytes).

use serde::Serialize;

use crate::commitment::Commitment;
use crate::credit::{DishonestyRecord, ReapplyBar};
use crate::filing::Filing;
use crate::governance::{Department, Proposal, Roster};
use crate::licence::Licence;
use crate::party::Party;
use crate::policy::Policy;
use crate::recognition::{Agreement, RecognitionDecision};
use crate::seal::{HexBytes, Seal, SealSignature, Tsa};
use concordat_primitives::encoding;

/// A licence as shown: the record plus its e-licence status code.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct LicenceView {
    /// The record.
    #[serde(flatten)]
    pub licence: Licence,
    /// 01..07 or 99; `null` before issue.
    pub status_code: Option<&'static str>,
}

/// A decoded record (its JSON is the record's own serde form).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(untagged)]
#[allow(missing_docs, clippy::large_enum_variant)]
pub enum Record {
    Party(Party),
    Department(Department),
    Roster(Roster),
    Proposal(Proposal),
    Nonce(u64),
    Policy(Policy),
    Licence(LicenceView),
    Commitment(Commitment),
    Dishonesty(DishonestyRecord),
    ReapplyBar(ReapplyBar),
    Seal(Seal),
    SealSignature(SealSignature),
    Tsa(Tsa),
    Agreement(Agreement),
    Recognition(RecognitionDecision),
    Filing(Filing),
    /// `party_licences`, `party_records`, `party_seals`: the ids, oldest first.
    Ids(Vec<String>),
    /// `raw`: the bytes.
    Raw(HexBytes),
}

/// Decodes the stored bytes of a `kind` (one of [`crate::state::keys::QUERY_KINDS`]).
pub fn decode_record(kind: &str, bytes: &[u8]) -> Result<Record, String> {
    fn d<T: Serialize + serde::de::DeserializeOwned>(b: &[u8]) -> Result<T, String> {
        encoding::from_bytes(b).map_err(|e| e.to_string())
    }
    Ok(match kind {
        "party" => Record::Party(d(bytes)?),
        "department" => Record::Department(d(bytes)?),
        "validators" => Record::Roster(d(bytes)?),
        "proposal" => Record::Proposal(d(bytes)?),
        "nonce" => Record::Nonce(d(bytes)?),
        "policy" => Record::Policy(d(bytes)?),
        "licence" => {
            let licence: Licence = d(bytes)?;
            let status_code = licence.status_code();
            Record::Licence(LicenceView {
                licence,
                status_code,
            })
        }
        "commitment" => Record::Commitment(d(bytes)?),
        "dishonesty" => Record::Dishonesty(d(bytes)?),
        "reapply_bar" => Record::ReapplyBar(d(bytes)?),
        "seal" => Record::Seal(d(bytes)?),
        "seal_signature" => Record::SealSignature(d(bytes)?),
        "tsa" => Record::Tsa(d(bytes)?),
        "agreement" => Record::Agreement(d(bytes)?),
        "recognition" => Record::Recognition(d(bytes)?),
        "filing" => Record::Filing(d(bytes)?),
        "party_licences" | "party_records" | "party_seals" => Record::Ids(d(bytes)?),
        "raw" => Record::Raw(HexBytes(bytes.to_vec())),
        other => return Err(format!("unknown kind {other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::keys::QUERY_KINDS;

    #[test]
    fn every_query_kind_has_a_decoder() {
        for kind in QUERY_KINDS {
            // Wrong bytes fail to decode, but never as an unknown kind.
            if let Err(e) = decode_record(kind, &[0xff; 3]) {
                assert!(!e.contains("unknown kind"), "{kind}: {e}");
            }
        }
        assert!(matches!(decode_record("nope", &[]), Err(e) if e.contains("unknown kind")));
    }
}
