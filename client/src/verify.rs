//! Verifying the node's answers without trusting the node.
//!
//! - [`verify_header`]: a header (canonical BCS bytes), its commit certificate and the validator
//!   set that signed it: the set hashes to `header.validator_set_hash` (and, when the caller
//!   knows it, to a trusted hash), and the certificate commits `header.hash()` at
//!   `header.height` with valid signatures of strictly more than 2/3 of the set's power.
//! - [`verify_state_answer`]: an answer of `GET /v1/state/{kind}/{id}?proof=true`: the header
//!   as above, then the state proof of `value_bytes` (or of absence) for the key against
//!   `header.state_root`. The key is recomputed from `kind` and `id` ([`state_key`]), never
//!   taken from the node.
//! - [`verify_txlog_answer`]: an answer of `GET /v1/txlog/{index}`: the leaf's RFC 9162 hash is
//!   leaf `index` of the log of `size` leaves with root `root`, and (given a verified header)
//!   that root and size are the header's.
//!
//! Everything the node sends besides bytes that are checked (`value`, the JSON `header`, the
//! JSON `record`) is a convenience: it is compared against the verified bytes and an answer
//! whose convenience fields disagree is refused. What a caller shows as verified must come from
//! the returned typed results ([`VerifiedState::value_bytes`], [`decode_value`]).
//!
//! Pure: no IO, no clock; batch signature verification takes the caller's RNG.

use concordat_consensus::{CertificateError, CommitCertificate};
use concordat_contracts::executor::TxLogRecord;
use concordat_contracts::kinds;
use concordat_primitives::encoding::{self, DecodeError};
use concordat_primitives::ledger::{Header, ValidatorSet};
use concordat_primitives::merkle_log::{self, InclusionProof, LogProofError};
use concordat_primitives::state::{self, StateProof, StateProofError};
use concordat_primitives::Hash;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

/// Largest header, certificate or validator set accepted (bytes); real ones are far smaller.
const MAX_PART_BYTES: usize = 1024 * 1024;

/// Why an answer was refused. Each variant names the check that failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// A field the verification needs is missing from the answer.
    #[error("the answer has no `{0}` (was it asked for with proof=true?)")]
    Missing(&'static str),
    /// A field is not (lowercase) hex of the right length.
    #[error("`{field}` is not valid hex: {detail}")]
    Hex {
        /// The field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Unknown state kind.
    #[error("unknown state kind {0:?} (expected one of {kinds})", kinds = kinds::names().join(", "))]
    UnknownKind(String),
    /// The id does not fit the kind.
    #[error("bad id {id:?} for kind {kind}: {detail}")]
    BadId {
        /// The kind.
        kind: String,
        /// The id.
        id: String,
        /// What is wrong.
        detail: String,
    },
    /// The answer is about another kind or id than asked.
    #[error("the answer is about {got_kind}/{got_id}, not the {kind}/{id} asked for")]
    WrongSubject {
        /// Asked kind.
        kind: String,
        /// Asked id.
        id: String,
        /// Answered kind.
        got_kind: String,
        /// Answered id.
        got_id: String,
    },
    /// `header_bytes` is not a canonical header.
    #[error("header_bytes is not the canonical encoding of a header: {0}")]
    HeaderDecode(DecodeError),
    /// The JSON header disagrees with `header_bytes`.
    #[error("the JSON header disagrees with header_bytes on `{0}`")]
    HeaderJsonMismatch(String),
    /// The header is for another chain than expected.
    #[error("the header is for chain {got:?}, expected {expected:?}")]
    WrongChain {
        /// Expected chain id.
        expected: String,
        /// The header's chain id.
        got: String,
    },
    /// The header is at another height than asked.
    #[error("the header is at height {got}, expected height {expected}")]
    WrongHeight {
        /// Expected height.
        expected: u64,
        /// The header's height.
        got: u64,
    },
    /// The answer's own `height` field is not the header's.
    #[error("the answer claims height {claimed}, but its header is at height {header}")]
    HeightMismatch {
        /// The answer's `height`.
        claimed: u64,
        /// The header's height.
        header: u64,
    },
    /// `validator_set` is not a canonical validator set.
    #[error("validator_set is not the canonical encoding of a validator set: {0}")]
    ValidatorSetDecode(DecodeError),
    /// The validator set is not the one the header names.
    #[error(
        "the validator set hashes to {actual}, but the header's validator_set_hash is {expected}"
    )]
    ValidatorSetMismatch {
        /// `header.validator_set_hash`.
        expected: Hash,
        /// Hash of the set sent.
        actual: Hash,
    },
    /// The validator set is not the trusted one.
    #[error("the header's validator set {actual} is not the trusted validator set {trusted}")]
    UntrustedValidatorSet {
        /// The trusted hash.
        trusted: Hash,
        /// The header's validator set hash.
        actual: Hash,
    },
    /// `certificate` is not a canonical certificate.
    #[error("certificate is not the canonical encoding of a commit certificate: {0}")]
    CertificateDecode(DecodeError),
    /// The certificate does not commit the header with a quorum of valid signatures.
    #[error("the commit certificate does not commit this header: {0}")]
    Certificate(CertificateError),
    /// The answer's `state_root` is not the header's.
    #[error("the answer's state_root {claimed} is not the header's state_root {header}")]
    StateRootMismatch {
        /// The answer's `state_root`.
        claimed: Hash,
        /// `header.state_root`.
        header: Hash,
    },
    /// The answer's key is not the state key of the kind and id.
    #[error("the answer's key {got} is not the state key {expected} of the record asked for")]
    KeyMismatch {
        /// Hex of the expected key.
        expected: String,
        /// Hex of the answer's key.
        got: String,
    },
    /// `found` and `value_bytes` disagree.
    #[error("the answer says found={found} but {detail}")]
    InconsistentValue {
        /// The answer's `found`.
        found: bool,
        /// What disagrees.
        detail: &'static str,
    },
    /// The proof bytes do not decode.
    #[error("the state proof does not decode: {0}")]
    ProofDecode(StateProofError),
    /// The proof does not prove the claim against the header's state root.
    #[error("the state proof does not prove {claim} against the header's state_root: {source}")]
    Proof {
        /// "the value" or "absence".
        claim: &'static str,
        /// The verifier's reason.
        source: StateProofError,
    },
    /// The verified value bytes are not a record of the kind.
    #[error("value_bytes do not decode as a {kind} record: {detail}")]
    ValueDecode {
        /// The kind.
        kind: String,
        /// The decoder's reason.
        detail: String,
    },
    /// The tx-log answer is for another index than asked.
    #[error("the log answer is for index {got}, not the index {expected} asked for")]
    WrongIndex {
        /// Asked index.
        expected: u64,
        /// Answered index.
        got: u64,
    },
    /// The leaf is not a canonical log record.
    #[error("the log leaf is not the canonical encoding of a tx-log record: {0}")]
    LeafDecode(DecodeError),
    /// The JSON record disagrees with the leaf.
    #[error("the JSON record disagrees with the leaf on `{0}`")]
    RecordMismatch(&'static str),
    /// The inclusion proof does not hold.
    #[error("the inclusion proof does not hold: {0}")]
    Inclusion(LogProofError),
    /// The log root or size is not the header's.
    #[error("the log {what} {claimed} is not the header's {header}")]
    LogHeaderMismatch {
        /// "root" or "size".
        what: &'static str,
        /// The answer's value.
        claimed: String,
        /// The header's value.
        header: String,
    },
}

fn hex_bytes(field: &'static str, s: &str) -> Result<Vec<u8>, VerifyError> {
    hex::decode(s).map_err(|e| VerifyError::Hex {
        field,
        detail: e.to_string(),
    })
}

fn hex_hash(field: &'static str, s: &str) -> Result<Hash, VerifyError> {
    Hash::from_hex(s).map_err(|_| VerifyError::Hex {
        field,
        detail: "expected 64 hex characters".into(),
    })
}

fn required<'a>(field: &'static str, v: &'a Option<String>) -> Result<&'a str, VerifyError> {
    v.as_deref().ok_or(VerifyError::Missing(field))
}

/// What the caller already knows and wants enforced. `Expect::default()` enforces nothing
/// beyond the answer's internal consistency and the header's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    /// The chain the header must belong to.
    pub chain_id: Option<String>,
    /// The height the header must have (the `height` the caller asked for).
    pub height: Option<u64>,
    /// The hash of a validator set the caller trusts (from a genesis file or a waypoint); the
    /// header must name exactly this set.
    pub validator_set_hash: Option<Hash>,
}

/// A header that verified under its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedHeader {
    /// The decoded header.
    pub header: Header,
    /// `header.hash()`.
    pub hash: Hash,
    /// Voting power that signed the certificate.
    pub signing_power: u64,
    /// Total power of the validator set.
    pub total_power: u64,
}

/// Verifies that `certificate` (canonical BCS `CommitCertificate`) commits `header_bytes`
/// (canonical BCS `Header`) with strictly more than 2/3 of the power of `validator_set`
/// (canonical BCS `ValidatorSet`), which must hash to `header.validator_set_hash`.
pub fn verify_header<R: RngCore + CryptoRng>(
    header_bytes: &[u8],
    certificate: &[u8],
    validator_set: &[u8],
    expect: &Expect,
    rng: R,
) -> Result<VerifiedHeader, VerifyError> {
    let header: Header = encoding::from_bytes_limited(header_bytes, MAX_PART_BYTES)
        .map_err(VerifyError::HeaderDecode)?;
    if let Some(chain_id) = &expect.chain_id {
        if &header.chain_id != chain_id {
            return Err(VerifyError::WrongChain {
                expected: chain_id.clone(),
                got: header.chain_id,
            });
        }
    }
    if let Some(height) = expect.height {
        if header.height != height {
            return Err(VerifyError::WrongHeight {
                expected: height,
                got: header.height,
            });
        }
    }
    if let Some(trusted) = expect.validator_set_hash {
        if header.validator_set_hash != trusted {
            return Err(VerifyError::UntrustedValidatorSet {
                trusted,
                actual: header.validator_set_hash,
            });
        }
    }
    let set: ValidatorSet = encoding::from_bytes_limited(validator_set, MAX_PART_BYTES)
        .map_err(VerifyError::ValidatorSetDecode)?;
    let set_hash = set.hash();
    if set_hash != header.validator_set_hash {
        return Err(VerifyError::ValidatorSetMismatch {
            expected: header.validator_set_hash,
            actual: set_hash,
        });
    }
    let cert: CommitCertificate = encoding::from_bytes_limited(certificate, MAX_PART_BYTES)
        .map_err(VerifyError::CertificateDecode)?;
    let hash = header.hash();
    let signing_power = cert
        .verify(&header.chain_id, &set, header.height, &hash, rng)
        .map_err(VerifyError::Certificate)?;
    Ok(VerifiedHeader {
        header,
        hash,
        signing_power,
        total_power: set.total_power(),
    })
}

/// Checks that a JSON header (as the node sends it) has every field of `header` with the same
/// value. Extra fields are allowed.
pub fn check_header_json(header: &Header, json: &serde_json::Value) -> Result<(), VerifyError> {
    let canonical = serde_json::to_value(header)
        .map_err(|e| VerifyError::HeaderJsonMismatch(format!("(cannot render header: {e})")))?;
    let (Some(canonical), Some(given)) = (canonical.as_object(), json.as_object()) else {
        return Err(VerifyError::HeaderJsonMismatch("(not an object)".into()));
    };
    for (field, value) in canonical {
        if given.get(field) != Some(value) {
            return Err(VerifyError::HeaderJsonMismatch(field.clone()));
        }
    }
    Ok(())
}

/// The state key of `kind`/`id`, exactly as the ledger stores it.
///
/// `party` and `department`: a USCC; `validators`: `current`; `proposal`: a decimal id;
/// `nonce`: a signer public key (hex); `raw`: the key itself in hex.
pub fn state_key(kind: &str, id: &str) -> Result<Vec<u8>, VerifyError> {
    kinds::query_key(kind, id).map_err(|e| match e {
        kinds::KindError::UnknownKind(k) => VerifyError::UnknownKind(k),
        kinds::KindError::BadId(detail) | kinds::KindError::BadValue { detail, .. } => {
            VerifyError::BadId {
                kind: kind.into(),
                id: id.into(),
                detail,
            }
        }
    })
}

/// Decodes verified value bytes of `kind` into the record's JSON form (the serde form of the
/// contract types, by the record schema: [`crate::records`]; a `raw` value as hex).
pub fn decode_value(kind: &str, bytes: &[u8]) -> Result<serde_json::Value, VerifyError> {
    crate::records::decode(kind, bytes).map_err(|e| match e {
        crate::records::RecordError::UnknownKind(k) => VerifyError::UnknownKind(k),
        crate::records::RecordError::BadValue(detail) => VerifyError::ValueDecode {
            kind: kind.into(),
            detail,
        },
    })
}

/// The JSON answer of `GET /v1/state/{kind}/{id}?proof=true`, as sent (hex strings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateAnswer {
    /// The kind.
    pub kind: String,
    /// The id.
    pub id: String,
    /// The height the answer is for.
    pub height: u64,
    /// Hex of the state key.
    pub key: String,
    /// Whether the key holds a value.
    pub found: bool,
    /// The record as JSON (a convenience; never trusted).
    #[serde(default)]
    pub value: Option<serde_json::Value>,
    /// Hex of the canonical value bytes (when found).
    #[serde(default)]
    pub value_bytes: Option<String>,
    /// Hex of the `StateProof`.
    #[serde(default)]
    pub proof: Option<String>,
    /// The state root at `height`.
    #[serde(default)]
    pub state_root: Option<String>,
    /// The header as JSON (a convenience, checked against `header_bytes`).
    #[serde(default)]
    pub header: Option<serde_json::Value>,
    /// Hex of the canonical header bytes.
    #[serde(default)]
    pub header_bytes: Option<String>,
    /// Hex of the BCS `CommitCertificate` of the header.
    #[serde(default)]
    pub certificate: Option<String>,
    /// Hex of the BCS `ValidatorSet` that signed it.
    #[serde(default)]
    pub validator_set: Option<String>,
}

/// A state answer that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedState {
    /// The header height the proof is checked against.
    pub height: u64,
    /// The state key.
    pub key: Vec<u8>,
    /// Whether the key holds a value (`false`: its absence is proven).
    pub found: bool,
    /// The proven value bytes (when found).
    pub value_bytes: Option<Vec<u8>>,
    /// The hash of the header.
    pub header_hash: Hash,
    /// The header's state root.
    pub state_root: Hash,
    /// The verified header.
    pub header: VerifiedHeader,
}

/// Verifies an answer of `GET /v1/state/{kind}/{id}?proof=true` for the record `kind`/`id`
/// the caller asked for (see the module docs for the checks).
pub fn verify_state_answer<R: RngCore + CryptoRng>(
    kind: &str,
    id: &str,
    answer: &StateAnswer,
    expect: &Expect,
    rng: R,
) -> Result<VerifiedState, VerifyError> {
    if answer.kind != kind || answer.id != id {
        return Err(VerifyError::WrongSubject {
            kind: kind.into(),
            id: id.into(),
            got_kind: answer.kind.clone(),
            got_id: answer.id.clone(),
        });
    }
    let key = state_key(kind, id)?;
    let answer_key = hex_bytes("key", &answer.key)?;
    if answer_key != key {
        return Err(VerifyError::KeyMismatch {
            expected: hex::encode(&key),
            got: answer.key.clone(),
        });
    }

    let header_bytes = hex_bytes(
        "header_bytes",
        required("header_bytes", &answer.header_bytes)?,
    )?;
    let certificate = hex_bytes("certificate", required("certificate", &answer.certificate)?)?;
    let validator_set = hex_bytes(
        "validator_set",
        required("validator_set", &answer.validator_set)?,
    )?;
    let verified = verify_header(&header_bytes, &certificate, &validator_set, expect, rng)?;
    let header = &verified.header;
    if let Some(json) = &answer.header {
        check_header_json(header, json)?;
    }
    if answer.height != header.height {
        return Err(VerifyError::HeightMismatch {
            claimed: answer.height,
            header: header.height,
        });
    }
    let claimed_root = hex_hash("state_root", required("state_root", &answer.state_root)?)?;
    if claimed_root != header.state_root {
        return Err(VerifyError::StateRootMismatch {
            claimed: claimed_root,
            header: header.state_root,
        });
    }

    let proof_bytes = hex_bytes("proof", required("proof", &answer.proof)?)?;
    let proof = StateProof::from_bytes(&proof_bytes).map_err(VerifyError::ProofDecode)?;
    let value_bytes = match (answer.found, &answer.value_bytes) {
        (true, Some(v)) => {
            let bytes = hex_bytes("value_bytes", v)?;
            state::verify_membership(&header.state_root, &key, &bytes, &proof).map_err(
                |source| VerifyError::Proof {
                    claim: "the value",
                    source,
                },
            )?;
            Some(bytes)
        }
        (true, None) => {
            return Err(VerifyError::InconsistentValue {
                found: true,
                detail: "value_bytes is missing",
            })
        }
        (false, Some(v)) if !v.is_empty() => {
            return Err(VerifyError::InconsistentValue {
                found: false,
                detail: "value_bytes is present",
            })
        }
        (false, _) => {
            state::verify_absence(&header.state_root, &key, &proof).map_err(|source| {
                VerifyError::Proof {
                    claim: "absence",
                    source,
                }
            })?;
            None
        }
    };
    if !answer.found && answer.value.as_ref().is_some_and(|v| !v.is_null()) {
        return Err(VerifyError::InconsistentValue {
            found: false,
            detail: "value is not null",
        });
    }
    if let Some(bytes) = &value_bytes {
        // The value must at least decode as the kind's record; the caller shows this decoding,
        // never the node's JSON `value`.
        decode_value(kind, bytes)?;
    }
    Ok(VerifiedState {
        height: header.height,
        key,
        found: value_bytes.is_some(),
        value_bytes,
        header_hash: verified.hash,
        state_root: header.state_root,
        header: verified,
    })
}

/// The JSON answer of `GET /v1/txlog/{index}`, as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TxLogAnswer {
    /// Leaf index.
    pub index: u64,
    /// Log size the proof is for.
    pub size: u64,
    /// Hex of the canonical `TxLogRecord` bytes.
    pub leaf: String,
    /// The record as JSON (a convenience, checked against `leaf`).
    #[serde(default)]
    pub record: Option<serde_json::Value>,
    /// Audit path, bottom-up, hex hashes.
    pub proof: Vec<String>,
    /// Log root at `size`.
    pub root: String,
}

/// A tx-log answer that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTxLog {
    /// Leaf index.
    pub index: u64,
    /// Log size.
    pub size: u64,
    /// Log root at `size`.
    pub root: Hash,
    /// RFC 9162 leaf hash `SHA-256(0x00 || leaf)`.
    pub leaf_hash: Hash,
    /// The decoded record.
    pub record: TxLogRecord,
}

/// Verifies an answer of `GET /v1/txlog/{index}`: the leaf is leaf `index` of the log of `size`
/// leaves with root `root`. With `expected_index`, the answer must be for that index. With a
/// `header` (verified by the caller, e.g. with [`verify_header`]), `root` and `size` must be
/// the header's `tx_log_root` and `tx_log_size`; without one, the root is only as good as its
/// source.
pub fn verify_txlog_answer(
    answer: &TxLogAnswer,
    expected_index: Option<u64>,
    header: Option<&Header>,
) -> Result<VerifiedTxLog, VerifyError> {
    if let Some(expected) = expected_index {
        if answer.index != expected {
            return Err(VerifyError::WrongIndex {
                expected,
                got: answer.index,
            });
        }
    }
    let leaf = hex_bytes("leaf", &answer.leaf)?;
    let record: TxLogRecord = encoding::from_bytes(&leaf).map_err(VerifyError::LeafDecode)?;
    if let Some(json) = &answer.record {
        check_record_json(&record, json)?;
    }
    let root = hex_hash("root", &answer.root)?;
    if answer.proof.len() > merkle_log::MAX_INCLUSION_PROOF_HASHES {
        return Err(VerifyError::Inclusion(LogProofError::TooManyHashes {
            len: answer.proof.len(),
            max: merkle_log::MAX_INCLUSION_PROOF_HASHES,
        }));
    }
    let hashes = answer
        .proof
        .iter()
        .map(|h| hex_hash("proof", h))
        .collect::<Result<Vec<_>, _>>()?;
    let proof = InclusionProof::new(hashes).map_err(VerifyError::Inclusion)?;
    let leaf_hash = merkle_log::leaf_hash(&leaf);
    merkle_log::verify_inclusion(&leaf_hash, answer.index, answer.size, &proof, &root)
        .map_err(VerifyError::Inclusion)?;
    if let Some(h) = header {
        if h.tx_log_size != answer.size {
            return Err(VerifyError::LogHeaderMismatch {
                what: "size",
                claimed: answer.size.to_string(),
                header: h.tx_log_size.to_string(),
            });
        }
        if h.tx_log_root != root {
            return Err(VerifyError::LogHeaderMismatch {
                what: "root",
                claimed: root.to_hex(),
                header: h.tx_log_root.to_hex(),
            });
        }
    }
    Ok(VerifiedTxLog {
        index: answer.index,
        size: answer.size,
        root,
        leaf_hash,
        record,
    })
}

/// The JSON record must name the leaf's hash, height and code (by its stable name, e.g.
/// `"OK"`, or its serde name, e.g. `"Ok"`).
fn check_record_json(record: &TxLogRecord, json: &serde_json::Value) -> Result<(), VerifyError> {
    if json.get("tx_hash").and_then(|v| v.as_str()) != Some(record.tx_hash.to_hex().as_str()) {
        return Err(VerifyError::RecordMismatch("tx_hash"));
    }
    if json.get("height").and_then(serde_json::Value::as_u64) != Some(record.height) {
        return Err(VerifyError::RecordMismatch("height"));
    }
    let serde_name = serde_json::to_value(record.code).ok();
    let code = json.get("code");
    let stable = code.and_then(|c| c.as_str()) == Some(record.code.as_str());
    if !stable && code != serde_name.as_ref() {
        return Err(VerifyError::RecordMismatch("code"));
    }
    Ok(())
}
